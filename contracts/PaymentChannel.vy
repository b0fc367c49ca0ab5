# pragma version ~=0.4.3
"""
@title Payment channels paid by device-signed vouchers (machine pay-per-use)
@notice A payer opens a channel to a payee with a native-coin deposit, naming the device
        whose key signs vouchers and an expiry. A voucher is a CUMULATIVE amount signed off
        chain by the device; the payee settles the latest voucher it holds and is paid what it
        adds to what was paid before. The payer closes the channel in two steps (startClose,
        then withdraw once the dispute window is over, during which the payee may still
        settle), or takes the whole rest back with refund after the expiry when no close was
        started. Many channels live in one contract, numbered from 1.

        Voucher digest (what the device signs, as is):
        keccak256("kramaa:voucher" ‖ chainId (8 bytes, big-endian) ‖ this contract (20 bytes)
                  ‖ channelId (32 bytes, big-endian) ‖ cumulative (32 bytes, big-endian))
        checked by the device readings system contract's verifyDeviceSignature: the device must
        be registered and active, and the signature made by its current key (P-256 r‖s with low
        s, Ed25519, or secp256k1 r‖s‖v).
"""

interface DeviceReadings:
    def verifyDeviceSignature(device: address, digest: bytes32, signature: Bytes[65]) -> bool: view

# The device readings system contract (docs/SYSTEM-CONTRACTS.md).
DEVICE_READINGS: constant(address) = 0x000000000000000000000000000000004B520018


struct Channel:
    payer: address
    payee: address
    device: address
    deposit: uint256
    paid: uint256
    expiry: uint256
    closesAt: uint256  # 0 while no close was started
    finished: bool  # the rest went back to the payer (withdraw or refund)


event ChannelOpened:
    channelId: indexed(uint256)
    payer: indexed(address)
    payee: indexed(address)
    device: address
    deposit: uint256
    expiry: uint256

event ChannelToppedUp:
    channelId: indexed(uint256)
    amount: uint256
    deposit: uint256

event ChannelSettled:
    channelId: indexed(uint256)
    cumulative: uint256
    amount: uint256

event ChannelCloseStarted:
    channelId: indexed(uint256)
    closesAt: uint256

event ChannelWithdrawn:
    channelId: indexed(uint256)
    amount: uint256

event ChannelRefunded:
    channelId: indexed(uint256)
    amount: uint256


disputeWindow: public(uint256)
channelCount: public(uint256)
channels: public(HashMap[uint256, Channel])


@deploy
def __init__(disputeWindow: uint256):
    """
    @param disputeWindow Seconds between a payer's startClose and the moment it may withdraw;
           the payee may still settle during them.
    """
    assert disputeWindow > 0, "the dispute window must be at least one second"
    self.disputeWindow = disputeWindow


@view
@external
def voucherDigest(channelId: uint256, cumulative: uint256) -> bytes32:
    """
    @notice The digest a device signs to pay `cumulative` in total on channel `channelId`.
    @param channelId The channel.
    @param cumulative The total the payee may have been paid once this voucher is settled.
    """
    return self._digest(channelId, cumulative)


@payable
@external
@nonreentrant
def open(payee: address, device: address, expiry: uint256) -> uint256:
    """
    @notice Opens a channel from the caller (the payer) with the value sent as deposit.
    @param payee Who settles the vouchers and is paid.
    @param device The registered device whose key signs the vouchers.
    @param expiry Unix time after which the payer may refund the rest if no close was started.
    @return The new channel's id.
    """
    assert msg.value > 0, "a channel needs a deposit"
    assert payee != empty(address), "the payee is the zero address"
    assert device != empty(address), "the device is the zero address"
    assert payee != msg.sender, "the payer cannot pay itself"
    assert expiry > block.timestamp, "the expiry must be in the future"
    channelId: uint256 = self.channelCount + 1
    self.channelCount = channelId
    self.channels[channelId] = Channel(payer=msg.sender, payee=payee, device=device, deposit=msg.value, paid=0,
                                       expiry=expiry, closesAt=0, finished=False)
    log ChannelOpened(channelId=channelId, payer=msg.sender, payee=payee, device=device, deposit=msg.value, expiry=expiry)
    return channelId


