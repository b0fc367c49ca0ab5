# pragma version ~=0.4.3
"""
@title An escrow released by a verified on-chain event, refunded after a deadline
@notice The buyer's deposit (native coin, sent at creation or with fund) goes to the seller
        when the condition holds by the deadline, and back to the buyer after it otherwise.
        One escrow per deployment. The condition is one of:
          1 CUSTODY: the asset registry (0x…4b520012) names the buyer as the asset's custodian
            (a receiving EPCIS event captured by the buyer moves custody on chain);
          2 READING_AT_LEAST: the device's latest reading of `kind` (device readings contract
            0x…4b520018) was accepted in a block after this escrow's creation and its value is
            at least `threshold`;
          3 READING_AT_MOST: the same with a value at most `threshold`.
        release() and refund() may be called by anyone; the money only goes to the seller or the
        buyer. The deadline is strict: release only up to it, refund only after it.
"""

interface Assets:
    def getAsset(tokenId: uint256) -> (String[128], uint256, address, address, bytes32, uint8, uint256): view

interface DeviceReadings:
    def latestReading(device: address, kind: bytes32) -> (int256, uint64, uint64, uint256): view

ASSETS: constant(address) = 0x000000000000000000000000000000004B520012
DEVICE_READINGS: constant(address) = 0x000000000000000000000000000000004B520018

CUSTODY: constant(uint8) = 1
READING_AT_LEAST: constant(uint8) = 2
READING_AT_MOST: constant(uint8) = 3

buyer: public(address)
seller: public(address)
amount: public(uint256)
deadline: public(uint256)
condition: public(uint8)
asset: public(uint256)
device: public(address)
kind: public(bytes32)
threshold: public(int256)
createdBlock: public(uint256)
funded: public(bool)
released: public(bool)
refunded: public(bool)


event Funded:
    buyer: indexed(address)
    amount: uint256

event Released:
    seller: indexed(address)
    amount: uint256

event Refunded:
    buyer: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(buyer: address, seller: address, amount: uint256, deadline: uint256, condition: uint8,
             asset: uint256, device: address, kind: bytes32, threshold: int256):
    """
    @param buyer Who deposits and is refunded after the deadline.
    @param seller Who is paid when the condition holds.
    @param amount The deposit in wei: send it now (only the buyer may) or later with fund().
    @param deadline Unix time up to which release is possible, after which refund is.
    @param condition 1 custody of `asset` at the buyer; 2 reading ≥ threshold; 3 reading ≤ threshold.
    @param asset The asset registry token id (condition 1; else 0).
    @param device The device whose readings count (conditions 2 and 3; else the zero address).
    @param kind The reading kind, e.g. keccak256("temperature.c10") (conditions 2 and 3).
    @param threshold The bound the latest reading's value is compared with (conditions 2 and 3).
    """
    assert buyer != empty(address) and seller != empty(address), "buyer and seller must be named"
    assert buyer != seller, "the buyer cannot be the seller"
    assert amount > 0, "the amount must be above zero"
    assert deadline > block.timestamp, "the deadline must be in the future"
    assert condition >= CUSTODY and condition <= READING_AT_MOST, "condition must be 1 custody, 2 reading at least or 3 reading at most"
    if condition == CUSTODY:
        custodian: address = (staticcall Assets(ASSETS).getAsset(asset))[3]
        assert custodian != buyer, "the buyer holds the asset already"
    else:
        assert device != empty(address), "a reading condition needs a device"
    if msg.value > 0:
        assert msg.sender == buyer, "only the buyer deposits"
        assert msg.value == amount, "deposit exactly the amount, or nothing and fund later"
        self.funded = True
        log Funded(buyer=buyer, amount=amount)
    self.buyer = buyer
    self.seller = seller
    self.amount = amount
    self.deadline = deadline
    self.condition = condition
    self.asset = asset
    self.device = device
    self.kind = kind
    self.threshold = threshold
    self.createdBlock = block.number


@payable
@external
@nonreentrant
def fund():
    """
    @notice The buyer deposits the amount (exactly), once, before the deadline.
    """
    assert msg.sender == self.buyer, "only the buyer deposits"
    assert not self.funded, "funded already"
    assert block.timestamp <= self.deadline, "the deadline has passed"
    assert msg.value == self.amount, "deposit exactly the amount"
    self.funded = True
    log Funded(buyer=msg.sender, amount=msg.value)


@view
@external
def conditionHolds() -> bool:
    """
    @notice Whether the condition holds now (ignores funding and the deadline).
    """
    return self._failure() == ""


@external
@nonreentrant
def release():
    """
    @notice Pays the seller once the condition holds, up to the deadline. Anyone may call.
    """
    assert not self.released, "released already"
    assert not self.refunded, "refunded already"
    assert self.funded, "not funded yet"
    assert block.timestamp <= self.deadline, "the deadline has passed: only a refund is possible"
    failure: String[80] = self._failure()
    assert failure == "", failure
    self.released = True
    log Released(seller=self.seller, amount=self.amount)
    raw_call(self.seller, b"", value=self.amount)


@external
@nonreentrant
def refund():
    """
    @notice Gives the deposit back to the buyer after the deadline if not released. Anyone may call.
    """
    assert not self.released, "released already"
    assert not self.refunded, "refunded already"
    assert self.funded, "nothing to refund: never funded"
    assert block.timestamp > self.deadline, "the deadline has not passed"
    self.refunded = True
    log Refunded(buyer=self.buyer, amount=self.amount)
    raw_call(self.buyer, b"", value=self.amount)


@view
@internal
def _failure() -> String[80]:
    """Why the condition does not hold, or "" when it does."""
    if self.condition == CUSTODY:
        custodian: address = (staticcall Assets(ASSETS).getAsset(self.asset))[3]
        if custodian != self.buyer:
            return "condition not met: the asset is not in the buyer's custody"
        return ""
    value: int256 = 0
    observedAt: uint64 = 0
    sequence: uint64 = 0
    accepted: uint256 = 0
    value, observedAt, sequence, accepted = staticcall DeviceReadings(DEVICE_READINGS).latestReading(self.device, self.kind)
    if accepted <= self.createdBlock:
        return "condition not met: no reading since the escrow was created"
    if self.condition == READING_AT_LEAST and value < self.threshold:
        return "condition not met: the latest reading is below the threshold"
    if self.condition == READING_AT_MOST and value > self.threshold:
        return "condition not met: the latest reading is above the threshold"
    return ""
