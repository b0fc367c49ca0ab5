#!/usr/bin/env python3
"""Anchoring benchmark (scripts/bench.sh anchoring). Writes the "Anchoring" section of
BENCHMARKS.md (or of --out): a devnet of 4 validator processes anchored by `kramaa anchor` on
py-evm (eth-tester behind JSON-RPC, tests/python/parent_chain.py), each figure against a
reference measured in the same run:

1. parent-chain gas per anchored block when anchoring every N = 1, 100, 1,000 blocks (one
   checkpoint per N blocks, its gas measured), against storing each block hash in a contract of
   its own on the same parent (one SSTORE-carrying call per block, measured);
2. anchor-receipt generation and verification time (`kramaa anchor receipt`, `kramaa anchor
   verify`, whole processes), against a process making one JSON-RPC call (`kramaa validators list`);
3. relayer catch-up after 10,000 unanchored blocks (--quick: 1,000): the time of `kramaa anchor
   run --once` with that backlog, against the same with a backlog of 10 blocks.
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from eth_utils import keccak

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks_md import write_section  # noqa: E402
from parent_chain import ParentChain  # noqa: E402
from rpc_helpers import compile_vyper  # noqa: E402
from validators_support import Cluster, wait_until  # noqa: E402

TITLE = "## Anchoring (checkpoints on a parent chain, anchor receipts, catch-up)"
NAIVE = """
# pragma version ~=0.4.3
hashes: public(HashMap[uint256, bytes32])

@external
def store(number: uint256, blockHash: bytes32):
    self.hashes[number] = blockHash
