# pragma version ~=0.4.3
"""
@title A plain ERC-721 token
@notice Full ERC-721 with the metadata extension's tokenURI: balances, owners, approvals,
        operators, transfers (safe ones check onERC721Received on contract recipients) and
        ERC-165. Only the minter (the deployer) mints. Used by the node's tests (deploy,
        transfer and events through web3.py, filters and subscriptions).
"""
from ethereum.ercs import IERC165
from ethereum.ercs import IERC721

implements: IERC165
implements: IERC721


interface IERC721Receiver:
    def onERC721Received(
        _operator: address, _from: address, _tokenId: uint256, _data: Bytes[1024]
    ) -> bytes4: nonpayable


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    token_id: indexed(uint256)

event Approval:
    owner: indexed(address)
    approved: indexed(address)
    token_id: indexed(uint256)

event ApprovalForAll:
    owner: indexed(address)
    operator: indexed(address)
    approved: bool


# ERC-165 ids: ERC-165 itself, ERC-721, ERC-721 metadata.
SUPPORTED_INTERFACES: constant(bytes4[3]) = [0x01ffc9a7, 0x80ac58cd, 0x5b5e139f]
# bytes4(keccak256("onERC721Received(address,address,uint256,bytes)"))
ERC721_RECEIVED: constant(bytes4) = 0x150b7a02

name: public(String[32])
symbol: public(String[8])
minter: public(address)
totalSupply: public(uint256)
baseURI: String[128]

idToOwner: HashMap[uint256, address]
idToApproval: HashMap[uint256, address]
ownerToCount: HashMap[address, uint256]
ownerToOperators: HashMap[address, HashMap[address, bool]]


@deploy
def __init__(_name: String[32], _symbol: String[8], _base_uri: String[128]):
    self.name = _name
    self.symbol = _symbol
    self.baseURI = _base_uri
    self.minter = msg.sender


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    return interface_id in SUPPORTED_INTERFACES


@view
@external
def balanceOf(_owner: address) -> uint256:
    assert _owner != empty(address), "ERC721: balance of the zero address"
    return self.ownerToCount[_owner]


@view
@external
def ownerOf(_tokenId: uint256) -> address:
    owner: address = self.idToOwner[_tokenId]
    assert owner != empty(address), "ERC721: token does not exist"
    return owner


@view
@external
def getApproved(_tokenId: uint256) -> address:
    assert self.idToOwner[_tokenId] != empty(address), "ERC721: token does not exist"
    return self.idToApproval[_tokenId]


@view
@external
def isApprovedForAll(_owner: address, _operator: address) -> bool:
    return self.ownerToOperators[_owner][_operator]


@view
@external
def tokenURI(_tokenId: uint256) -> String[206]:
    assert self.idToOwner[_tokenId] != empty(address), "ERC721: token does not exist"
    return concat(self.baseURI, uint2str(_tokenId))


@view
@internal
def _isApprovedOrOwner(_spender: address, _tokenId: uint256) -> bool:
    owner: address = self.idToOwner[_tokenId]
    return (
        _spender == owner
        or _spender == self.idToApproval[_tokenId]
        or self.ownerToOperators[owner][_spender]
    )


@internal
def _transfer(_from: address, _to: address, _tokenId: uint256, _sender: address):
    owner: address = self.idToOwner[_tokenId]
    assert owner != empty(address), "ERC721: token does not exist"
    assert owner == _from, "ERC721: transfer from a non-owner"
    assert self._isApprovedOrOwner(_sender, _tokenId), "ERC721: caller is not owner nor approved"
    assert _to != empty(address), "ERC721: transfer to the zero address"
    self.idToApproval[_tokenId] = empty(address)
    self.ownerToCount[_from] -= 1
    self.ownerToCount[_to] += 1
    self.idToOwner[_tokenId] = _to
    log Transfer(sender=_from, receiver=_to, token_id=_tokenId)


@payable
@external
def transferFrom(_from: address, _to: address, _tokenId: uint256):
    self._transfer(_from, _to, _tokenId, msg.sender)


@payable
@external
def safeTransferFrom(_from: address, _to: address, _tokenId: uint256, _data: Bytes[1024] = b""):
    self._transfer(_from, _to, _tokenId, msg.sender)
    if _to.is_contract:
        answer: bytes4 = extcall IERC721Receiver(_to).onERC721Received(msg.sender, _from, _tokenId, _data)
        assert answer == ERC721_RECEIVED, "ERC721: transfer to a non-receiver"


@payable
@external
def approve(_approved: address, _tokenId: uint256):
    owner: address = self.idToOwner[_tokenId]
    assert owner != empty(address), "ERC721: token does not exist"
    assert _approved != owner, "ERC721: approval to the current owner"
    assert msg.sender == owner or self.ownerToOperators[owner][msg.sender], "ERC721: caller is not owner nor operator"
    self.idToApproval[_tokenId] = _approved
    log Approval(owner=owner, approved=_approved, token_id=_tokenId)


@external
def setApprovalForAll(_operator: address, _approved: bool):
    assert _operator != msg.sender, "ERC721: approve to caller"
    self.ownerToOperators[msg.sender][_operator] = _approved
    log ApprovalForAll(owner=msg.sender, operator=_operator, approved=_approved)


@external
def mint(_to: address, _tokenId: uint256):
    assert msg.sender == self.minter, "ERC721: only the minter may mint"
    assert _to != empty(address), "ERC721: mint to the zero address"
    assert self.idToOwner[_tokenId] == empty(address), "ERC721: token already minted"
    self.idToOwner[_tokenId] = _to
    self.ownerToCount[_to] += 1
    self.totalSupply += 1
    log Transfer(sender=empty(address), receiver=_to, token_id=_tokenId)
