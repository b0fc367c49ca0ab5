"""State sync (docs/OPERATIONS.md, "State sync") on a devnet of 4 validator processes.

A snapshot is written from a running validator (`kramaa snapshot export`), checked, and a new
node is made from it (`kramaa snapshot restore`), then started: it syncs the blocks after the
snapshot from the validators and answers for the accounts and storage the chain holds, without
having replayed the blocks before it. A second new node fetches a snapshot its peers serve, in
chunks each checked against the manifest (`kramaa snapshot sync`). A validator run with
`--snapshot-interval` writes its own. Tampered snapshots, a snapshot of another chain and one
whose block is not the trusted one are refused with the reason, and leave no chain behind."""
import json
import os
import shutil
import subprocess
import time

import pytest
from eth_account import Account

from rpc_helpers import send_signed
from validators_support import Cluster, port_block, rpc, wait_until

# Init code that stores 0x2a in slot 7 and leaves a contract with no code: state with storage.
STORE_INIT = "0x602a600755"


@pytest.fixture(scope="module")
def net(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("state-sync")
    cluster = Cluster(kramaa_bin, directory / "net", count=4, accounts=2).create()
    cluster[1].extra_args = ["--snapshot-interval", "4"]
    cluster.start_all()
    yield {"cluster": cluster, "dir": directory, "genesis": str(directory / "net" / "genesis.json")}
    cluster.shutdown()


def run(kramaa_bin, *args, check=True, timeout=120):
    proc = subprocess.run([kramaa_bin, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"kramaa {' '.join(args)} exited {proc.returncode}: {proc.stderr}{proc.stdout}"
    return proc


def fill_chain(cluster, count=24):
    """Value transfers to new accounts and a contract with storage, each waited for."""
    v0 = cluster[0]
    key = cluster.keys[0]
    funded = []
    for i in range(count):
        to = Account.create().address
        tx = {"to": to, "value": 10**15 + i, "gas": 21000, "gasPrice": 10**9, "chainId": int(v0.rpc("eth_chainId"), 16),
              "nonce": int(v0.rpc("eth_getTransactionCount", Account.from_key(key).address, "pending"), 16)}
        signed = Account.sign_transaction(tx, key)
        v0.rpc("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex().removeprefix("0x"))
        funded.append((to, 10**15 + i))
    nonce = int(v0.rpc("eth_getTransactionCount", Account.from_key(key).address, "pending"), 16)
    signed = Account.sign_transaction({"data": STORE_INIT, "value": 0, "gas": 100000, "gasPrice": 10**9, "nonce": nonce,
                                       "chainId": int(v0.rpc("eth_chainId"), 16)}, key)
    created = v0.rpc("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex().removeprefix("0x"))
    wait_until(lambda: v0.rpc("eth_getTransactionReceipt", created) is not None, 60, message="the contract creation")
    contract = v0.rpc("eth_getTransactionReceipt", created)["contractAddress"]
    return funded, contract


class NewNode:
    """A node started on a data directory made from a snapshot, peering with the validators."""

    def __init__(self, kramaa_bin, cluster, directory, name):
        self.binary, self.cluster = kramaa_bin, cluster
        self.datadir = directory / name
        self.key = directory / f"{name}-key.json"
        run(kramaa_bin, "keys", "new", "--type", "secp256k1", "--out", str(self.key))
        self.rpc_port = port_block(2)
        self.p2p_port = self.rpc_port + 1
        self.log = directory / f"{name}.log"
        self.proc = None

    def bootnodes(self):
        return [arg for i in range(self.cluster.count)
                for arg in ("--bootnode", f"{self.cluster.addresses[i]}@127.0.0.1:{self.cluster.p2p_base + i}")]

    def start(self):
        args = [self.binary, "node", "--datadir", str(self.datadir), "--rpc-port", str(self.rpc_port), "--p2p-port", str(self.p2p_port),
                "--key", str(self.key), "--no-mqtt", "--quiet", *self.bootnodes()]
        self.out = open(self.log, "wb")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: self._answers(), 30, message=f"{self.datadir.name} to answer")

    def _answers(self):
        assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
        try:
            rpc(self.rpc_port, "eth_blockNumber", timeout=1)
            return True
        except OSError:
            return False

    def rpc(self, method, *params):
        return rpc(self.rpc_port, method, *params, timeout=10)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            assert self.proc.wait(20) == 0, self.log.read_text(errors="replace")[-3000:]
            self.out.close()


def assert_serves_the_chain(node, cluster, funded, contract, snapshot_height):
    head = cluster[0].number()
    wait_until(lambda: int(node.rpc("eth_blockNumber"), 16) >= head, 60, message="the new node to sync the blocks after the snapshot")
    for address, value in funded:
        assert int(node.rpc("eth_getBalance", address, "latest"), 16) == value
    assert int(node.rpc("eth_getStorageAt", contract, "0x7", "latest"), 16) == 0x2a
    ours = node.rpc("eth_getBlockByNumber", hex(head), False)
    theirs = cluster[0].rpc("eth_getBlockByNumber", hex(head), False)
    assert ours["hash"] == theirs["hash"] and ours["stateRoot"] == theirs["stateRoot"]
    # Blocks before the snapshot were never replayed here: the node does not claim to have them.
    if snapshot_height > 1:
        assert node.rpc("eth_getBlockByNumber", hex(snapshot_height - 1), False) is None


def test_a_new_node_joins_from_a_snapshot_file_and_follows_the_chain(net, kramaa_bin):
    cluster, directory = net["cluster"], net["dir"]
    funded, contract = fill_chain(cluster)
    snapshot = directory / "v0.snapshot"
    out = json.loads(run(kramaa_bin, "snapshot", "export", "--datadir", str(cluster[0].datadir), "--out", str(snapshot)).stdout)
    height = out["height"]
    assert height >= 2 and out["accounts"] >= len(funded) and out["certified"] is True and oct(os.stat(snapshot).st_mode & 0o777) == "0o600"
    verified = json.loads(run(kramaa_bin, "snapshot", "verify", str(snapshot), "--genesis", net["genesis"]).stdout)
    assert verified["verified"] is True and verified["id"] == out["id"]
    restored = json.loads(run(kramaa_bin, "snapshot", "restore", str(snapshot), "--genesis", net["genesis"],
                              "--datadir", str(directory / "joined")).stdout)
    assert restored["height"] == height
    node = NewNode(kramaa_bin, cluster, directory, "joined")
    node.start()
    try:
        funded2, _ = fill_chain(cluster, count=3)  # blocks after the snapshot
        assert_serves_the_chain(node, cluster, funded + funded2, contract, height)
    finally:
        node.stop()


def test_a_new_node_fetches_a_snapshot_from_its_peers_in_verified_chunks(net, kramaa_bin):
    cluster, directory = net["cluster"], net["dir"]
    funded, contract = fill_chain(cluster, count=12)
    # Validator 1 writes its own snapshots every 4 blocks; wait for one after these transactions.
    folder = cluster[1].datadir / "snapshots"
    head = cluster[1].number()
    wait_until(lambda: any(int(p.stem) >= head - 4 for p in folder.glob("*.snapshot")) if folder.exists() else False, 30,
               message="validator 1's snapshot")
    assert len(list(folder.glob("*.snapshot"))) <= 2, "only the newest two are kept"
    node = NewNode(kramaa_bin, cluster, directory, "synced")
    synced = json.loads(run(kramaa_bin, "snapshot", "sync", "--genesis", net["genesis"], "--datadir", str(node.datadir),
                            "--key", str(node.key), *node.bootnodes(), "--timeout", "60").stdout)
    assert synced["height"] >= head - 4 and synced["chunks"] >= 1
    node.start()
    try:
        assert_serves_the_chain(node, cluster, funded, contract, synced["height"])
    finally:
        node.stop()


def test_snapshots_that_do_not_check_out_are_refused_and_leave_no_chain(net, kramaa_bin, tmp_path):
    cluster = net["cluster"]
    fill_chain(cluster, count=2)
    snapshot = tmp_path / "good.snapshot"
    out = json.loads(run(kramaa_bin, "snapshot", "export", "--datadir", str(cluster[2].datadir), "--out", str(snapshot)).stdout)
    data = bytearray(snapshot.read_bytes())

    def refused(blob, *extra, expect):
        path = tmp_path / "bad.snapshot"
        path.write_bytes(bytes(blob))
        target = tmp_path / f"target-{time.monotonic_ns()}"
        proc = run(kramaa_bin, "snapshot", "restore", str(path), "--genesis", net["genesis"], "--datadir", str(target), *extra, check=False)
        assert proc.returncode != 0 and expect in proc.stderr, proc.stderr
        assert not (target / "chain.sqlite").exists(), "a refused snapshot must leave no chain"

    flipped = bytearray(data)
    flipped[-10] ^= 0x01  # inside the last chunk
    refused(flipped, expect="chunk")
    refused(data[:-100], expect="truncated")
    refused(data, "--trust-hash", "0x" + "11" * 32, expect="trusted hash")
    # Another chain: the same snapshot against a genesis with another chain id.
    other = tmp_path / "other-genesis.json"
    genesis = json.loads(open(net["genesis"]).read())
    genesis["config"]["chainId"] += 1
    other.write_text(json.dumps(genesis))
    proc = run(kramaa_bin, "snapshot", "verify", str(snapshot), "--genesis", str(other), check=False)
    assert proc.returncode != 0 and "another chain" in proc.stderr, proc.stderr
    # A snapshot of the head while the head is kept: asking for a block whose state is gone says so.
    proc = run(kramaa_bin, "snapshot", "export", "--datadir", str(cluster[2].datadir), "--at", str(10**6), "--out", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0 and "beyond the head" in proc.stderr, proc.stderr
    # The good one still restores.
    json.loads(run(kramaa_bin, "snapshot", "restore", str(snapshot), "--genesis", net["genesis"], "--datadir", str(tmp_path / "ok")).stdout)
    assert out["height"] >= 1
