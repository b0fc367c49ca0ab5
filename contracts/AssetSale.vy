# pragma version ~=0.4.3
"""
@title Escrowed sales of registered assets (e-commerce)
@notice A seller lists an asset token of the asset registry (0x…4b520012) at a price: the
        token itself moves into this contract (approve it first). A buyer pays the price into
        escrow, which starts the delivery window. When the buyer's receiving event lands (the
        registry names the buyer as custodian), anyone may complete the sale: the token goes to
        the buyer and the price to the seller. If the buyer has not received the asset by the
        deadline, anyone may refund: the price goes back to the buyer and the token to the
        seller. An unsold listing may be cancelled by its seller. Many listings per contract,
        numbered from 1.

        Same custody rule as ConditionalEscrow's condition 1, kept in this file so that the
        template stands alone.
"""

interface Assets:
    def getAsset(tokenId: uint256) -> (String[128], uint256, address, address, bytes32, uint8, uint256): view
    def ownerOf(tokenId: uint256) -> address: view
    def transferFrom(owner: address, receiver: address, tokenId: uint256): nonpayable

ASSETS: constant(address) = 0x000000000000000000000000000000004B520012

LISTED: constant(uint8) = 1
PAID: constant(uint8) = 2
COMPLETED: constant(uint8) = 3
REFUNDED: constant(uint8) = 4
CANCELLED: constant(uint8) = 5


struct Listing:
    seller: address
    tokenId: uint256
    price: uint256
    deliveryWindow: uint256
    buyer: address
    deadline: uint256
    state: uint8


event Listed:
    listingId: indexed(uint256)
    seller: indexed(address)
    tokenId: indexed(uint256)
    price: uint256
    deliveryWindow: uint256

event Bought:
    listingId: indexed(uint256)
    buyer: indexed(address)
    deadline: uint256

event Completed:
    listingId: indexed(uint256)
    buyer: indexed(address)
    seller: indexed(address)
    price: uint256

event Refunded:
    listingId: indexed(uint256)
    buyer: indexed(address)
    price: uint256

event Cancelled:
    listingId: indexed(uint256)


listingCount: public(uint256)
listings: public(HashMap[uint256, Listing])


@external
@nonreentrant
def list(tokenId: uint256, price: uint256, deliveryWindow: uint256) -> uint256:
    """
    @notice Lists an asset the caller owns; the token moves into this contract until the sale
            completes (to the buyer) or is refunded or cancelled (back to the seller).
    @param tokenId The asset registry token id; approve this contract for it first.
    @param price The price in wei.
    @param deliveryWindow Seconds the buyer has, from paying, to receive the asset.
    @return The listing's id.
    """
    assert price > 0, "the price must be above zero"
    assert deliveryWindow > 0, "the delivery window must be at least one second"
    assert staticcall Assets(ASSETS).ownerOf(tokenId) == msg.sender, "only the asset's owner may list it"
    listingId: uint256 = self.listingCount + 1
    self.listingCount = listingId
    self.listings[listingId] = Listing(seller=msg.sender, tokenId=tokenId, price=price, deliveryWindow=deliveryWindow,
                                       buyer=empty(address), deadline=0, state=LISTED)
    log Listed(listingId=listingId, seller=msg.sender, tokenId=tokenId, price=price, deliveryWindow=deliveryWindow)
    extcall Assets(ASSETS).transferFrom(msg.sender, self, tokenId)
    return listingId


@payable
@external
@nonreentrant
def buy(listingId: uint256):
    """
    @notice Pays the listing's price into escrow; the delivery window starts now.
    @param listingId The listing.
    """
    s: Listing = self._listing(listingId)
    assert s.state == LISTED, "not for sale"
    assert msg.sender != s.seller, "the seller cannot buy its own listing"
    assert msg.value == s.price, "send exactly the price"
    deadline: uint256 = block.timestamp + s.deliveryWindow
    self.listings[listingId].buyer = msg.sender
    self.listings[listingId].deadline = deadline
    self.listings[listingId].state = PAID
    log Bought(listingId=listingId, buyer=msg.sender, deadline=deadline)


@external
@nonreentrant
def complete(listingId: uint256):
    """
    @notice Once the buyer holds the asset (custody), up to the deadline: the token goes to the
            buyer, the price to the seller. Anyone may call.
    @param listingId The listing.
    """
    s: Listing = self._listing(listingId)
    assert s.state == PAID, "not awaiting delivery"
    assert block.timestamp <= s.deadline, "the deadline has passed: only a refund is possible"
    custodian: address = (staticcall Assets(ASSETS).getAsset(s.tokenId))[3]
    assert custodian == s.buyer, "not received: the buyer does not hold the asset"
    self.listings[listingId].state = COMPLETED
    log Completed(listingId=listingId, buyer=s.buyer, seller=s.seller, price=s.price)
    extcall Assets(ASSETS).transferFrom(self, s.buyer, s.tokenId)
    raw_call(s.seller, b"", value=s.price)


@external
@nonreentrant
def refund(listingId: uint256):
    """
    @notice After the deadline, if not completed: the price back to the buyer, the token back to
            the seller. Anyone may call.
    @param listingId The listing.
    """
    s: Listing = self._listing(listingId)
    assert s.state == PAID, "not awaiting delivery"
    assert block.timestamp > s.deadline, "the deadline has not passed"
    self.listings[listingId].state = REFUNDED
    log Refunded(listingId=listingId, buyer=s.buyer, price=s.price)
    extcall Assets(ASSETS).transferFrom(self, s.seller, s.tokenId)
    raw_call(s.buyer, b"", value=s.price)


@external
@nonreentrant
def cancel(listingId: uint256):
    """
    @notice The seller withdraws an unsold listing; the token goes back to it.
    @param listingId The listing.
    """
    s: Listing = self._listing(listingId)
    assert msg.sender == s.seller, "only the seller may cancel"
    assert s.state == LISTED, "not for sale"
    self.listings[listingId].state = CANCELLED
    log Cancelled(listingId=listingId)
    extcall Assets(ASSETS).transferFrom(self, s.seller, s.tokenId)


@view
@internal
def _listing(listingId: uint256) -> Listing:
    s: Listing = self.listings[listingId]
    assert s.seller != empty(address), "no such listing"
    return s
