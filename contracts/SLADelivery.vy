# pragma version ~=0.4.3
"""
@title A delivery with SLA penalties from a logger device's readings (cold chain)
@notice The payer (the deployer) escrows the price of carrying an asset to a receiver. A logger
        device travels with it and submits signed readings of one kind (e.g.
        keccak256("temperature.c10"), tenths of °C) to the device readings contract
        (0x…4b520018). While the asset is on its way, anyone may report() a breach: the
        logger's latest reading, accepted after this contract's creation and observed after
        it, outside [minValue, maxValue]. Each distinct breach (a new sequence number) costs
        the carrier `penalty`, in total at most `penaltyCap`. When the receiver holds the asset
        (asset registry custody, e.g. after its receiving event), anyone may settle: the
        carrier gets price − penalties, the receiver the penalties. If the asset has not
        reached the receiver by the deadline, anyone may refund the whole price to the payer.

        Only the latest reading can be reported (no history is kept on chain), so a watcher
        reports a breach while it is the latest; reports stop once the receiver holds the asset.
        A payout a recipient refuses (a contract that reverts) is kept for it to claim().
"""

interface Assets:
    def getAsset(tokenId: uint256) -> (String[128], uint256, address, address, bytes32, uint8, uint256): view

interface DeviceReadings:
    def latestReading(device: address, kind: bytes32) -> (int256, uint64, uint64, uint256): view

ASSETS: constant(address) = 0x000000000000000000000000000000004B520012
DEVICE_READINGS: constant(address) = 0x000000000000000000000000000000004B520018

payer: public(address)
carrier: public(address)
receiver: public(address)
asset: public(uint256)
logger: public(address)
kind: public(bytes32)
minValue: public(int256)
maxValue: public(int256)
penalty: public(uint256)
penaltyCap: public(uint256)
price: public(uint256)
deadline: public(uint256)
startedAt: public(uint256)
startBlock: public(uint256)
penalties: public(uint256)
breaches: public(uint256)
lastBreachSequence: public(uint64)
settled: public(bool)
refunded: public(bool)
owed: public(HashMap[address, uint256])


event BreachReported:
    sequence: indexed(uint64)
    value: int256
    observedAt: uint64
    penalty: uint256
    penalties: uint256

event Settled:
    carrierAmount: uint256
    receiverAmount: uint256

event Refunded:
    payer: indexed(address)
    amount: uint256

event PaymentKept:
    recipient: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(carrier: address, receiver: address, asset: uint256, logger: address, kind: bytes32,
             minValue: int256, maxValue: int256, penalty: uint256, penaltyCap: uint256, deadline: uint256):
    """
    @notice The value sent is the price; the deployer is the payer (refunded after the deadline).
    @param carrier Who carries the asset and is paid price − penalties.
    @param receiver Who must end up holding the asset; receives the penalties.
    @param asset The asset registry token id of what is carried.
    @param logger The registered device whose readings count.
    @param kind The reading kind, e.g. keccak256("temperature.c10").
    @param minValue The lowest value within the SLA.
    @param maxValue The highest value within the SLA.
    @param penalty What each distinct breach costs the carrier, in wei.
    @param penaltyCap The most all breaches together cost, at most the price.
    @param deadline Unix time by which the receiver must hold the asset.
    """
    assert msg.value > 0, "send the price"
    assert carrier != empty(address) and receiver != empty(address) and logger != empty(address), "carrier, receiver and logger must be named"
    assert carrier != receiver, "the carrier cannot be the receiver"
    assert minValue <= maxValue, "minValue is above maxValue"
    assert penaltyCap <= msg.value, "the penalty cap is above the price"
    assert deadline > block.timestamp, "the deadline must be in the future"
    custodian: address = (staticcall Assets(ASSETS).getAsset(asset))[3]
    assert custodian != receiver, "the receiver holds the asset already"
    self.payer = msg.sender
    self.carrier = carrier
    self.receiver = receiver
    self.asset = asset
    self.logger = logger
    self.kind = kind
    self.minValue = minValue
    self.maxValue = maxValue
    self.penalty = penalty
    self.penaltyCap = penaltyCap
    self.price = msg.value
    self.deadline = deadline
    self.startedAt = block.timestamp
    self.startBlock = block.number


@external
@nonreentrant
def report():
    """
    @notice Records the logger's latest reading as a breach if it is out of bounds, new (a
            sequence not reported before), from this delivery, and the asset not yet delivered.
            Anyone may call.
    """
    assert not self.settled and not self.refunded, "the delivery is settled"
    assert block.timestamp <= self.deadline, "the deadline has passed"
    custodian: address = (staticcall Assets(ASSETS).getAsset(self.asset))[3]
    assert custodian != self.receiver, "delivered: the delivery window is over"
    value: int256 = 0
    observedAt: uint64 = 0
    sequence: uint64 = 0
    accepted: uint256 = 0
    value, observedAt, sequence, accepted = staticcall DeviceReadings(DEVICE_READINGS).latestReading(self.logger, self.kind)
    assert accepted > self.startBlock, "no reading from the logger since the delivery started"
    assert convert(observedAt, uint256) >= self.startedAt, "the reading was observed before the delivery started"
    assert self.breaches == 0 or sequence > self.lastBreachSequence, "this breach was reported already"
    assert value < self.minValue or value > self.maxValue, "the latest reading is within bounds: no breach"
    assert self.penalties < self.penaltyCap, "the penalty cap is reached"
    charged: uint256 = min(self.penalty, self.penaltyCap - self.penalties)
    self.penalties += charged
    self.breaches += 1
    self.lastBreachSequence = sequence
    log BreachReported(sequence=sequence, value=value, observedAt=observedAt, penalty=charged, penalties=self.penalties)


@external
@nonreentrant
def settle():
    """
    @notice Once the receiver holds the asset, up to the deadline: the carrier gets the price
            less the penalties, the receiver the penalties. Anyone may call.
    """
    assert not self.settled, "settled already"
    assert not self.refunded, "refunded already"
    assert block.timestamp <= self.deadline, "the deadline has passed: only a refund is possible"
    custodian: address = (staticcall Assets(ASSETS).getAsset(self.asset))[3]
    assert custodian == self.receiver, "not delivered: the receiver does not hold the asset"
    self.settled = True
    toCarrier: uint256 = self.price - self.penalties
    log Settled(carrierAmount=toCarrier, receiverAmount=self.penalties)
    self._pay(self.carrier, toCarrier)
    self._pay(self.receiver, self.penalties)


@external
@nonreentrant
def refund():
    """
    @notice After the deadline, if not settled: the whole price back to the payer. Anyone may call.
    """
    assert not self.settled, "settled already"
    assert not self.refunded, "refunded already"
    assert block.timestamp > self.deadline, "the deadline has not passed"
    self.refunded = True
    log Refunded(payer=self.payer, amount=self.price)
    self._pay(self.payer, self.price)


@external
@nonreentrant
def claim():
    """
    @notice Takes a payout that could not be sent when the delivery was settled or refunded.
    """
    amount: uint256 = self.owed[msg.sender]
    assert amount > 0, "nothing is owed to the caller"
    self.owed[msg.sender] = 0
    raw_call(msg.sender, b"", value=amount)


@internal
def _pay(recipient: address, amount: uint256):
    """Sends `amount`; if the recipient refuses it, keeps it for claim() so that nobody can
    block the other party's payout."""
    if amount == 0:
        return
    if not raw_call(recipient, b"", value=amount, revert_on_failure=False):
        self.owed[recipient] += amount
        log PaymentKept(recipient=recipient, amount=amount)
