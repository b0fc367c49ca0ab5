"""The relayers inside the node (`kramaa node --anchor-config`, docs/ANCHORING.md): a validator of a
4-validator devnet relays to a py-evm parent and to a second Kramaa network (a single-node devnet)
at once, and to a parent that does not answer (reported, the node keeps serving); killed with
SIGKILL it catches up from the contracts, with no gap or duplicate. A parent reorganisation that
drops a checkpoint has it sent again. Bad configurations are refused with the reason."""
import json
import os
import subprocess
import threading
import time

import pytest
from eth_utils import keccak

from conftest import NodeProcess
from parent_chain import ParentChain
from test_anchor_relayer import anchor, devnet_and_parent, key_file, latest
from validators_support import rpc, wait_until

ANCHORED = "0x" + keccak(text="CheckpointAnchored(uint256,bytes32,bytes32,uint256)").hex()
EVERY = 5


@pytest.fixture(scope="module")
def setup(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("anchor-node")
    cluster, parent = devnet_and_parent(kramaa_bin, directory)
    kramaa_parent = NodeProcess(kramaa_bin, "devnet", directory / "parent-chain", ["--chain-id", "4242", "--no-mqtt"],
                                log_dir=directory)
    kramaa_parent.start(fresh=True)
    done = threading.Event()
    threading.Thread(target=lambda: [parent.mine(1) for _ in iter(lambda: done.wait(0.2), True)], daemon=True).start()
    # The Kramaa parent seals blocks only for transactions: one every 0.3 s gives the confirmations.
    sender = rpc(kramaa_parent.port, "eth_accounts")[1]
    threading.Thread(target=lambda: [rpc(kramaa_parent.port, "eth_sendTransaction", {"from": sender, "to": "0x" + "44" * 20, "value": "0x1"})
                                     for _ in iter(lambda: done.wait(0.3), True)], daemon=True).start()
    yield cluster, parent, kramaa_parent, directory
    done.set()
    cluster.shutdown()
    kramaa_parent.stop()
    parent.close()


def blocks(cluster, count, via=1):
    v = cluster.validators[via]
    sender = v.rpc("eth_accounts")[0]
    for _ in range(count):
        tx = v.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "22" * 20, "value": "0x1", "gas": "0x5208"})
        wait_until(lambda: v.rpc("eth_getTransactionReceipt", tx), 20, message="a block")
    return int(v.rpc("eth_blockNumber"), 16)


def anchored_numbers(port_or_parent, contract):
    """The numbers of the contract's CheckpointAnchored logs, in the parent's order."""
    query = {"address": contract, "fromBlock": "0x0", "toBlock": "latest", "topics": [ANCHORED]}
    if isinstance(port_or_parent, ParentChain):
        logs = port_or_parent.w3.eth.get_logs({**query, "address": port_or_parent.w3.to_checksum_address(contract)})
        return [int(log["topics"][1].hex(), 16) for log in logs]
    return [int(log["topics"][1], 16) for log in rpc(port_or_parent, "eth_getLogs", query)]


def kramaa_latest(port, contract):
    return int(rpc(port, "eth_call", {"to": contract, "data": "0x" + keccak(text="latestNumber()")[:4].hex()}, "latest"), 16)


@pytest.fixture(scope="module")
def relaying(kramaa_bin, setup):
    """Validator 0 restarted with relayers to py-evm, to the Kramaa parent and to a parent that
    does not answer; returns the two contracts."""
    cluster, parent, kramaa_parent, directory = setup
    child = ["--rpc", f"http://127.0.0.1:{cluster.validators[1].rpc_port}"]
    py_key, kr_key = directory / "py-relayer.json", directory / "kr-relayer.json"
    py_address, kr_address = key_file(kramaa_bin, py_key), key_file(kramaa_bin, kr_key)
    with parent.lock:
        parent.w3.eth.wait_for_transaction_receipt(parent.w3.eth.send_transaction({"from": parent.w3.eth.accounts[0], "to": py_address, "value": 10**19}))
    funder = rpc(kramaa_parent.port, "eth_accounts")[0]
    tx = rpc(kramaa_parent.port, "eth_sendTransaction", {"from": funder, "to": kr_address, "value": hex(10**19)})
    wait_until(lambda: rpc(kramaa_parent.port, "eth_getTransactionReceipt", tx), 20, message="the funding")
    contracts = {}
    for label, url, key in (("py-evm", parent.url, py_key), ("kramaa-parent", f"http://127.0.0.1:{kramaa_parent.port}", kr_key)):
        deployed = anchor(kramaa_bin, "deploy", "--parent-rpc", url, "--key", str(key), *child, parent=parent)
        assert deployed.returncode == 0, deployed.stderr
        contracts[label] = (url, deployed.stdout.split()[-1], key)
    config = directory / "anchors.json"
    config.write_text(json.dumps({"parents": [
        *({"label": label, "rpc": url, "contract": contract, "key": str(key), "every": EVERY, "confirmations": 2}
          for label, (url, contract, key) in contracts.items()),
        {"label": "down", "rpc": "http://127.0.0.1:9", "contract": "0x" + "33" * 20, "key": str(py_key), "every": EVERY},
    ]}))
    v0 = cluster.validators[0]
    v0.stop()
    v0.extra_args = ["--anchor-config", str(config)]
    v0.start()
    return {label: contract for label, (_, contract, _) in contracts.items()}


