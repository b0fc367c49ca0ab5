"""History modes (docs/OPERATIONS.md, "History"): `kramaa node --history archive` keeps every
block's state readable, so eth_getBalance, eth_call and eth_getProof answer at any block, the
proofs verifying against that block's state root; the default keeps 128 blocks and answers older
ones with an error naming the oldest it keeps."""
import pytest

from conftest import RPCError
from rpc_helpers import hexbytes, qty
from test_node_rpc import verify_account_proof, verify_storage_proof
from validators_support import wait_until

SINK = "0x" + "77" * 20


def start(node_factory, name, history, seed=None):
    if seed is None:
        seed = node_factory("devnet", ["--validators", "1", "--accounts", "3"], name=name + "-seed", fresh=True)
        seed.stop()
    node = node_factory("node", ["--dev-accounts", "3", "--dev-open-writes", "--history", history], name=name, start=False)
    node.datadir = seed.datadir
    node.start()
    return node, seed


def transfers(node, count):
    """`count` transfers, each waited for (one block each): returns the head."""
    sender = node.rpc("eth_accounts")[0]
    for i in range(count):
        tx = node.rpc("eth_sendTransaction", {"from": sender, "to": SINK, "value": hex(1000 + i), "gas": "0x5208"})
        wait_until(lambda: node.rpc("eth_getTransactionReceipt", tx), 10, interval=0.005, message="the transfer")
    return qty(node.rpc("eth_blockNumber"))


def test_an_archive_node_answers_and_proves_at_every_block_and_a_pruned_one_names_what_it_keeps(node_factory, kramaa):
    node, seed = start(node_factory, "archive", "archive")
    head = transfers(node, 140)
    assert head >= 140
    balance_at = lambda n: qty(node.rpc("eth_getBalance", SINK, hex(n)))
    assert balance_at(head - 139) == 1000 and balance_at(head - 138) == 2001 and balance_at(head) == sum(1000 + i for i in range(140))
    for n in (1, 3, head - 1, head):
        block = node.rpc("eth_getBlockByNumber", hex(n), False)
        proof = node.rpc("eth_getProof", SINK, [], hex(n))
        nonce, balance, _, _ = verify_account_proof(proof, hexbytes(block["stateRoot"]))
        assert balance == balance_at(n), n
    # A storage proof at an old block: the validator set contract's first slot of the set.
    contract = "0x" + "00" * 16 + "4b520001"
    proof = node.rpc("eth_getProof", contract, ["0x0"], "0x2")
    _, _, storage_root, _ = verify_account_proof(proof, hexbytes(node.rpc("eth_getBlockByNumber", "0x2", False)["stateRoot"]))
    verify_storage_proof(proof["storageProof"][0], storage_root)

    # The same chain with the default: once a block is added, states older than 128 blocks are dropped.
    node.stop()
    pruned, _ = start(node_factory, "pruned", "128", seed=seed)
    transfers(pruned, 1)
    head = qty(pruned.rpc("eth_blockNumber"))
    with pytest.raises(RPCError) as refused:
        pruned.rpc("eth_getBalance", SINK, "0x1")
    assert "historical state not available" in str(refused.value) and "oldest" in str(refused.value)
    with pytest.raises(RPCError):
        pruned.rpc("eth_getProof", SINK, [], "0x1")
    recent = head - 100
    block = pruned.rpc("eth_getBlockByNumber", hex(recent), False)
    verify_account_proof(pruned.rpc("eth_getProof", SINK, [], hex(recent)), hexbytes(block["stateRoot"]))
    pruned.stop()
    bad = kramaa("node", "--datadir", str(seed.datadir), "--rpc-port", "0", "--history", "5", check=False)
    assert bad.returncode != 0 and "--history 5: a number of blocks (at least 128) or archive" in bad.stderr
