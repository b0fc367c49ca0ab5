# pragma version ~=0.4.3
"""
@title Kramaa checkpoints on a parent EVM chain
@notice A light client of a Kramaa chain (docs/ANCHORING.md). It keeps the validator set it
        knows and accepts a checkpoint, a Kramaa block header, only with a commit certificate
        from that set: precommit signatures of more than two thirds of it over
        keccak256(RLP(["kramaa/consensus/v1", chainId, 2, height, round, blockHash])), each
        checked with ecrecover here, so the parent chain trusts no relayer. The header's
        extraData commits to the history before the block (historyRoot, a Merkle mountain range
        of every earlier block hash) and to the validators of the next block; so one checkpoint
        anchors every block before it, and the set is followed from header to header, each
        change certified by the set before it. Checkpoints only move forward.
"""

MAX_VALIDATORS: constant(uint256) = 128
MAX_HEADER: constant(uint256) = 1024
DOMAIN: constant(Bytes[19]) = b"kramaa/consensus/v1"
NUMBER_FIELD: constant(uint256) = 8
EXTRA_DATA_FIELD: constant(uint256) = 12


struct Checkpoint:
    blockHash: bytes32
    historyRoot: bytes32
    validatorsHash: bytes32
    anchoredAt: uint256


event CheckpointAnchored:
    number: indexed(uint256)
    blockHash: indexed(bytes32)
    historyRoot: bytes32
    signers: uint256

event ValidatorSetChanged:
    epoch: indexed(uint256)
    fromNumber: uint256
    validatorsHash: bytes32
    count: uint256


kramaaChainId: public(uint256)
epoch: public(uint256)
validators: public(DynArray[address, MAX_VALIDATORS])
validatorsHash: public(bytes32)
isValidator: public(HashMap[uint256, HashMap[address, bool]])
latestNumber: public(uint256)
checkpointCount: public(uint256)
checkpoints: public(HashMap[uint256, Checkpoint])


@deploy
def __init__(kramaaChainId: uint256, trustedNumber: uint256, nextValidators: DynArray[address, MAX_VALIDATORS]):
    """
    @param kramaaChainId The Kramaa chain's id (in every precommit it signs).
    @param trustedNumber A block trusted at deployment (0: genesis); checkpoints come after it.
    @param nextValidators The validators of block trustedNumber + 1, in the validator set
           contract's order (genesis: the genesis validators).
    """
    self.kramaaChainId = kramaaChainId
    self.latestNumber = trustedNumber
    self._setValidators(nextValidators, trustedNumber + 1)


@external
def submitCheckpoint(header: Bytes[MAX_HEADER], round: uint256, r: DynArray[bytes32, MAX_VALIDATORS],
                     s: DynArray[bytes32, MAX_VALIDATORS], v: DynArray[uint8, MAX_VALIDATORS],
                     historyRoot: bytes32, nextValidators: DynArray[address, MAX_VALIDATORS]):
    """
    @notice Anchors the block whose RLP header is `header`, certified in consensus round
            `round` by the signatures (r, s, v: 27 or 28), ordered by signer address, each once.
    @param historyRoot The history root the header commits to.
    @param nextValidators The validators of the next block the header commits to; when they
           differ from the known set, they become it (certified by the set before the change).
    """
    assert len(r) == len(s) and len(s) == len(v), "r, s and v must have one entry per signature"
    blockHash: bytes32 = keccak256(header)
    padded: Bytes[MAX_HEADER + 64] = concat(header, empty(bytes32), empty(bytes32))
    number: uint256 = self._number(padded, len(header))
    assert number > self.latestNumber, "not after the latest checkpoint: checkpoints only move forward"
    nextHash: bytes32 = keccak256(abi_encode(nextValidators))
    extraStart: uint256 = 0
    extraLength: uint256 = 0
    extraStart, extraLength = self._field(padded, len(header), EXTRA_DATA_FIELD)
    assert extraLength == 32, "the header's extra data is not a history commitment"
    assert extract32(padded, extraStart) == keccak256(concat(historyRoot, nextHash)), \
        "the header does not commit to this history root and next validator set"

    digest: bytes32 = keccak256(self._signBytes(number, round, blockHash))
    current: uint256 = self.epoch
    last: uint256 = 0
    for i: uint256 in range(MAX_VALIDATORS):
        if i >= len(r):
            break
        signer: address = ecrecover(digest, v[i], r[i], s[i])
        assert signer != empty(address), "a signature does not recover"
        assert convert(signer, uint256) > last, "signatures must be ordered by signer, each signer once"
        assert self.isValidator[current][signer], "a signature is not from a validator this contract knows"
        last = convert(signer, uint256)
    assert len(r) * 3 > len(self.validators) * 2, "signed by too few of the known validators: more than two thirds must sign"

    self.checkpoints[number] = Checkpoint(blockHash=blockHash, historyRoot=historyRoot, validatorsHash=nextHash,
                                          anchoredAt=block.number)
    self.latestNumber = number
    self.checkpointCount += 1
    log CheckpointAnchored(number=number, blockHash=blockHash, historyRoot=historyRoot, signers=len(r))
    if nextHash != self.validatorsHash:
        self._setValidators(nextValidators, number + 1)


