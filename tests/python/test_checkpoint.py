"""contracts/Checkpoint.vy, the light client of a Kramaa chain that a parent EVM chain runs
(docs/ANCHORING.md), on py-evm through eth-tester: certificates are checked with ecrecover
against the set it knows, the header must commit to the history root and next set given,
checkpoints only move forward, and the set changes only through a header certified by the set
before the change. Synthetic headers signed here with the consensus's own sign-bytes, and a
real header and certificate from a devnet of 4 validator processes."""
import pytest
import rlp
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address
from web3 import EthereumTesterProvider, Web3

from anchoring_support import Accumulator, validators_hash
from rpc_helpers import compile_vyper, header_rlp
from validators_support import Cluster, wait_until

CHAIN_ID = 1337
DOMAIN = b"kramaa/consensus/v1"


def sign_digest(number, round_, block_hash, chain_id=CHAIN_ID):
    """Vote.signDigest for a precommit (KramaaConsensus/Messages.swift)."""
    return keccak(rlp.encode([DOMAIN, chain_id, 2, number, round_, block_hash]))


class Validator:
    def __init__(self, seed):
        self.key = eth_keys.PrivateKey(keccak(b"validator %d" % seed))
        self.address = self.key.public_key.to_checksum_address()

    def sign(self, digest):
        sig = self.key.sign_msg_hash(digest)
        return sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sig.v + 27


def header(number, extra, parent=b"\x11" * 32):
    """A Cancun header's RLP with this number and extraData (other fields plausible)."""
    return rlp.encode([parent, keccak(rlp.encode([])), b"\x22" * 20, b"\x33" * 32, b"\x44" * 32, b"\x55" * 32, b"\x00" * 256, 0,
                       number, 60_000_000, 21_000, 1_765_000_000 + number, extra, b"\x66" * 32, b"\x00" * 8, 10**9,
                       b"\x77" * 32, 0, 0, b"\x00" * 32])


def commitment(history_root, next_validators):
    return keccak(history_root + validators_hash(next_validators))


def signatures(signers, number, round_, block_hash):
    ordered = sorted(signers, key=lambda v: int(v.address, 16))
    parts = [v.sign(sign_digest(number, round_, block_hash)) for v in ordered]
    return [p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts]


@pytest.fixture()
def parent():
    w3 = Web3(EthereumTesterProvider())
    w3.eth.default_account = w3.eth.accounts[0]
    abi, bytecode = compile_vyper("Checkpoint.vy")
    return w3, w3.eth.contract(abi=abi, bytecode=bytecode)


def deploy(parent, trusted, validators, chain_id=CHAIN_ID):
    w3, factory = parent
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(chain_id, trusted, [v.address for v in validators]).transact())
    return w3.eth.contract(address=receipt["contractAddress"], abi=factory.abi), receipt


def submit(contract, number, signers, next_validators, history=b"\xaa" * 32, round_=0, raw=None, history_arg=None):
    raw = raw or header(number, commitment(history, [v.address for v in next_validators]))
    r, s, v = signatures(signers, number, round_, keccak(raw))
    return contract.functions.submitCheckpoint(raw, round_, r, s, v, history_arg or history, [v.address for v in next_validators])


def refused(call, reason):
    """Refused with `reason` (read by eth_call), and mined as a failure that changes nothing."""
    with pytest.raises(Exception, match=reason):
        call.call()
    w3 = call.w3
    assert w3.eth.wait_for_transaction_receipt(call.transact({"gas": 3_000_000}))["status"] == 0


def test_the_sign_bytes_are_the_consensus_ones(parent):
    four = [Validator(i) for i in range(4)]
    contract, _ = deploy(parent, 0, four)
    for number, round_ in [(1, 0), (127, 1), (128, 200), (2**40 + 5, 0), (2**64 - 1, 2**32)]:
        block_hash = keccak(b"%d" % number)
        assert contract.functions.signDigest(number, round_, block_hash).call() == sign_digest(number, round_, block_hash)


