"""Nothing acknowledged is lost: a transaction a node answered with its hash
(eth_sendRawTransaction, alone or in a batch) is in its pool again after a kill -9 and a restart
(the pool journal, docs/DATA.md); and the chaos test: four validator processes under load, one
killed -9 every few seconds (half of the kills right after an acknowledgement), every
acknowledged transaction included on every node at the end, no fork, one state root.
KRAMAA_CHAOS_SECONDS sets the chaos test's length (default 40); tools/chaos.py runs it for minutes."""
import os
import signal
import time

from eth_account import Account

from chaos_support import run_chaos

GWEI = 10**9


def signed_transfers(key, count, chain_id=1337, first_nonce=0):
    out = []
    for n in range(first_nonce, first_nonce + count):
        tx = {"chainId": chain_id, "nonce": n, "to": "0x" + "22" * 20, "value": 1 + n, "gas": 21000,
              "maxFeePerGas": 100 * GWEI, "maxPriorityFeePerGas": GWEI}
        s = Account.sign_transaction(tx, key)
        out.append(("0x" + s.raw_transaction.hex(), s.hash.to_0x_hex()))
    return out


def test_acknowledged_transactions_survive_kill9(node_factory):
    # A block period of an hour: what is acknowledged stays in the pool, only the journal keeps it.
    node = node_factory("devnet", ["--accounts", "3", "--block-time", "3600"], fresh=True)
    single = signed_transfers(node.keys[1], 1)
    batch = signed_transfers(node.keys[2], 40)
    assert node.rpc("eth_sendRawTransaction", single[0][0]) == single[0][1]
    status, answers = node.post([{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                                 for i, (raw, _) in enumerate(batch)])
    assert status == 200 and [a.get("result") for a in sorted(answers, key=lambda a: a["id"])] == [h for _, h in batch], answers
    assert node.kill() == -signal.SIGKILL  # right after the answers

    node.start()
    assert "restored 41 transactions from the pool journal" in node.stdout()
    for _, tx_hash in single + batch:
        tx = node.rpc("eth_getTransactionByHash", tx_hash)
        assert tx is not None, f"acknowledged transaction {tx_hash} lost by kill -9"
        assert tx["blockNumber"] is None
    assert int(node.rpc("eth_getTransactionCount", node.accounts[2], "pending"), 16) == 40
    # what is back in the pool is refused as a duplicate, not accepted twice
    err = node.call("eth_sendRawTransaction", batch[0][0])["error"]
    assert err["message"] == "already known"


def test_replay_drops_what_a_block_holds(node_factory):
    node = node_factory("devnet", ["--accounts", "2"], fresh=True)
    sent = signed_transfers(node.keys[1], 5)
    for raw, tx_hash in sent:
        assert node.rpc("eth_sendRawTransaction", raw) == tx_hash
    deadline = time.monotonic() + 20
    while not all(node.rpc("eth_getTransactionReceipt", h) for _, h in sent):
        assert time.monotonic() < deadline, "transfers not included in 20 s"
        time.sleep(0.05)
    head = node.rpc("eth_blockNumber")
    assert node.kill() == -signal.SIGKILL
    node.start()
    assert node.rpc("eth_blockNumber") == head
    assert "restored 0 transactions from the pool journal" in node.stdout()
    assert int(node.rpc("eth_getTransactionCount", node.accounts[1], "pending"), 16) == 5


def test_chaos_kill9_under_load_loses_nothing_acknowledged(kramaa_bin, tmp_path):
    seconds = float(os.environ.get("KRAMAA_CHAOS_SECONDS") or 40)
    summary = run_chaos(kramaa_bin, tmp_path / "net", seconds=seconds, seed=int(os.environ.get("KRAMAA_CHAOS_SEED") or 7))
    print(f"\nchaos: {summary}")
    assert summary["transactions"] > 100
    assert summary["kills"]["after_ack"] >= 2
