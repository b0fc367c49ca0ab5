# pragma version ~=0.4.3
"""
@title Reading threshold
@notice Acts on one device's readings of one kind, trusted through Kramaa's device readings
        system contract (0x...4b520018, docs/DEVICES.md): the device's signature is checked
        there against the device registry, so this contract trusts only what that contract
        accepted. A reading above the threshold raises the alarm.
"""

# Vyper reserves `value` as a parameter name, so the int256 is called `reading` here; names are
# not part of the ABI (the selectors are those of docs/DEVICES.md).
interface DeviceReadings:
    def verifyDeviceSignature(device: address, digest: bytes32, signature: Bytes[65]) -> bool: view
    def readingDigest(device: address, kind: bytes32, reading: int256, observedAt: uint64, sequence: uint64) -> bytes32: view
    def submitReading(device: address, kind: bytes32, reading: int256, observedAt: uint64, sequence: uint64, signature: Bytes[65]): nonpayable
    def latestReading(device: address, kind: bytes32) -> (int256, uint64, uint64, uint256): view

READINGS: constant(DeviceReadings) = DeviceReadings(0x000000000000000000000000000000004B520018)

device: public(address)
kind: public(bytes32)
threshold: public(int256)
alarmed: public(bool)

event Alarm:
    device: indexed(address)
    value: int256
    sequence: uint64


@deploy
def __init__(device: address, kind: bytes32, threshold: int256):
    self.device = device
    self.kind = kind
    self.threshold = threshold


@external
def relay(reading: int256, observedAt: uint64, sequence: uint64, signature: Bytes[65]):
    """
    @notice Submits the device's signed reading (reverting with the readings contract's reason
            when it refuses it), then checks the threshold against what it accepted.
    """
    extcall READINGS.submitReading(self.device, self.kind, reading, observedAt, sequence, signature)
    self._check()


@external
def check():
    """@notice Checks the threshold against the latest accepted reading (submitted by anyone)."""
    self._check()


@internal
def _check():
    value: int256 = 0
    observed_at: uint64 = 0
    sequence: uint64 = 0
    accepted_at: uint256 = 0
    value, observed_at, sequence, accepted_at = staticcall READINGS.latestReading(self.device, self.kind)
    assert accepted_at != 0, "no reading yet"
    if value > self.threshold and not self.alarmed:
        self.alarmed = True
        log Alarm(device=self.device, value=value, sequence=sequence)


@view
@external
def latest() -> (int256, uint64, uint64, uint256):
    """@notice The latest accepted reading: value, observedAt, sequence, accepting block."""
    return staticcall READINGS.latestReading(self.device, self.kind)


@view
@external
def digestOf(reading: int256, observedAt: uint64, sequence: uint64) -> bytes32:
    """@notice The digest the device signs for a reading of this contract's kind."""
    return staticcall READINGS.readingDigest(self.device, self.kind, reading, observedAt, sequence)


@view
@external
def signedByDevice(digest: bytes32, signature: Bytes[65]) -> bool:
    """@notice Whether the device (active, its current key) signed `digest`."""
    return staticcall READINGS.verifyDeviceSignature(self.device, digest, signature)