def test_one_node_anchors_to_py_evm_and_a_second_kramaa_network_at_once(kramaa_bin, setup, relaying):
    cluster, parent, kramaa_parent, directory = setup
    head = blocks(cluster, 2 * EVERY + 1)
    expected = head // EVERY * EVERY
    started = time.monotonic()
    wait_until(lambda: latest(parent, relaying["py-evm"]) >= expected and kramaa_latest(kramaa_parent.port, relaying["kramaa-parent"]) >= expected,
               90, interval=0.2, message=f"both parents anchoring block {expected}\n{cluster.validators[0].logs_tail()}")
    print(f"both parents anchored block {expected} {time.monotonic() - started:.1f} s after the head reached it")
    v0 = cluster.validators[0]
    wait_until(lambda: all(s.get("latestAnchored", 0) >= expected for s in v0.rpc("kramaa_anchorStatus") if s["label"] != "down"), 20,
               message="the status catching up")
    status = {s["label"]: s for s in v0.rpc("kramaa_anchorStatus")}
    assert set(status) == {"py-evm", "kramaa-parent", "down"}
    for label in ("py-evm", "kramaa-parent"):
        s = status[label]
        assert s["contract"].lower() == relaying[label].lower() and s["lastError"] is None, s
        assert s["latestAnchored"] >= expected and s["backlog"] == s["head"] - s["latestAnchored"], s
        assert s["parentTransaction"] and s["parentBlock"] > 0 and 0 < int(s["parentBalance"]) < 10**19, s
    assert status["kramaa-parent"]["parentBlock"] == int(rpc(kramaa_parent.port, "eth_getTransactionReceipt",
                                                              status["kramaa-parent"]["parentTransaction"])["blockNumber"], 16)
    # The parent that does not answer: reported with the reason; the node serves meanwhile.
    assert "cannot reach" in status["down"]["lastError"], status["down"]
    assert v0.number() >= head
    logged = v0.log.read_text(errors="replace")
    assert "anchor down: " in logged and logged.count("anchor down: ") < 5, "a failure repeated is logged once"

    # `kramaa anchor status` shows the node's relayers, one by its label; an unknown label is refused.
    rpc_option = ["--rpc", f"http://127.0.0.1:{v0.rpc_port}"]
    one = subprocess.run([kramaa_bin, "anchor", "status", "--label", "kramaa-parent", *rpc_option], capture_output=True, text=True)
    assert one.returncode == 0 and json.loads(one.stdout)["latestAnchored"] >= expected, one.stderr
    unknown = subprocess.run([kramaa_bin, "anchor", "status", "--label", "mainnet", *rpc_option], capture_output=True, text=True)
    assert unknown.returncode != 0 and 'no relayer for a parent labelled "mainnet"' in unknown.stderr and "py-evm" in unknown.stderr, unknown.stderr
    # A node without relayers says how to start them.
    with pytest.raises(Exception, match="runs no relayers: start it with --anchor-config"):
        cluster.validators[1].rpc("kramaa_anchorStatus")

    # The relayers' state in /metrics, per parent chain.
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{v0.rpc_port}/metrics", timeout=10).read().decode()
    for label in ("py-evm", "kramaa-parent"):
        line = next(l for l in text.splitlines() if l.startswith(f'kramaa_anchor_latest_anchored_block{{chain="{label}"}}'))
        assert float(line.split()[-1]) >= expected, line
    assert 'kramaa_anchor_failing{chain="down"} 1' in text

    # The parents it relays to are watched: a block's explorer page says where it is anchored.
    def anchored_on_both():
        page = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{v0.rpc_port}/dashboard/blocks/{expected}"), timeout=10).read().decode()
        return "anchored on py-evm at block" in page and "anchored on kramaa-parent at block" in page
    wait_until(anchored_on_both, 20, message="the block page naming both parents")


