# pragma version ~=0.4.3
"""
@title Orders of parts or repairs placed by machines under a supply agreement
@notice The buyer (an organisation's account) deploys the agreement with a supplier: the
        supplier's account (paid), the supplier's device that must accept each order, a
        catalogue of items with prices (fixed for the agreement's life), and two windows.
        Machines the buyer allows (device accounts sending device transactions, or any
        account) order an item, paying its price into escrow. The supplier's device accepts
        the order, naming the asset it will deliver (or 0 when delivery is confirmed by hand).
        The supplier is paid when the delivery condition holds: custody of the named asset at
        the buyer or the ordering machine (release, anyone), or the buyer or the machine
        confirming receipt. The buyer is refunded (anyone may call refund) when the order was
        not accepted within the accept window, or not delivered within the delivery window
        after acceptance, or when the supplier declines it.
"""

interface Assets:
    def getAsset(tokenId: uint256) -> (String[128], uint256, address, address, bytes32, uint8, uint256): view

ASSETS: constant(address) = 0x000000000000000000000000000000004B520012
MAX_ITEMS: constant(uint256) = 32

PLACED: constant(uint8) = 1
ACCEPTED: constant(uint8) = 2
DELIVERED: constant(uint8) = 3
REFUNDED: constant(uint8) = 4


struct Order:
    machine: address
    item: bytes32
    price: uint256
    placedAt: uint256
    acceptedAt: uint256
    asset: uint256
    state: uint8


event MachineAllowed:
    machine: indexed(address)
    allowed: bool

event OrderPlaced:
    orderId: indexed(uint256)
    machine: indexed(address)
    item: indexed(bytes32)
    price: uint256

event OrderAccepted:
    orderId: indexed(uint256)
    asset: uint256

event OrderDelivered:
    orderId: indexed(uint256)
    supplier: indexed(address)
    amount: uint256

event OrderRefunded:
    orderId: indexed(uint256)
    buyer: indexed(address)
    amount: uint256


buyer: public(address)
supplier: public(address)
supplierDevice: public(address)
acceptWindow: public(uint256)
deliveryWindow: public(uint256)
priceOf: public(HashMap[bytes32, uint256])
machineAllowed: public(HashMap[address, bool])
orderCount: public(uint256)
orders: public(HashMap[uint256, Order])


@deploy
def __init__(supplier: address, supplierDevice: address, items: DynArray[bytes32, MAX_ITEMS],
             prices: DynArray[uint256, MAX_ITEMS], acceptWindow: uint256, deliveryWindow: uint256):
    """
    @param supplier The supplier's account, paid on delivery. The deployer is the buyer.
    @param supplierDevice The supplier's device (its account) that accepts orders.
    @param items Catalogue item ids (e.g. keccak256 of a part number), at most 32, distinct.
    @param prices The price in wei of each item, in the same order, each above zero.
    @param acceptWindow Seconds from an order during which the supplier's device may accept it.
    @param deliveryWindow Seconds from acceptance during which delivery releases the payment.
    """
    assert supplier != empty(address) and supplierDevice != empty(address), "supplier and its device must be named"
    assert supplier != msg.sender, "the buyer cannot be the supplier"
    assert len(items) > 0, "the catalogue is empty"
    assert len(items) == len(prices), "one price per item"
    assert acceptWindow > 0 and deliveryWindow > 0, "the windows must be at least one second"
    for i: uint256 in range(MAX_ITEMS):
        if i >= len(items):
            break
        assert prices[i] > 0, "every price must be above zero"
        assert self.priceOf[items[i]] == 0, "an item is listed twice"
        self.priceOf[items[i]] = prices[i]
    self.buyer = msg.sender
    self.supplier = supplier
    self.supplierDevice = supplierDevice
    self.acceptWindow = acceptWindow
    self.deliveryWindow = deliveryWindow


@external
def setMachine(machine: address, allowed: bool):
    """
    @notice The buyer allows (or stops allowing) a machine to order.
    @param machine The machine's account (a device's address for device transactions).
    @param allowed Whether it may order.
    """
    assert msg.sender == self.buyer, "only the buyer may allow machines"
    self.machineAllowed[machine] = allowed
    log MachineAllowed(machine=machine, allowed=allowed)


