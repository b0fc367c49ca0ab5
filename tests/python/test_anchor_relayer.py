"""`kramaa anchor deploy|run|status` (docs/ANCHORING.md): a devnet of 4 validator processes
anchored on a py-evm parent chain (eth-tester behind JSON-RPC, parent_chain.py). The relayer
submits real headers and certificates, waits for confirmations that the test mines, and takes
its progress from the contract itself: run again it neither repeats nor skips a checkpoint. A
relayer key without funds is refused with the reason and anchors nothing."""
import json
import pathlib
import re
import subprocess
import threading
import time

import pytest
from eth_utils import keccak

from eth_abi import encode as abi_encode

from parent_chain import ParentChain
from rpc_helpers import http_json
from validators_support import Cluster, wait_until


PROVENANCE = "0x000000000000000000000000000000004b520013"


def devnet_and_parent(kramaa_bin, directory):
    """A running devnet of 4 validator processes and a py-evm parent chain."""
    cluster = Cluster(kramaa_bin, directory / "net", count=4, accounts=2).create()
    cluster.start_all()
    return cluster, ParentChain()


@pytest.fixture(scope="module")
def chains(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("anchor")
    cluster, parent = devnet_and_parent(kramaa_bin, directory)
    yield cluster, parent, directory
    parent.close()
    cluster.shutdown()


def key_file(kramaa_bin, path):
    out = subprocess.run([kramaa_bin, "keys", "new", "--type", "secp256k1", "--out", str(path)], capture_output=True, text=True, check=True).stdout
    return next(line.split()[-1] for line in out.splitlines() if line.startswith("address:"))


def blocks(cluster, count):
    v = cluster.validators
    sender = v[0].rpc("eth_accounts")[0]
    for _ in range(count):
        tx = v[0].rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": "0x1", "gas": "0x5208"})
        wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", tx), 20, message="a block")
    return int(v[0].rpc("eth_blockNumber"), 16)


def anchor(kramaa_bin, *args, parent=None, timeout=120):
    """Runs `kramaa anchor ARGS`, mining a parent block every 0.2 s meanwhile (confirmations)."""
    done = threading.Event()

    def miner():
        while not done.wait(0.2):
            parent.mine(1)

    thread = threading.Thread(target=miner, daemon=True)
    thread.start()
    try:
        return subprocess.run([kramaa_bin, "anchor", *args], capture_output=True, text=True, timeout=timeout)
    finally:
        done.set()
        thread.join()


def latest(parent, contract):
    return int(parent.w3.eth.call({"to": contract, "data": "0x" + keccak(text="latestNumber()")[:4].hex()}).hex(), 16)


def deployed_with_funded_key(kramaa_bin, chains, name, validator=0):
    """A relayer key funded with 10 ether on the parent, and a checkpoint contract it deployed
    (trusting genesis): (the common options naming parent, key and node, the contract)."""
    cluster, parent, directory = chains
    key = directory / f"{name}.json"
    address = key_file(kramaa_bin, key)
    with parent.lock:
        parent.w3.eth.wait_for_transaction_receipt(parent.w3.eth.send_transaction({"from": parent.w3.eth.accounts[0], "to": address, "value": 10**19}))
    common = ["--parent-rpc", parent.url, "--key", str(key), "--rpc", f"http://127.0.0.1:{cluster.validators[validator].rpc_port}"]
    deployed = anchor(kramaa_bin, "deploy", *common, parent=parent)
    assert deployed.returncode == 0, deployed.stderr
    return common, deployed.stdout.split()[-1]


def test_the_relayer_anchors_real_checkpoints_and_resumes_from_the_contract(kramaa_bin, chains):
    cluster, parent, directory = chains
    common, contract = deployed_with_funded_key(kramaa_bin, chains, "relayer", validator=1)
    assert latest(parent, contract) == 0

    head = blocks(cluster, 7)
    ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--confirmations", "3", "--once", *common, parent=parent)
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    expected = head // 5 * 5
    assert [(l["event"], l["number"]) for l in lines] == [("anchored", expected)], ran.stdout
    assert lines[0]["signers"] >= 3 and lines[0]["confirmations"] == 3
    assert latest(parent, contract) == expected
    block = cluster.validators[2].rpc("eth_getBlockByNumber", hex(expected), False)
    assert lines[0]["blockHash"] == block["hash"]
    receipt = parent.w3.eth.get_transaction_receipt(lines[0]["parentTransaction"])
    assert receipt["status"] == 1 and parent.w3.eth.block_number >= receipt["blockNumber"] + 2

    status = json.loads(anchor(kramaa_bin, "status", "--contract", contract, *common, parent=parent).stdout)
    assert status["latestAnchored"] == expected and status["backlog"] == status["head"] - expected
    assert int(status["parentBalance"]) < 10**19

    # Nothing new: a second run anchors nothing (no duplicate); more blocks: the next checkpoint only.
    again = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--once", *common, parent=parent)
    assert again.returncode == 0 and not again.stdout.strip(), again.stdout
    head = blocks(cluster, 6)
    caught_up = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--once", *common, parent=parent)
    assert [json.loads(l)["number"] for l in caught_up.stdout.splitlines() if l.startswith("{")] == [head // 5 * 5]
    assert latest(parent, contract) == head // 5 * 5


def test_a_relayer_key_without_funds_is_refused_and_anchors_nothing(kramaa_bin, chains, tmp_path):
    cluster, parent, directory = chains
    _, contract = deployed_with_funded_key(kramaa_bin, chains, "deployer")
    rpc = ["--rpc", f"http://127.0.0.1:{cluster.validators[0].rpc_port}"]
    blocks(cluster, 5)
    poor = tmp_path / "poor.json"
    key_file(kramaa_bin, poor)
    ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--once", "--parent-rpc", parent.url, "--key", str(poor), *rpc,
                 parent=parent)
    assert ran.returncode != 0 and "holds nothing on the parent chain: fund it" in ran.stderr, ran.stderr
    assert latest(parent, contract) == 0


def test_an_epcis_events_anchor_receipt_verifies_trusting_only_the_parent_chain(kramaa_bin, chains, tmp_path):
    """An EPCIS event captured on chain; its transaction's anchor receipt (block roots, history
    proof to the checkpoint, the checkpoint in the contract) verifies against the parent chain;
    a tampered bundle does not, naming the step."""
    cluster, parent, directory = chains
    v = cluster.validators
    common, contract = deployed_with_funded_key(kramaa_bin, chains, "relayer-receipts", validator=2)
    admin = v[0].rpc("eth_accounts")[1]
    status, org = http_json(v[0].rpc_port, "POST", "/api/v1/organizations", {"from": admin, "name": "Anchored brand"})
    assert status in (200, 201), org
    event = {"type": "ObjectEvent", "eventTime": "2026-12-05T10:00:00.000+01:00", "eventTimeZoneOffset": "+01:00",
             "epcList": ["urn:epc:id:sgtin:0614141.107346.9001"], "action": "OBSERVE", "bizStep": "shipping",
             "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2026-12-05T10:00:00Z", "epcisBody": {"eventList": [event]}}
    data = keccak(text="captureEvents(uint256,bytes)")[:4] + abi_encode(["uint256", "bytes"], [org["id"], json.dumps(document).encode()])
    tx = v[0].rpc("eth_sendTransaction", {"from": admin, "to": PROVENANCE, "data": "0x" + data.hex()})
    receipt = wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", tx), 20, message="the capture")
    assert receipt["status"] == "0x1" and receipt["logs"], receipt
    blocks(cluster, 5)
    ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--confirmations", "2", "--once", *common, parent=parent)
    assert ran.returncode == 0, ran.stderr
    bundle = tmp_path / "receipt.json"
    made = anchor(kramaa_bin, "receipt", tx, "--log", "0", "--contract", contract, "--out", str(bundle), *common[:2], *common[4:], parent=parent)
    assert made.returncode == 0, made.stderr
    checked = anchor(kramaa_bin, "verify", str(bundle), "--parent-rpc", parent.url, "--confirmations", "2", parent=parent)
    assert checked.returncode == 0, checked.stderr
    assert f"transaction {tx}" in checked.stdout and "is anchored in" in checked.stdout and PROVENANCE[2:] in checked.stdout.lower()
    assert "is in the history of block" in checked.stdout

    # Tampered: another event's receipt, a history sibling changed, the contract not anchoring it.
    original = json.loads(bundle.read_text())
    for change, reason in [
        (lambda b: b["transaction"].update(index=5), "is not at index"),
        (lambda b: b["history"]["siblings"].__setitem__(0, "0x" + "00" * 32), "is not in the history proof's root"),
        (lambda b: b["block"]["receipts"].pop(), "receipts root"),
        (lambda b: b["parent"].update(contract="0x" + "11" * 20), "anchors another chain"),
    ]:
        tampered = json.loads(json.dumps(original))
        change(tampered)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(tampered))
        out = anchor(kramaa_bin, "verify", str(path), "--parent-rpc", parent.url, parent=parent)
        assert out.returncode != 0 and reason in out.stderr, (reason, out.stderr)