def test_killed_the_node_catches_up_with_no_gap_or_duplicate(kramaa_bin, setup, relaying):
    cluster, parent, kramaa_parent, directory = setup
    v0 = cluster.validators[0]
    blocks(cluster, EVERY)
    time.sleep(0.5)  # the relayers busy with the new target
    assert v0.kill() == -9
    head = blocks(cluster, 2 * EVERY + 2)
    expected = head // EVERY * EVERY
    assert latest(parent, relaying["py-evm"]) < expected
    v0.start()
    started = time.monotonic()
    wait_until(lambda: latest(parent, relaying["py-evm"]) >= expected and kramaa_latest(kramaa_parent.port, relaying["kramaa-parent"]) >= expected,
               90, interval=0.2, message=f"catching up to {expected}\n{v0.logs_tail()}")
    print(f"caught up to block {expected} {time.monotonic() - started:.1f} s after the restart")
    for numbers in (anchored_numbers(parent, relaying["py-evm"]), anchored_numbers(kramaa_parent.port, relaying["kramaa-parent"])):
        assert numbers == sorted(set(numbers)), f"a checkpoint repeated or out of order: {numbers}"
        assert all(n % EVERY == 0 for n in numbers) and numbers[-1] >= expected, numbers


def test_an_anchor_receipt_verifies_offline_against_trusted_parent_headers(kramaa_bin, setup, relaying, tmp_path):
    """The bundle carries the parent block's header and the receipt-trie proof of the checkpoint's
    transaction: verified with no parent RPC, against a file of trusted parent block hashes, for
    both parents (py-evm: the header rebuilt from its JSON; Kramaa: debug_getRawHeader)."""
    cluster, parent, kramaa_parent, directory = setup
    v1 = cluster.validators[1]
    tx = v1.rpc("eth_sendTransaction", {"from": v1.rpc("eth_accounts")[0], "to": "0x" + "55" * 20, "value": "0x7", "gas": "0x5208"})
    number = int(wait_until(lambda: v1.rpc("eth_getTransactionReceipt", tx), 20, message="the transfer")["blockNumber"], 16)
    blocks(cluster, EVERY)
    urls = {"py-evm": parent.url, "kramaa-parent": f"http://127.0.0.1:{kramaa_parent.port}"}
    for label, url in urls.items():
        port = int(url.rsplit(":", 1)[1])
        contract = relaying[label]
        current = (lambda: latest(parent, contract)) if label == "py-evm" else (lambda: kramaa_latest(kramaa_parent.port, contract))
        wait_until(lambda: current() >= number, 60, interval=0.2, message=f"{label} anchoring block {number}")
        bundle = tmp_path / f"{label}.json"
        made = subprocess.run([kramaa_bin, "anchor", "receipt", tx, "--contract", contract, "--parent-rpc", url, "--out", str(bundle),
                               "--rpc", f"http://127.0.0.1:{v1.rpc_port}"], capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        time.sleep(1)  # a few parent blocks: confirmations
        head = int(rpc(port, "eth_blockNumber"), 16)
        trusted = {"blocks": [{"number": n, "hash": rpc(port, "eth_getBlockByNumber", hex(n), False)["hash"]} for n in range(head + 1)]}
        headers = tmp_path / f"{label}-headers.json"
        headers.write_text(json.dumps(trusted))

        def verify(path, headers_path=headers, confirmations=2):
            return subprocess.run([kramaa_bin, "anchor", "verify", str(path), "--parent-headers", str(headers_path), "--confirmations", str(confirmations)],
                                  capture_output=True, text=True, timeout=60)

        checked = verify(bundle)
        assert checked.returncode == 0, checked.stderr
        assert f"transaction {tx}" in checked.stdout and "in trusted parent block" in checked.stdout, checked.stdout
        original = json.loads(bundle.read_text())
        at = original["parent"]["block"]
        assert verify(bundle, confirmations=head - at + 2).stderr.count("fewer than") == 1
        missing = tmp_path / "missing.json"
        missing.write_text(json.dumps({"blocks": [b for b in trusted["blocks"] if b["number"] != at]}))
        out = verify(bundle, missing)
        assert out.returncode != 0 and "is not among the trusted parent headers" in out.stderr, out.stderr

        def flip(node):
            return node[:-2] + ("00" if node[-2:] != "00" else "11")
        for change, reason in [
            (lambda b: b["parent"]["receiptProof"].__setitem__(-1, flip(b["parent"]["receiptProof"][-1])), "receipt proof does not match"),
            (lambda b: b["parent"].update(transactionIndex=b["parent"]["transactionIndex"] + 1), "receipt proof does not match"),
            (lambda b: b["parent"].update(contract="0x" + "11" * 20), "has no CheckpointAnchored log of checkpoint"),
            (lambda b: b["parent"].update(header=b["parent"]["header"][:-2] + "ff"), "parent"),
        ]:
            tampered = json.loads(json.dumps(original))
            change(tampered)
            path = tmp_path / "tampered.json"
            path.write_text(json.dumps(tampered))
            out = verify(path)
            assert out.returncode != 0 and reason in out.stderr, (label, reason, out.stderr)
    neither = subprocess.run([kramaa_bin, "anchor", "verify", str(bundle)], capture_output=True, text=True)
    assert neither.returncode != 0 and "--parent-rpc URL (online) or --parent-headers FILE (offline)" in neither.stderr


def own_contract(kramaa_bin, cluster, parent, tmp_path):
    """A funded relayer key and a checkpoint contract on `parent`: (the options naming them, the contract)."""
    key = tmp_path / "relayer.json"
    address = key_file(kramaa_bin, key)
    with parent.lock:
        parent.w3.eth.wait_for_transaction_receipt(parent.w3.eth.send_transaction({"from": parent.w3.eth.accounts[0], "to": address, "value": 10**19}))
    common = ["--parent-rpc", parent.url, "--key", str(key), "--rpc", f"http://127.0.0.1:{cluster.validators[1].rpc_port}"]
    deployed = subprocess.run([kramaa_bin, "anchor", "deploy", *common], capture_output=True, text=True, timeout=60)
    assert deployed.returncode == 0, deployed.stderr
    return common, deployed.stdout.split()[-1]


def test_a_parent_reorganisation_drops_the_checkpoint_and_it_is_sent_again(kramaa_bin, setup, tmp_path):
    """A parent of its own (no miner): the checkpoint is included, the parent goes back to before
    its block (eth-tester's snapshot) while the relayer waits for confirmations; it is sent again."""
    cluster, _, _, directory = setup
    parent = ParentChain()
    try:
        common, contract = own_contract(kramaa_bin, cluster, parent, tmp_path)
        head = blocks(cluster, EVERY)
        target = head // EVERY * EVERY
        before = parent.snapshot()
        parent.methods.clear()
        run = subprocess.Popen([kramaa_bin, "anchor", "run", "--contract", contract, "--every", str(EVERY), "--confirmations", "5", "--once", *common],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Included, and the relayer has its receipt: it waits for confirmations (eth_blockNumber after the send).
        wait_until(lambda: "eth_blockNumber" in parent.methods[parent.methods.index("eth_sendRawTransaction"):]
                   if "eth_sendRawTransaction" in parent.methods else False, 30, message="the relayer waiting for confirmations")
        assert latest(parent, contract) == target
        parent.revert(before)
        assert latest(parent, contract) == 0
        done = threading.Event()
        threading.Thread(target=lambda: [parent.mine(1) for _ in iter(lambda: done.wait(0.1), True)], daemon=True).start()
        try:
            out, err = run.communicate(timeout=90)
        finally:
            done.set()
        assert run.returncode == 0, err
        events = [(e["event"], e["number"]) for e in map(json.loads, out.splitlines())]
        assert events == [("dropped", target), ("anchored", target)], out
        assert latest(parent, contract) == target and anchored_numbers(parent, contract) == [target]
    finally:
        parent.close()


def test_a_parent_without_a_base_fee_gets_legacy_transactions(kramaa_bin, setup, tmp_path):
    cluster = setup[0]
    parent = ParentChain(legacy=True)
    try:
        common, contract = own_contract(kramaa_bin, cluster, parent, tmp_path)
        blocks(cluster, EVERY)
        ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", str(EVERY), "--once", *common, parent=parent)
        assert ran.returncode == 0, ran.stderr
        line = json.loads(ran.stdout.splitlines()[-1])
        assert line["event"] == "anchored" and latest(parent, contract) == line["number"]
        tx = parent.w3.eth.get_transaction(line["parentTransaction"])
        assert tx["type"] == 0 and tx["gasPrice"] > 0, tx
    finally:
        parent.close()


def test_bad_anchor_configurations_are_refused_with_the_reason(kramaa_bin, tmp_path):
    key = tmp_path / "key.json"
    key_file(kramaa_bin, key)
    assert os.stat(key).st_mode & 0o777 == 0o600

    def node(parents):
        config = tmp_path / "anchors.json"
        config.write_text(json.dumps({"parents": parents}))
        return subprocess.run([kramaa_bin, "node", "--datadir", str(tmp_path / "none"), "--anchor-config", str(config)],
                              capture_output=True, text=True, timeout=30)

    good = {"label": "py-evm", "rpc": "http://127.0.0.1:9", "contract": "0x" + "33" * 20, "key": str(key)}
    os.chmod(key, 0o644)
    out = node([good])
    assert out.returncode != 0 and "is readable by group or others (mode 644): run chmod 600" in out.stderr, out.stderr
    ran = subprocess.run([kramaa_bin, "anchor", "run", "--parent-rpc", "http://127.0.0.1:9", "--key", str(key), "--contract", good["contract"], "--once"],
                         capture_output=True, text=True, timeout=30)
    assert ran.returncode != 0 and "run chmod 600" in ran.stderr, ran.stderr
    os.chmod(key, 0o600)
    for parents, reason in [
        ([good, good], 'the label "py-evm" is used twice'),
        ([{**good, "rpc": "ftp://x"}], "rpc must be an http(s) URL"),
        ([{**good, "contract": "0x12"}], "contract is not an address"),
        ([{k: v for k, v in good.items() if k != "label"}], 'needs "label"'),
        ([], "with at least one parent"),
    ]:
        out = node(parents)
        assert out.returncode != 0 and reason in out.stderr, (reason, out.stderr)


def test_a_receipt_older_than_the_kept_states_still_anchors_and_get_proof_names_the_oldest_kept(kramaa_bin, setup, relaying, tmp_path):
    """Receipts and headers are kept for every block, states for the last 128: an anchor receipt
    of a block 130 blocks back builds and verifies; eth_getProof there says which block is the
    oldest kept, and still answers at a kept one."""
    cluster, parent, _, _ = setup
    v1 = cluster.validators[1]
    sender = v1.rpc("eth_accounts")[0]
    tx = v1.rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "66" * 20, "value": "0x9", "gas": "0x5208"})
    number = int(wait_until(lambda: v1.rpc("eth_getTransactionReceipt", tx), 20, message="the transfer")["blockNumber"], 16)
    head = blocks(cluster, 130)
    wait_until(lambda: latest(parent, relaying["py-evm"]) >= number, 60, interval=0.2, message=f"block {number} anchored")
    with pytest.raises(Exception, match=r"historical state not available: block \d+ is older than the 128 recent blocks this node keeps \(oldest \d+\)"):
        v1.rpc("eth_getProof", sender, [], hex(number))
    # At a kept block: the proof is against that block's state root (its first node hashes to it).
    kept = head - 100
    proof = v1.rpc("eth_getProof", sender, [], hex(kept))
    assert "0x" + keccak(bytes.fromhex(proof["accountProof"][0][2:])).hex() == v1.rpc("eth_getBlockByNumber", hex(kept), False)["stateRoot"]
    assert proof["balance"] == v1.rpc("eth_getBalance", sender, hex(kept)) != v1.rpc("eth_getBalance", sender, "latest")
    bundle = tmp_path / "old.json"
    made = subprocess.run([kramaa_bin, "anchor", "receipt", tx, "--contract", relaying["py-evm"], "--parent-rpc", parent.url, "--out", str(bundle),
                           "--rpc", f"http://127.0.0.1:{v1.rpc_port}"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    checked = subprocess.run([kramaa_bin, "anchor", "verify", str(bundle), "--parent-rpc", parent.url, "--confirmations", "2"],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and f"block {number}" in checked.stdout, checked.stderr
