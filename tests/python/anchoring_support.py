"""The header commitment of issue 17 computed independently: a Merkle mountain range of block
hashes (Sources/KramaaChain/Blocks/HistoryAccumulator.swift) and the next validator set's hash,
keccak'd into each header's extraData (HeaderCommitment.swift)."""
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address


def validators_hash(validators):
    """keccak256(abi.encode(address[])), as HeaderCommitment.validatorsHash and Checkpoint.vy."""
    return keccak(abi_encode(["address[]"], [[to_checksum_address(a) for a in validators]]))


class Accumulator:
    def __init__(self):
        self.count, self.peaks = 0, []  # (height, hash), left to right

    def append(self, leaf):
        node = (0, leaf)
        while self.peaks and self.peaks[-1][0] == node[0]:
            left = self.peaks.pop()
            node = (node[0] + 1, keccak(left[1] + node[1]))
        self.peaks.append(node)
        self.count += 1

    @classmethod
    def at(cls, rpc, number):
        """The accumulator of blocks 0..number-1 (what block `number` commits to)."""
        accumulator = cls()
        for n in range(number):
            accumulator.append(bytes.fromhex(rpc("eth_getBlockByNumber", hex(n), False)["hash"][2:]))
        return accumulator

    def root(self):
        return keccak(self.count.to_bytes(8, "big") + b"".join(h for _, h in self.peaks))


def check_header_commitments(rpc, upto):
    """Every block 1..upto: extraData = keccak(root of the hashes of blocks 0..n-1 ‖
    keccak(validators of height n+1)), the set read from `kramaa_validators`. Returns the count checked."""
    accumulator = Accumulator()
    accumulator.append(bytes.fromhex(rpc("eth_getBlockByNumber", "0x0", False)["hash"][2:]))
    for n in range(1, upto + 1):
        block = rpc("eth_getBlockByNumber", hex(n), False)
        validators = rpc("kramaa_validators", hex(n + 1))
        expected = keccak(accumulator.root() + validators_hash(validators))
        assert block["extraData"] == "0x" + expected.hex(), f"block {n}: extraData {block['extraData']}, expected 0x{expected.hex()}"
        accumulator.append(bytes.fromhex(block["hash"][2:]))
    return upto