@view
@external
def signDigest(number: uint256, round: uint256, blockHash: bytes32) -> bytes32:
    """
    @notice What each validator signs for a precommit of `blockHash` at `number` in `round`.
    """
    return keccak256(self._signBytes(number, round, blockHash))


@internal
def _setValidators(validators: DynArray[address, MAX_VALIDATORS], fromNumber: uint256):
    assert len(validators) > 0, "a validator set cannot be empty"
    next: uint256 = self.epoch + 1
    for a: address in validators:
        assert a != empty(address), "a validator is the zero address"
        assert not self.isValidator[next][a], "a validator is listed twice"
        self.isValidator[next][a] = True
    self.epoch = next
    self.validators = validators
    self.validatorsHash = keccak256(abi_encode(validators))
    log ValidatorSetChanged(epoch=next, fromNumber=fromNumber, validatorsHash=self.validatorsHash, count=len(validators))


@pure
@internal
def _byte(data: Bytes[MAX_HEADER + 64], pos: uint256) -> uint256:
    return convert(extract32(data, pos), uint256) >> 248


@pure
@internal
def _item(data: Bytes[MAX_HEADER + 64], pos: uint256) -> (uint256, uint256):
    """(start, length) of the RLP string at `pos` (headers hold no nested lists)."""
    b: uint256 = self._byte(data, pos)
    if b < 128:
        return pos, 1
    if b <= 183:
        return pos + 1, b - 128
    assert b <= 191, "the header holds a nested list"
    lengthOfLength: uint256 = b - 183
    assert lengthOfLength <= 4, "an RLP length is too long"
    length: uint256 = convert(extract32(data, pos + 1), uint256) >> (256 - 8 * lengthOfLength)
    return pos + 1 + lengthOfLength, length


@pure
@internal
def _field(data: Bytes[MAX_HEADER + 64], size: uint256, index: uint256) -> (uint256, uint256):
    """(start, length) of field `index` of the RLP list that is the whole header."""
    b: uint256 = self._byte(data, 0)
    assert b >= 248 and b <= 249, "the header is not an RLP list of 56 to 65535 bytes"
    lengthOfLength: uint256 = b - 247
    payload: uint256 = convert(extract32(data, 1), uint256) >> (256 - 8 * lengthOfLength)
    assert 1 + lengthOfLength + payload == size, "the header's RLP length does not match its size"
    pos: uint256 = 1 + lengthOfLength
    for i: uint256 in range(EXTRA_DATA_FIELD + 1):
        start: uint256 = 0
        length: uint256 = 0
        start, length = self._item(data, pos)
        assert start + length <= size, "a header field runs past the header"
        if i == index:
            return start, length
        pos = start + length
    raise "unreachable"


@pure
@internal
def _number(data: Bytes[MAX_HEADER + 64], size: uint256) -> uint256:
    start: uint256 = 0
    length: uint256 = 0
    start, length = self._field(data, size, NUMBER_FIELD)
    assert length <= 8, "the block number is longer than 8 bytes"
    if length == 0:
        return 0
    return convert(extract32(data, start), uint256) >> (256 - 8 * length)


@pure
@internal
def _rlpUint(x: uint256) -> Bytes[33]:
    if x == 0:
        return b"\x80"
    n: uint256 = 0
    for i: uint256 in range(8):
        if x >> (8 * i) == 0:
            break
        n = i + 1
    assert x < 2**64, "a number above 64 bits"
    body: Bytes[32] = slice(convert(x, bytes32), 32 - n, n)
    if n == 1 and x < 128:
        return body
    return concat(slice(convert(128 + n, bytes32), 31, 1), body)


@view
@internal
def _signBytes(number: uint256, round: uint256, blockHash: bytes32) -> Bytes[155]:
    payload: Bytes[153] = concat(b"\x93", DOMAIN, self._rlpUint(self.kramaaChainId), b"\x02", self._rlpUint(number),
                                self._rlpUint(round), b"\xa0", blockHash)
    # Numbers are at most 8 bytes: the payload is 55 to 81 bytes, after a one-byte length.
    if len(payload) <= 55:
        return concat(slice(convert(192 + len(payload), bytes32), 31, 1), payload)
    return concat(b"\xf8", slice(convert(len(payload), bytes32), 31, 1), payload)
