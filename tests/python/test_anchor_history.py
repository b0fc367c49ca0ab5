"""The asset history says where each event is anchored (docs/ANCHORING.md): a node started with
`--anchor-watch LABEL=URL@CONTRACT` reads the checkpoint contract's logs on the parent chain (py-evm
behind JSON-RPC) and names, per event, the first checkpoint at or after its block, with the
parent block and transaction; an event after the latest checkpoint has none yet."""
import json
import re
import subprocess
import urllib.error
import urllib.request

from rpc_helpers import http_json
from test_anchor_relayer import anchor, blocks, chains, deployed_with_funded_key  # noqa: F401 (chains: a fixture, this module's own instance)
from validators_support import Cluster, wait_until


def rest(node, method, path, body=None):
    status, answer = http_json(node.rpc_port, method, "/api/v1" + path, body)
    assert status < 400, (method, path, status, answer)
    return answer


def capture(node, admin, epc, minute):
    event = {"type": "ObjectEvent", "eventTime": f"2026-12-05T10:{minute:02d}:00.000Z", "eventTimeZoneOffset": "+00:00",
             "epcList": [epc], "action": "OBSERVE", "bizStep": "shipping", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2026-12-05T10:00:00Z", "epcisBody": {"eventList": [event]}}
    status, job = http_json(node.rpc_port, "POST", "/epcis/capture", document,
                            headers={"Kramaa-From": admin, "Kramaa-Organization": "1", "Content-Type": "application/ld+json"})
    assert status == 202 and job["success"], job


def test_the_history_names_the_parent_block_that_anchors_each_event(kramaa_bin, chains, tmp_path):
    cluster, parent, _ = chains
    v = cluster.validators
    common, contract = deployed_with_funded_key(kramaa_bin, chains, "history-relayer", validator=1)
    admin = v[0].rpc("eth_accounts")[1]
    rest(v[0], "POST", "/organizations", {"from": admin, "name": "Anchored brand"})
    epc = "urn:epc:id:sgtin:0614141.107346.7001"
    token = rest(v[0], "POST", "/assets", {"from": admin, "organization": 1, "epc": epc, "owner": admin})["tokenId"]
    capture(v[0], admin, epc, 1)
    head = blocks(cluster, 5)
    ran = anchor(kramaa_bin, "run", "--contract", contract, "--every", "5", "--confirmations", "2", "--once", *common, parent=parent)
    assert ran.returncode == 0, ran.stderr
    anchored = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")][-1]
    capture(v[0], admin, epc, 2)  # after the checkpoint: not anchored yet

    v[3].stop()
    v[3].extra_args = ["--anchor-watch", f"py-evm={parent.url}@{contract}"]
    v[3].start()
    wait_until(lambda: len(rest(v[3], "GET", f"/assets/{token}/history")) == 2, 20, message="both events on validator 3")

    def anchors():
        return [step["anchors"] for step in rest(v[3], "GET", f"/assets/{token}/history")]
    wait_until(lambda: anchors()[0], 20, message="the watcher reading the parent's checkpoints")
    first, second = anchors()
    assert second == [], "an event after the latest checkpoint is not anchored yet"
    assert len(first) == 1 and first[0]["chain"] == "py-evm" and first[0]["contract"].lower() == contract.lower()
    assert first[0]["checkpoint"] == anchored["number"] and first[0]["parentBlock"] == anchored["parentBlock"]
    assert first[0]["parentTransaction"] == anchored["parentTransaction"] and first[0]["confirmations"] >= 2
    assert first[0]["summary"].startswith(f"anchored on py-evm at block {anchored['parentBlock']}")
    # The other validators watch nothing: their histories list no anchors.
    assert all(step["anchors"] == [] for step in rest(v[1], "GET", f"/assets/{token}/history"))
    receipt_can_be_downloaded_and_verified(kramaa_bin, v, parent, token, epc, tmp_path)
    v[3].stop()
    v[3].extra_args = ["--anchor-watch", "no-equals-sign"]
    failed = v[3].command()
    run = subprocess.run(failed, capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and "LABEL=URL@CONTRACT" in run.stderr + run.stdout
    v[3].extra_args = []
    v[3].start()


def get(node, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.rpc_port}{path}", timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def gtin14(indicator_and_company, item):
    digits = indicator_and_company + item
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


def receipt_can_be_downloaded_and_verified(kramaa_bin, v, parent, token, epc, tmp_path):
    """The watching node's asset page links the anchored event's receipt (and not the later one's);
    the download is a file `kramaa anchor verify` accepts against the parent chain; the consumer
    page links the same receipt; a node watching no parent, a bad hash and an unanchored
    transaction get the reason."""
    status, _, page = get(v[3], f"/dashboard/assets/{token}")
    assert status == 200
    links = re.findall(r'/dashboard/anchor-receipt/0x[0-9a-f]{64}\?event=0x[0-9a-f]{64}', page.decode())
    assert len(links) == 1, "only the anchored event has a receipt link"
    status, headers, body = get(v[3], links[0])
    assert status == 200, body
    assert headers["content-type"].startswith("application/json") and "attachment" in headers["content-disposition"]
    bundle = json.loads(body)
    assert bundle["format"] == "kramaa-anchor-receipt/1" and isinstance(bundle["log"], int)
    path = tmp_path / "receipt.json"
    path.write_bytes(body)
    checked = subprocess.run([kramaa_bin, "anchor", "verify", str(path), "--parent-rpc", parent.url], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert f"log {bundle['log']}:" in checked.stdout and "is anchored in" in checked.stdout
    gtin = gtin14("1" + epc.split(":")[-1].split(".")[0], epc.split(".")[1][1:])
    status, _, consumer = get(v[3], f"/01/{gtin}/21/{epc.split('.')[-1]}")
    assert status == 200 and links[0] in consumer.decode().replace("&amp;", "&"), "the consumer page links the receipt"
    # Refusals: a node watching no parent, a malformed hash, a transaction no checkpoint covers yet.
    tx = links[0].split("/")[-1].split("?")[0]
    status, _, body = get(v[1], links[0])
    assert status == 404 and b"watches no parent chain" in body
    status, _, body = get(v[3], "/dashboard/anchor-receipt/0x1234")
    assert status == 400 and b"not a 32-byte hex transaction hash" in body
    later = [step for step in rest(v[3], "GET", f"/assets/{token}/history") if not step["anchors"]][0]
    status, _, body = get(v[3], f"/dashboard/anchor-receipt/{later['proof']['transactionHash']}")
    assert status == 404 and b"not anchored yet" in body, body
    assert tx != later["proof"]["transactionHash"]