@payable
@external
@nonreentrant
def order(item: bytes32) -> uint256:
    """
    @notice An allowed machine orders a catalogue item, paying exactly its price into escrow.
    @param item The catalogue item id.
    @return The order's id (from 1).
    """
    assert self.machineAllowed[msg.sender], "not a machine the buyer allows to order"
    price: uint256 = self.priceOf[item]
    assert price > 0, "not in the catalogue"
    assert msg.value == price, "send exactly the item's price"
    orderId: uint256 = self.orderCount + 1
    self.orderCount = orderId
    self.orders[orderId] = Order(machine=msg.sender, item=item, price=price, placedAt=block.timestamp, acceptedAt=0,
                                 asset=0, state=PLACED)
    log OrderPlaced(orderId=orderId, machine=msg.sender, item=item, price=price)
    return orderId


@external
@nonreentrant
def accept(orderId: uint256, asset: uint256):
    """
    @notice The supplier's device accepts an order within the accept window.
    @param orderId The order.
    @param asset The asset registry token id that will be delivered (its custody reaching the
           buyer or the machine releases the payment), or 0 for delivery confirmed by hand.
    """
    o: Order = self._order(orderId)
    assert msg.sender == self.supplierDevice, "only the supplier's device may accept"
    assert o.state == PLACED, "not awaiting acceptance"
    assert block.timestamp <= o.placedAt + self.acceptWindow, "too late to accept: the accept window is over"
    if asset != 0:
        custodian: address = (staticcall Assets(ASSETS).getAsset(asset))[3]  # reverts for an unknown asset
        assert custodian != self.buyer and custodian != o.machine, "the buyer holds that asset already"
    self.orders[orderId].acceptedAt = block.timestamp
    self.orders[orderId].asset = asset
    self.orders[orderId].state = ACCEPTED
    log OrderAccepted(orderId=orderId, asset=asset)


@external
@nonreentrant
def decline(orderId: uint256):
    """
    @notice The supplier (or its device) declines an order not yet accepted: the buyer is refunded.
    @param orderId The order.
    """
    o: Order = self._order(orderId)
    assert msg.sender == self.supplier or msg.sender == self.supplierDevice, "only the supplier may decline"
    assert o.state == PLACED, "not awaiting acceptance"
    self._refund(orderId, o.price)


@external
@nonreentrant
def release(orderId: uint256):
    """
    @notice Pays the supplier once the order's asset is in the custody of the buyer or the
            ordering machine, within the delivery window. Anyone may call.
    @param orderId The order.
    """
    o: Order = self._order(orderId)
    assert o.state == ACCEPTED, "not awaiting delivery"
    assert o.asset != 0, "no asset tracks this order: the buyer or the machine confirms receipt"
    assert block.timestamp <= o.acceptedAt + self.deliveryWindow, "the delivery window is over: only a refund is possible"
    custodian: address = (staticcall Assets(ASSETS).getAsset(o.asset))[3]
    assert custodian == self.buyer or custodian == o.machine, "not delivered: the buyer does not hold the asset"
    self._deliver(orderId, o.price)


@external
@nonreentrant
def confirmReceipt(orderId: uint256):
    """
    @notice The buyer or the ordering machine confirms receipt of an accepted order: the supplier is paid.
    @param orderId The order.
    """
    o: Order = self._order(orderId)
    assert msg.sender == self.buyer or msg.sender == o.machine, "only the buyer or the ordering machine may confirm receipt"
    assert o.state == ACCEPTED, "not awaiting delivery"
    self._deliver(orderId, o.price)


@external
@nonreentrant
def refund(orderId: uint256):
    """
    @notice Refunds the buyer for an order not accepted within the accept window, or not
            delivered within the delivery window. Anyone may call.
    @param orderId The order.
    """
    o: Order = self._order(orderId)
    if o.state == PLACED:
        assert block.timestamp > o.placedAt + self.acceptWindow, "the accept window is still open"
    elif o.state == ACCEPTED:
        assert block.timestamp > o.acceptedAt + self.deliveryWindow, "the delivery window is still open"
    else:
        raise "the order is settled already"
    self._refund(orderId, o.price)


@internal
def _deliver(orderId: uint256, amount: uint256):
    self.orders[orderId].state = DELIVERED
    log OrderDelivered(orderId=orderId, supplier=self.supplier, amount=amount)
    raw_call(self.supplier, b"", value=amount)


@internal
def _refund(orderId: uint256, amount: uint256):
    self.orders[orderId].state = REFUNDED
    log OrderRefunded(orderId=orderId, buyer=self.buyer, amount=amount)
    raw_call(self.buyer, b"", value=amount)


@view
@internal
def _order(orderId: uint256) -> Order:
    o: Order = self.orders[orderId]
    assert o.machine != empty(address), "no such order"
    return o
