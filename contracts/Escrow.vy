# pragma version ~=0.4.3
"""Pays the seller for an asset once it is delivered to the buyer, unless a breach was
recorded for it on the way: reads Kramaa's asset registry (custody) and provenance registry
(breaches), which are system contracts at fixed addresses."""

interface Assets:
    def getAsset(tokenId: uint256) -> (String[128], uint256, address, address, bytes32, uint8, uint256): view

interface Provenance:
    def breachedAt(tokenId: uint256) -> uint256: view

ASSETS: constant(address) = 0x000000000000000000000000000000004B520012
PROVENANCE: constant(address) = 0x000000000000000000000000000000004b520013

buyer: public(address)
seller: public(address)
token: public(uint256)
price: public(uint256)
settled: public(bool)

event Released:
    seller: indexed(address)
    amount: uint256

event Refunded:
    buyer: indexed(address)
    amount: uint256
    breachBlock: uint256


@deploy
@payable
def __init__(seller: address, token: uint256):
    self.buyer = msg.sender
    self.seller = seller
    self.token = token
    self.price = msg.value


@external
def settle():
    assert not self.settled, "settled already"
    breach: uint256 = staticcall Provenance(PROVENANCE).breachedAt(self.token)
    if breach != 0:
        self.settled = True
        send(self.buyer, self.price)
        log Refunded(buyer=self.buyer, amount=self.price, breachBlock=breach)
        return
    custodian: address = (staticcall Assets(ASSETS).getAsset(self.token))[3]
    assert custodian == self.buyer, "not delivered"
    self.settled = True
    send(self.seller, self.price)
    log Released(seller=self.seller, amount=self.price)
