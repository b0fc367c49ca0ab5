"""Triggers without keepers (docs/TRIGGERS.md) on a real devnet: a Vyper contract registers a
deadline trigger that calls it back; with nothing else sent, the node makes the block that
begins with the run, a system transaction (type 0x4c) from the system address that JSON-RPC
shows with its receipt and logs; the callback refuses anyone else."""
import time

import pytest
import rlp
from eth_utils import keccak

from rpc_helpers import compile_vyper, deploy, qty, transact

SYSTEM_ADDRESS = "0xfffffffffffffffffffffffffffffffffffffffe"
TRIGGERS = "0x000000000000000000000000000000004b520019"
ALARM = """
# pragma version ~=0.4.3
interface Triggers:
    def registerTrigger(target: address, data: Bytes[1024], gasLimit: uint64, deadline: uint64, device: address,
                        kind: bytes32, threshold: int256, above: bool, repeating: bool) -> uint256: payable

TRIGGERS: constant(address) = 0x000000000000000000000000000000004B520019
fired: public(uint256)
triggerId: public(uint256)

@external
@payable
def arm(delay: uint64):
    data: Bytes[1024] = method_id("fire()")
    self.triggerId = extcall Triggers(TRIGGERS).registerTrigger(
        self, data, 100000, convert(block.timestamp, uint64) + delay, empty(address), empty(bytes32), 0, True, False, value=msg.value)

@external
def fire():
    assert msg.sender == TRIGGERS, "only the triggers contract runs this"
    self.fired += 1

@external
@payable
def __default__():
    pass
"""


def test_a_deadline_trigger_runs_on_its_own_as_a_system_transaction(devnet, tmp_path):
    w3 = devnet.web3()
    source = tmp_path / "Alarm.vy"
    source.write_text(ALARM)
    alarm = deploy(w3, devnet.keys[4], str(source))
    with pytest.raises(Exception, match="only the triggers contract runs this"):
        alarm.functions.fire().call()
    armed = transact(w3, devnet.keys[4], alarm.functions.arm(2), value=10**16)
    assert armed["status"] == 1 and alarm.functions.triggerId().call() >= 1
    deadline = time.monotonic() + 15
    while alarm.functions.fired().call() == 0:
        assert time.monotonic() < deadline, "the trigger did not run within 15 s"
        time.sleep(0.2)
    # The run: the first transaction of a later block, type 0x4c, from the system address.
    head = qty(devnet.rpc("eth_blockNumber"))
    runs = []
    for number in range(armed["blockNumber"] + 1, head + 1):
        block = devnet.rpc("eth_getBlockByNumber", hex(number), True)
        runs += [(number, i, tx) for i, tx in enumerate(block["transactions"]) if tx["type"] == "0x4c"]
    assert len(runs) == 1, runs
    number, index, tx = runs[0]
    assert index == 0 and tx["from"].lower() == SYSTEM_ADDRESS and tx["to"].lower() == TRIGGERS
    assert qty(tx["nonce"]) == number and qty(tx["gasPrice"]) == 0
    receipt = devnet.rpc("eth_getTransactionReceipt", tx["hash"])
    assert receipt["status"] == "0x1" and receipt["type"] == "0x4c"
    ran = keccak(b"TriggerRan(uint256,bool,uint64,uint256,bytes)").hex()
    assert any(log["topics"][0].removeprefix("0x") == ran for log in receipt["logs"])
    # It ran once, and a system transaction cannot be sent.
    time.sleep(1.5)
    assert alarm.functions.fired().call() == 1
    fields = [1337, number + 1, 0, 0, 200_000, bytes.fromhex(TRIGGERS[2:]), 0, bytes(keccak(b"runTrigger(uint256)")[:4]) + bytes(32), []]
    with pytest.raises(Exception, match=r"system transactions \(type 0x4c\) are made by the validators"):
        devnet.rpc("eth_sendRawTransaction", "0x4c" + rlp.encode(fields).hex())


def test_four_validator_processes_agree_on_a_due_trigger(kramaa_bin, tmp_path):
    """On 4 validators as separate processes, a deadline trigger's run begins a block that every
    validator proposes or accepts: the same block, with the system transaction first, at each."""
    from web3 import Web3
    from validators_support import Cluster, wait_until
    cluster = Cluster(kramaa_bin, tmp_path / "net", count=4, accounts=2).create().start_all()
    try:
        time.sleep(1.5)  # the validators' peer connections
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{cluster[1].rpc_port}"))
        source = tmp_path / "Alarm.vy"
        source.write_text(ALARM)
        alarm = deploy(w3, cluster.keys[0], str(source))
        armed = transact(w3, cluster.keys[0], alarm.functions.arm(2), value=10**16)
        assert armed["status"] == 1
        wait_until(lambda: alarm.functions.fired().call() == 1, 20, message="the trigger's run")
        numbers = range(armed["blockNumber"] + 1, cluster[0].number() + 1)
        found = [n for n in numbers if any(tx["type"] == "0x4c" for tx in cluster[0].rpc("eth_getBlockByNumber", hex(n), True)["transactions"])]
        assert len(found) == 1, found
        block = {v.index: v.rpc("eth_getBlockByNumber", hex(found[0]), False) for v in cluster}
        assert len({b["hash"] for b in block.values()}) == 1, "every validator has the same block"
        tx = cluster[3].rpc("eth_getTransactionByBlockNumberAndIndex", hex(found[0]), "0x0")
        assert tx["type"] == "0x4c" and tx["from"].lower() == SYSTEM_ADDRESS
    finally:
        cluster.kill_all()


def test_the_coordination_benchmark_runs_small(kramaa_bin, tmp_path):
    """The smoke version of `scripts/bench.sh coordination` (tools/bench/coordination_bench.py):
    every row measured against its reference and written to a temporary file, never BENCHMARKS.md."""
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]
    out = tmp_path / "bench.md"
    proc = subprocess.run([sys.executable, str(root / "tools/bench/coordination_bench.py"), "--binary", kramaa_bin, "--out", str(out), "--quick"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert "## Coordination" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| measure") and "---" not in line]
    assert len(rows) == 3 and "200 of 200" in rows[0], text