"""


class Bench:
    def __init__(self, binary, work):
        self.binary, self.work = binary, pathlib.Path(work)
        self.cluster = Cluster(binary, self.work / "net", count=4, accounts=2).create()
        self.cluster.start_all()
        self.parent = ParentChain()
        key = self.work / "relayer.json"
        out = subprocess.run([binary, "keys", "new", "--type", "secp256k1", "--out", str(key)], capture_output=True, text=True, check=True).stdout
        address = next(line.split()[-1] for line in out.splitlines() if line.startswith("address:"))
        with self.parent.lock:
            w3 = self.parent.w3
            w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": address, "value": 10**21}))
        self.common = ["--parent-rpc", self.parent.url, "--key", str(key), "--rpc", f"http://127.0.0.1:{self.cluster.validators[0].rpc_port}"]

    def close(self):
        self.parent.close()
        self.cluster.shutdown()

    def anchor(self, *args):
        """`kramaa anchor ARGS` with a parent block mined every 0.1 s meanwhile; (stdout, seconds)."""
        done = threading.Event()
        miner = threading.Thread(target=lambda: [self.parent.mine(1) for _ in iter(lambda: done.wait(0.1), True)], daemon=True)
        miner.start()
        start = time.perf_counter()
        try:
            result = subprocess.run([self.binary, "anchor", *args], capture_output=True, text=True, timeout=3600)
        finally:
            done.set()
            miner.join()
        assert result.returncode == 0, result.stderr
        return result.stdout, time.perf_counter() - start

    def blocks(self, count):
        """`count` more blocks, each with one transfer (sent in batches, a block per transfer)."""
        v = self.cluster.validators[0]
        sender = v.rpc("eth_accounts")[0]
        target = int(v.rpc("eth_blockNumber"), 16) + count
        while int(v.rpc("eth_blockNumber"), 16) < target:
            tx = v.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": "0x1", "gas": "0x5208"})
            wait_until(lambda: v.rpc("eth_getTransactionReceipt", tx), 30, interval=0.005, message="a block")
        return target

    def deploy(self):
        return self.anchor("deploy", *self.common)[0].split()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="a backlog of 1,000 blocks instead of 10,000")
    parser.add_argument("--backlog", type=int, help="the catch-up backlog in blocks (the tests' smoke run: a few)")
    args = parser.parse_args()
    backlog = args.backlog or (1_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as work:
        bench = Bench(args.binary, work)
        try:
            # 1. Gas: three checkpoints of the relayer, and the naive reference (one stored hash per block).
            contract = bench.deploy()
            gas = []
            for _ in range(3):
                bench.blocks(5)
                out, _ = bench.anchor("run", "--contract", contract, "--every", "5", "--confirmations", "1", "--once", *bench.common)
                gas += [json.loads(line)["gasUsed"] for line in out.splitlines() if line.startswith("{")]
            checkpoint_gas = statistics.median(gas)
            w3 = bench.parent.w3
            abi, bytecode = compile_vyper(NAIVE)
            with bench.parent.lock:
                receipt = w3.eth.wait_for_transaction_receipt(w3.eth.contract(abi=abi, bytecode=bytecode).constructor().transact({"from": w3.eth.accounts[0]}))
                naive = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
                naive_gas = statistics.median(
                    w3.eth.wait_for_transaction_receipt(naive.functions.store(n, keccak(b"%d" % n)).transact({"from": w3.eth.accounts[0]}))["gasUsed"]
                    for n in range(1, 6))

            # 2. Receipt generation and verification, against one JSON-RPC call in a process.
            v = bench.cluster.validators[0]
            sender = v.rpc("eth_accounts")[0]
            tx = v.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": "0x1", "gas": "0x5208"})
            wait_until(lambda: v.rpc("eth_getTransactionReceipt", tx), 30, message="the receipt's transaction")
            bench.blocks(5)
            bench.anchor("run", "--contract", contract, "--every", "5", "--confirmations", "1", "--once", *bench.common)
            bundle = pathlib.Path(work) / "receipt.json"
            receipt_times, verify_times, reference_times = [], [], []
            for _ in range(5):
                receipt_times.append(bench.anchor("receipt", tx, "--contract", contract, "--out", str(bundle), *bench.common[:2], *bench.common[4:])[1])
                verify_times.append(bench.anchor("verify", str(bundle), "--parent-rpc", bench.parent.url)[1])
                start = time.perf_counter()
                subprocess.run([args.binary, "validators", "list", *bench.common[4:]], capture_output=True, check=True)
                reference_times.append(time.perf_counter() - start)
            bundle_size = bundle.stat().st_size

            # 3. Catch-up: a backlog of 10 blocks, then of `backlog` blocks, each one `run --once`.
            small = bench.deploy()
            bench.blocks(10)
            _, small_time = bench.anchor("run", "--contract", small, "--every", "10", "--confirmations", "1", "--once", *bench.common)
            large = bench.deploy()
            made_start = time.perf_counter()
            bench.blocks(backlog)
            made = time.perf_counter() - made_start
            out, large_time = bench.anchor("run", "--contract", large, "--every", "10", "--confirmations", "1", "--once", *bench.common)
            head = int(v.rpc("eth_blockNumber"), 16)
        finally:
            bench.close()
    ms = lambda seconds: f"{statistics.median(seconds) * 1000:.0f} ms"
    rows = [
        "| measurement | figure | reference (same run) | ratio |",
        "|---|---:|---|---:|",
    ]
    for n in (1, 100, 1000):
        rows.append(f"| parent gas per anchored block, a checkpoint every {n:,} blocks | {checkpoint_gas / n:,.0f} | "
                    f"storing each block hash on the parent: {naive_gas:,.0f} gas per block | {checkpoint_gas / n / naive_gas:.4f} |")
    reference = statistics.median(reference_times)
    rows += [
        f"| `kramaa anchor receipt` (whole process; bundle {bundle_size:,} bytes) | {ms(receipt_times)} | one JSON-RPC call in a process (`kramaa validators list`): {reference * 1000:.0f} ms | {statistics.median(receipt_times) / reference:.1f} |",
        f"| `kramaa anchor verify` (whole process, against the parent) | {ms(verify_times)} | the same | {statistics.median(verify_times) / reference:.1f} |",
        f"| catch-up: `kramaa anchor run --once` after {backlog:,} unanchored blocks (head {head:,}) | {large_time:.2f} s | the same after 10 blocks: {small_time:.2f} s | {large_time / small_time:.2f} |",
    ]
    text = "\n".join([
        TITLE,
        "",
        f"Command: `scripts/bench.sh anchoring{' --quick' if args.quick else ''}`; a devnet of 4 validator processes (release build), "
        "parent chain py-evm through eth-tester behind JSON-RPC (tests/python/parent_chain.py), 1 confirmation.",
        "",
        *rows,
        "",
        f"- A checkpoint costs {checkpoint_gas:,.0f} gas whatever N (3 of 4 or 4 of 4 signatures: ecrecover each, the header's RLP walked "
        "to its extraData, one checkpoint record written), so the cost per block is that divided by N. One checkpoint anchors every block "
        "before it through the history root in its header.",
        f"- Catch-up is one checkpoint at the last multiple of N, whatever the backlog. Its time grows with the chain only through the node "
        f"rebuilding the history root from the stored hashes. Making the {backlog:,} blocks took {made:.0f} s.",
        f"- {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.",
    ])
    write_section(args.out, TITLE, text)
    print(text)


if __name__ == "__main__":
    main()
