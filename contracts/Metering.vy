# pragma version ~=0.4.3
"""
@title Pay-per-use metering from a meter device's cumulative readings
@notice A meter device submits signed readings of a cumulative counter (e.g. litres of water)
        to the device readings contract (0x…4b520018). The consumer deposits native coin;
        bill() (anyone may call) charges the supplier (latest value − last billed value) ×
        unitPrice from the deposit. When the deposit does not cover all of it, the units it
        covers are billed and the rest stays billable after a top-up. A reading already billed,
        or older, bills nothing (refused), and a counter that goes backwards is refused. The
        baseline is the meter's latest reading when the agreement is deployed (0 if none).
        Either party may close: a notice period follows during which bill() still works; after
        it the consumer withdraws what is left.
"""

interface DeviceReadings:
    def latestReading(device: address, kind: bytes32) -> (int256, uint64, uint64, uint256): view

DEVICE_READINGS: constant(address) = 0x000000000000000000000000000000004B520018

supplier: public(address)
consumer: public(address)
meter: public(address)
kind: public(bytes32)
unitPrice: public(uint256)
noticePeriod: public(uint256)
deposit: public(uint256)
lastValue: public(int256)
lastSequence: public(uint64)
billed: public(uint256)
closesAt: public(uint256)
withdrawn: public(bool)


event Deposited:
    consumer: indexed(address)
    amount: uint256
    deposit: uint256

event Billed:
    sequence: indexed(uint64)
    units: uint256
    amount: uint256
    value: int256

event Closing:
    by: indexed(address)
    closesAt: uint256

event Withdrawn:
    consumer: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(supplier: address, consumer: address, meter: address, kind: bytes32, unitPrice: uint256, noticePeriod: uint256):
    """
    @notice The value sent (if any) is the consumer's first deposit.
    @param supplier Who is paid for the consumption.
    @param consumer Who deposits and withdraws what is not consumed.
    @param meter The registered meter device.
    @param kind The reading kind of the cumulative counter, e.g. keccak256("water.litres").
    @param unitPrice Wei per unit of the counter.
    @param noticePeriod Seconds between a close and the consumer's withdrawal, for the last bills.
    """
    assert supplier != empty(address) and consumer != empty(address) and meter != empty(address), "supplier, consumer and meter must be named"
    assert supplier != consumer, "the supplier cannot be the consumer"
    assert unitPrice > 0, "the unit price must be above zero"
    value: int256 = 0
    observedAt: uint64 = 0
    sequence: uint64 = 0
    accepted: uint256 = 0
    value, observedAt, sequence, accepted = staticcall DeviceReadings(DEVICE_READINGS).latestReading(meter, kind)
    self.supplier = supplier
    self.consumer = consumer
    self.meter = meter
    self.kind = kind
    self.unitPrice = unitPrice
    self.noticePeriod = noticePeriod
    self.lastValue = value
    self.lastSequence = sequence
    self.deposit = msg.value
    if msg.value > 0:
        log Deposited(consumer=msg.sender, amount=msg.value, deposit=msg.value)


@payable
@external
@nonreentrant
def topUp():
    """
    @notice The consumer adds the value sent to the deposit (not once closing).
    """
    assert msg.sender == self.consumer, "only the consumer deposits"
    assert msg.value > 0, "send a value to deposit"
    assert self.closesAt == 0, "the agreement is closing"
    self.deposit += msg.value
    log Deposited(consumer=msg.sender, amount=msg.value, deposit=self.deposit)


@external
@nonreentrant
def bill():
    """
    @notice Pays the supplier for the units the meter counted since the last bill, from the
            deposit (as many as it covers). Anyone may call, until the notice period ends.
    """
    assert not self.withdrawn, "the agreement is closed"
    if self.closesAt != 0:
        assert block.timestamp < self.closesAt, "the notice period is over"
    value: int256 = 0
    observedAt: uint64 = 0
    sequence: uint64 = 0
    accepted: uint256 = 0
    value, observedAt, sequence, accepted = staticcall DeviceReadings(DEVICE_READINGS).latestReading(self.meter, self.kind)
    assert accepted != 0, "the meter has no reading yet"
    assert sequence >= self.lastSequence, "the reading is older than the last billed"
    assert value >= self.lastValue, "the meter's counter went backwards"
    assert value > self.lastValue, "nothing to bill: the latest reading was billed already"
    units: uint256 = min(convert(value - self.lastValue, uint256), self.deposit // self.unitPrice)
    assert units > 0, "the deposit does not cover one unit: the consumer must top up"
    amount: uint256 = units * self.unitPrice
    self.deposit -= amount
    self.billed += amount
    self.lastValue += convert(units, int256)
    self.lastSequence = sequence
    log Billed(sequence=sequence, units=units, amount=amount, value=value)
    raw_call(self.supplier, b"", value=amount)


@external
@nonreentrant
def close():
    """
    @notice The consumer or the supplier closes: the notice period starts.
    """
    assert msg.sender == self.consumer or msg.sender == self.supplier, "only the consumer or the supplier may close"
    assert self.closesAt == 0, "closing already"
    closesAt: uint256 = block.timestamp + self.noticePeriod
    self.closesAt = closesAt
    log Closing(by=msg.sender, closesAt=closesAt)


@external
@nonreentrant
def withdraw():
    """
    @notice After the notice period, the consumer takes back what is left of the deposit.
    """
    assert msg.sender == self.consumer, "only the consumer may withdraw"
    assert self.closesAt != 0, "close the agreement first"
    assert block.timestamp >= self.closesAt, "the notice period is not over"
    assert not self.withdrawn, "withdrawn already"
    amount: uint256 = self.deposit
    self.withdrawn = True
    self.deposit = 0
    log Withdrawn(consumer=msg.sender, amount=amount)
    if amount > 0:
        raw_call(msg.sender, b"", value=amount)
