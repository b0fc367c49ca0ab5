# pragma version ~=0.4.3
"""
@title Subscriptions to a device's data topics
@notice A device manager of a device's organisation (organisation registry 0x…4b520010, role
        deviceManager, which admins hold too) offers subscriptions to one of the device's
        topics (bytes32, e.g. keccak256 of an MQTT topic) at a price per period. A subscriber
        pays for whole periods and is entitled until a time: isEntitled(subscriber, device,
        topic) is what gateways and contracts check. Paying again extends from the current end.
        The offerer withdraws its proceeds (pull payment). An offer can be paused; entitlements
        already paid for stay.
"""

interface Devices:
    def getDevice(device: address) -> (uint256, uint8, address, String[256], bytes32, uint256): view

interface Organizations:
    def rolesOf(org: uint256, account: address) -> uint256: view

DEVICES: constant(address) = 0x000000000000000000000000000000004b520011
ORGANIZATIONS: constant(address) = 0x000000000000000000000000000000004B520010
ADMIN: constant(uint256) = 1
DEVICE_MANAGER: constant(uint256) = 32
DEVICE_ACTIVE: constant(uint8) = 1
MAX_PERIODS: constant(uint256) = 1000


struct Offer:
    owner: address
    device: address
    topic: bytes32
    pricePerPeriod: uint256
    period: uint256
    active: bool


event Offered:
    offerId: indexed(uint256)
    owner: indexed(address)
    device: indexed(address)
    topic: bytes32
    pricePerPeriod: uint256
    period: uint256

event OfferActive:
    offerId: indexed(uint256)
    active: bool

event Subscribed:
    offerId: indexed(uint256)
    subscriber: indexed(address)
    periods: uint256
    paid: uint256
    entitledUntil: uint256

event ProceedsWithdrawn:
    owner: indexed(address)
    amount: uint256


offerCount: public(uint256)
offers: public(HashMap[uint256, Offer])
entitledUntil: public(HashMap[address, HashMap[address, HashMap[bytes32, uint256]]])  # subscriber, device, topic
proceeds: public(HashMap[address, uint256])


@external
def offer(device: address, topic: bytes32, pricePerPeriod: uint256, period: uint256) -> uint256:
    """
    @notice Offers subscriptions to a topic of an active device; the caller must be a device
            manager (or admin) of the device's organisation, and is paid the proceeds. An
            unknown device is refused by the device registry ("no device 0x…").
    @param device The device whose data is shared.
    @param topic The topic, e.g. keccak256("kramaa/devices/<device>/temperature").
    @param pricePerPeriod Wei per period.
    @param period The period in seconds.
    @return The offer's id (from 1).
    """
    assert pricePerPeriod > 0, "the price must be above zero"
    assert period > 0, "the period must be at least one second"
    org: uint256 = 0
    status: uint8 = 0
    key: address = empty(address)
    model: String[256] = ""
    firmware: bytes32 = empty(bytes32)
    registeredAt: uint256 = 0
    org, status, key, model, firmware, registeredAt = staticcall Devices(DEVICES).getDevice(device)
    assert status == DEVICE_ACTIVE, "the device is not active"
    roles: uint256 = staticcall Organizations(ORGANIZATIONS).rolesOf(org, msg.sender)
    assert roles & (ADMIN | DEVICE_MANAGER) != 0, "only a device manager of the device's organisation may offer its data"
    offerId: uint256 = self.offerCount + 1
    self.offerCount = offerId
    self.offers[offerId] = Offer(owner=msg.sender, device=device, topic=topic, pricePerPeriod=pricePerPeriod, period=period, active=True)
    log Offered(offerId=offerId, owner=msg.sender, device=device, topic=topic, pricePerPeriod=pricePerPeriod, period=period)
    return offerId


@external
def setActive(offerId: uint256, active: bool):
    """
    @notice The offer's owner pauses or resumes new subscriptions.
    @param offerId The offer.
    @param active Whether new subscriptions are accepted.
    """
    o: Offer = self._offer(offerId)
    assert msg.sender == o.owner, "only the offer's owner may change it"
    self.offers[offerId].active = active
    log OfferActive(offerId=offerId, active=active)


@payable
@external
def subscribe(offerId: uint256, periods: uint256):
    """
    @notice Pays for `periods` periods of the offer's topic; the entitlement starts now, or at
            the end of the current one if it has not ended.
    @param offerId The offer.
    @param periods How many periods (1 to 1000).
    """
    o: Offer = self._offer(offerId)
    assert o.active, "the offer is paused"
    assert periods > 0 and periods <= MAX_PERIODS, "subscribe for 1 to 1000 periods"
    assert msg.value == o.pricePerPeriod * periods, "send exactly the price of the periods"
    start: uint256 = max(block.timestamp, self.entitledUntil[msg.sender][o.device][o.topic])
    until: uint256 = start + o.period * periods
    self.entitledUntil[msg.sender][o.device][o.topic] = until
    self.proceeds[o.owner] += msg.value
    log Subscribed(offerId=offerId, subscriber=msg.sender, periods=periods, paid=msg.value, entitledUntil=until)


@view
@external
def isEntitled(subscriber: address, device: address, topic: bytes32) -> bool:
    """
    @notice Whether `subscriber` has paid for `device`'s `topic` up to now.
    @param subscriber The subscriber's account.
    @param device The device.
    @param topic The topic.
    """
    return self.entitledUntil[subscriber][device][topic] > block.timestamp


@external
@nonreentrant
def withdraw():
    """
    @notice The caller takes its proceeds.
    """
    amount: uint256 = self.proceeds[msg.sender]
    assert amount > 0, "no proceeds to withdraw"
    self.proceeds[msg.sender] = 0
    log ProceedsWithdrawn(owner=msg.sender, amount=amount)
    raw_call(msg.sender, b"", value=amount)


@view
@internal
def _offer(offerId: uint256) -> Offer:
    o: Offer = self.offers[offerId]
    assert o.owner != empty(address), "no such offer"
    return o