@payable
@external
@nonreentrant
def topUp(channelId: uint256):
    """
    @notice Adds the value sent to an open channel's deposit (payer only, before any close).
    @param channelId The channel.
    """
    c: Channel = self._channel(channelId)
    assert msg.sender == c.payer, "only the payer may top up"
    assert msg.value > 0, "send a value to top up"
    assert not c.finished, "the channel is closed"
    assert c.closesAt == 0, "a close is under way"
    assert block.timestamp < c.expiry, "the channel has expired"
    self.channels[channelId].deposit = c.deposit + msg.value
    log ChannelToppedUp(channelId=channelId, amount=msg.value, deposit=c.deposit + msg.value)


@external
@nonreentrant
def settle(channelId: uint256, cumulative: uint256, signature: Bytes[65]):
    """
    @notice The payee is paid `cumulative` minus what was paid already, on the device's voucher.
    @dev Allowed until the expiry, or, once a close was started, until the dispute window ends.
    @param channelId The channel.
    @param cumulative The voucher's cumulative amount (at most the deposit, above what was paid).
    @param signature The device's signature of voucherDigest(channelId, cumulative).
    """
    c: Channel = self._channel(channelId)
    assert msg.sender == c.payee, "only the payee may settle"
    assert not c.finished, "the channel is closed: its rest went back to the payer"
    if c.closesAt != 0:
        assert block.timestamp < c.closesAt, "the dispute window is over"
    else:
        assert block.timestamp < c.expiry, "the channel has expired"
    assert cumulative <= c.deposit, "voucher above the deposit"
    assert cumulative > c.paid, "out of order: the voucher does not exceed what was paid"
    ok: bool = staticcall DeviceReadings(DEVICE_READINGS).verifyDeviceSignature(c.device, self._digest(channelId, cumulative), signature)
    assert ok, "invalid voucher: not signed by the channel's device"
    amount: uint256 = cumulative - c.paid
    self.channels[channelId].paid = cumulative
    log ChannelSettled(channelId=channelId, cumulative=cumulative, amount=amount)
    raw_call(c.payee, b"", value=amount)


@external
@nonreentrant
def startClose(channelId: uint256):
    """
    @notice The payer starts closing: the dispute window opens, after which it may withdraw.
    @param channelId The channel.
    """
    c: Channel = self._channel(channelId)
    assert msg.sender == c.payer, "only the payer may close"
    assert not c.finished, "the channel is closed"
    assert c.closesAt == 0, "a close is under way already"
    closesAt: uint256 = block.timestamp + self.disputeWindow
    self.channels[channelId].closesAt = closesAt
    log ChannelCloseStarted(channelId=channelId, closesAt=closesAt)


@external
@nonreentrant
def withdraw(channelId: uint256):
    """
    @notice After the dispute window, the payer takes back what was not paid and the channel ends.
    @param channelId The channel.
    """
    c: Channel = self._channel(channelId)
    assert msg.sender == c.payer, "only the payer may withdraw"
    assert not c.finished, "the channel is closed already"
    assert c.closesAt != 0, "start the close first"
    assert block.timestamp >= c.closesAt, "the dispute window is still open"
    rest: uint256 = c.deposit - c.paid
    self.channels[channelId].finished = True
    log ChannelWithdrawn(channelId=channelId, amount=rest)
    if rest > 0:
        raw_call(c.payer, b"", value=rest)


@external
@nonreentrant
def refund(channelId: uint256):
    """
    @notice After the expiry, with no close started, the payer takes back what was not paid.
    @param channelId The channel.
    """
    c: Channel = self._channel(channelId)
    assert msg.sender == c.payer, "only the payer may refund"
    assert not c.finished, "the channel is closed already"
    assert c.closesAt == 0, "a close is under way: withdraw after the dispute window"
    assert block.timestamp >= c.expiry, "the channel has not expired"
    rest: uint256 = c.deposit - c.paid
    self.channels[channelId].finished = True
    log ChannelRefunded(channelId=channelId, amount=rest)
    if rest > 0:
        raw_call(c.payer, b"", value=rest)


@view
@internal
def _digest(channelId: uint256, cumulative: uint256) -> bytes32:
    return keccak256(concat(b"kramaa:voucher", convert(convert(chain.id, uint64), bytes8), convert(self, bytes20),
                            convert(channelId, bytes32), convert(cumulative, bytes32)))


@view
@internal
def _channel(channelId: uint256) -> Channel:
    c: Channel = self.channels[channelId]
    assert c.payer != empty(address), "no such channel"
    return c