def test_a_certified_checkpoint_is_anchored_and_every_forgery_is_refused(parent):
    w3, _ = parent
    four = [Validator(i) for i in range(4)]
    contract, deployed = deploy(parent, 0, four)
    assert contract.functions.validatorsHash().call() == validators_hash([v.address for v in four])
    state = lambda: (contract.functions.latestNumber().call(), contract.functions.checkpointCount().call(), contract.functions.epoch().call())
    before = state()
    refused(submit(contract, 10, four[:2], four), "signed by too few of the known validators")  # 2 of 4 is not more than 2/3
    outsider = Validator(99)
    refused(submit(contract, 10, four[:2] + [outsider], four), "not from a validator this contract knows")
    raw = header(10, commitment(b"\xaa" * 32, [v.address for v in four]))
    r, s, v = signatures(four[:3], 10, 0, keccak(raw))
    refused(contract.functions.submitCheckpoint(raw, 0, [r[0], r[0], r[1]], [s[0], s[0], s[1]], [v[0], v[0], v[1]], b"\xaa" * 32,
                                                [x.address for x in four]), "ordered by signer, each signer once")
    refused(submit(contract, 10, four[:3], four, history_arg=b"\xbb" * 32), "does not commit to this history root")
    committed = header(10, commitment(b"\xaa" * 32, [x.address for x in four]))
    refused(submit(contract, 10, four[:3], [four[0]], raw=committed), "does not commit to this history root and next validator set")
    # A header changed after signing (its hash moves): the signatures recover to strangers.
    forged = bytearray(raw)
    forged[raw.index(b"\x22" * 20)] ^= 1
    refused(contract.functions.submitCheckpoint(bytes(forged), 0, r, s, v, b"\xaa" * 32, [x.address for x in four]), "not from a validator")
    refused(contract.functions.submitCheckpoint(raw, 1, r, s, v, b"\xaa" * 32, [x.address for x in four]), "not from a validator")  # another round
    assert state() == before, "a refused checkpoint changed nothing"

    receipt = w3.eth.wait_for_transaction_receipt(submit(contract, 10, four[:3], four).transact())
    stored = contract.functions.checkpoints(10).call()
    assert list(stored[:3]) == [keccak(raw), b"\xaa" * 32, validators_hash([x.address for x in four])]
    assert state() == (10, 1, 1)
    refused(submit(contract, 10, four, four), "checkpoints only move forward")
    refused(submit(contract, 9, four, four), "checkpoints only move forward")
    gas = w3.eth.wait_for_transaction_receipt(submit(contract, 1_010, four[:3], four, history=b"\xcc" * 32).transact())["gasUsed"]
    print(f"\ncheckpoint gas: deploy {deployed['gasUsed']:,}, first {receipt['gasUsed']:,}, next {gas:,} "
          f"({gas / 1000:.0f} per block anchored every 1,000)")
    assert gas < 200_000


def test_the_set_changes_only_through_a_header_the_old_set_certified(parent):
    w3, _ = parent
    a, b, c, d, e = (Validator(i) for i in range(5))
    contract, _ = deploy(parent, 0, [a, b, c, d])
    # Block 20 names the next set {a, b, c, e}: certified by the old set, it becomes the set.
    w3.eth.wait_for_transaction_receipt(submit(contract, 20, [a, b, d], [a, b, c, e]).transact())
    assert contract.functions.epoch().call() == 2
    assert [contract.functions.validators(i).call() for i in range(4)] == [x.address for x in (a, b, c, e)]
    assert not contract.functions.isValidator(2, d.address).call() and contract.functions.isValidator(2, e.address).call()
    # The removed validator's signature no longer counts; the newcomer's does.
    refused(submit(contract, 30, [a, b, d], [a, b, c, e]), "not from a validator this contract knows")
    w3.eth.wait_for_transaction_receipt(submit(contract, 30, [a, c, e], [a, b, c, e]).transact())
    assert contract.functions.latestNumber().call() == 30 and contract.functions.epoch().call() == 2


def test_a_real_header_and_certificate_of_four_validator_processes_anchor_on_py_evm(kramaa_bin, tmp_path, parent):
    w3, _ = parent
    cluster = Cluster(kramaa_bin, tmp_path / "net", count=4, accounts=2).create()
    cluster.start_all()
    try:
        v = cluster.validators
        genesis_set = v[0].rpc("kramaa_validators", "0x1")
        contract, _ = deploy(parent, 0, [type("V", (), {"address": to_checksum_address(a)}) for a in genesis_set])
        sender = v[0].rpc("eth_accounts")[0]
        for _ in range(3):
            tx = v[0].rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": "0x1", "gas": "0x5208"})
            wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", tx), 20, message="a block")
        number = int(v[1].rpc("eth_blockNumber"), 16)
        block = v[1].rpc("eth_getBlockByNumber", hex(number), False)
        raw = header_rlp(block)
        assert "0x" + keccak(raw).hex() == block["hash"]
        certificate = v[2].rpc("kramaa_getCommitCertificate", hex(number))
        precommits = sorted(certificate["precommits"], key=lambda p: int(p["validator"], 16))
        sigs = [bytes.fromhex(p["signature"][2:]) for p in precommits]
        history = Accumulator.at(v[3].rpc, number).root()
        next_set = [to_checksum_address(a) for a in v[0].rpc("kramaa_validators", hex(number + 1))]
        call = contract.functions.submitCheckpoint(raw, certificate["round"] if isinstance(certificate["round"], int) else int(certificate["round"], 16),
                                                   [s[:32] for s in sigs], [s[32:64] for s in sigs], [s[64] + 27 if s[64] < 27 else s[64] for s in sigs],
                                                   history, next_set)
        w3.eth.wait_for_transaction_receipt(call.transact())
        assert contract.functions.latestNumber().call() == number
        assert contract.functions.checkpoints(number).call()[0] == bytes.fromhex(block["hash"][2:])
    finally:
        cluster.shutdown()