def test_the_relayer_follows_a_validator_set_change_through_the_block_before_it(kramaa_bin, kramaa, chains):
    """Validator 3 is removed (three approvals of four); the relayer anchors the block before the
    change takes effect (certified by the four, naming the three), then a later block that only
    the three signed: the contract follows the set without trusting the relayer."""
    cluster, parent, directory = chains
    v = cluster.validators
    rpc = ["--rpc", f"http://127.0.0.1:{v[0].rpc_port}"]
    common, contract = deployed_with_funded_key(kramaa_bin, chains, "relayer-2")

    def validators(*args):
        return kramaa("validators", *args, *rpc).stdout

    out = validators("propose-remove", cluster.addresses[3], "--key", str(v[0].datadir / "node-key.json"))
    proposal = re.search(r"proposal (\d+)", out)[1]
    validators("approve", proposal, "--key", str(v[1].datadir / "node-key.json"))
    out = validators("approve", proposal, "--key", str(v[2].datadir / "node-key.json"))
    assert "executed" in out, out
    effective = int(re.search(r"in block (\d+)", out)[1]) + 2
    head = blocks(cluster, 8)
    assert head > effective + 5
    ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--once", *common, parent=parent)
    assert ran.returncode == 0, ran.stderr
    numbers = [json.loads(l)["number"] for l in ran.stdout.splitlines() if l.startswith("{")]
    assert numbers == [effective - 1, head // 5 * 5], ran.stdout
    epoch = int(parent.w3.eth.call({"to": contract, "data": "0x" + keccak(text="epoch()")[:4].hex()}).hex(), 16)
    assert epoch == 2
    # Once the states around the change are no longer kept (the last 128), the node still names
    # each height's set, from the set-change logs (the relayer and the commitments rely on it).
    four = [a.lower() for a in cluster.addresses]
    assert v[0].rpc("kramaa_validators", hex(effective - 1)) == four
    blocks(cluster, 130)
    with pytest.raises(Exception, match="historical state not available"):
        v[0].rpc("eth_getBalance", cluster.addresses[0], hex(effective - 1))
    assert v[0].rpc("kramaa_validators", hex(effective - 1)) == four
    assert v[0].rpc("kramaa_validators", hex(effective)) == four[:3]
    remaining = {parent.w3.to_checksum_address(a) for a in cluster.addresses[:3]}
    for i in range(3):
        data = "0x" + keccak(text="validators(uint256)")[:4].hex() + hex(i)[2:].rjust(64, "0")
        assert parent.w3.to_checksum_address("0x" + parent.w3.eth.call({"to": contract, "data": data}).hex()[-40:]) in remaining


def test_the_anchoring_benchmark_runs_small(kramaa_bin, tmp_path):
    """scripts/bench.sh anchoring's measurements, with a backlog of 20 blocks (the real run: 10,000)."""
    import sys
    out = tmp_path / "BENCHMARKS.md"
    ran = subprocess.run([sys.executable, "tools/bench/anchoring_bench.py", "--binary", kramaa_bin, "--out", str(out), "--backlog", "20"],
                         capture_output=True, text=True, timeout=600, cwd=pathlib.Path(__file__).resolve().parents[2])
    assert ran.returncode == 0, ran.stderr[-3000:]
    text = out.read_text()
    assert "## Anchoring" in text and "a checkpoint every 1,000 blocks" in text and "after 20 unanchored blocks" in text
    gas = int(re.search(r"a checkpoint every 1 blocks \| ([\d,]+) ", text)[1].replace(",", ""))
    assert 100_000 < gas < 300_000, text
