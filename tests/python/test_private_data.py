"""Private data collections (docs/PRIVATE-DATA.md) on a devnet of 4 validator processes.

Organisation A runs validators 0 and 1, B runs validator 2, C (an outsider) validator 3; each
grants its nodes' addresses the `node` role. A collection of A and B: an item shared on
validator 0 reaches validators 1 and 2 and never 3, whose chain and data folder hold only the
salted hash; its value is disclosed to an account of A or B on a node that holds it, and to
nobody else. EPCIS events with private fields keep a reference on chain and show the fields
only to members. A purge, and the end of a retention, erase the value on every node and keep
the hash, and the purged event's history still verifies. Refusals change nothing."""
import json
import pathlib
import time

import pytest
from eth_utils import keccak

from rpc_helpers import http_json
from validators_support import Cluster, wait_until

PROVENANCE = "0x000000000000000000000000000000004b520013"
COLLECTIONS = "0x000000000000000000000000000000004b52001a"
RECORDED = "0x" + keccak(text="PrivateDataRecorded(uint256,bytes32,bytes32,address)").hex()


@pytest.fixture(scope="module")
def net(kramaa_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("private-data")
    cluster = Cluster(kramaa_bin, directory / "net", count=4, accounts=4).create()
    cluster.start_all()
    v = cluster.validators
    accounts = v[0].rpc("eth_accounts")
    orgs = {}
    for name, admin, nodes in (("A", accounts[0], [0, 1]), ("B", accounts[1], [2]), ("C", accounts[2], [3])):
        org = rest(v[0], "POST", "/organizations", {"from": admin, "name": f"Org {name}"})["id"]
        for i in nodes:
            rest(v[0], "PUT", f"/organizations/{org}/members/{cluster.addresses[i]}", {"from": admin, "roles": ["node"]})
        orgs[name] = {"id": org, "admin": admin}
    shared = rest(v[0], "POST", "/collections", {"from": accounts[0], "organization": orgs["A"]["id"], "name": "A-B pricing",
                                                  "members": [orgs["B"]["id"]], "requiredPeers": 2})
    yield {"cluster": cluster, "v": v, "orgs": orgs, "accounts": accounts, "shared": shared["id"]}
    cluster.shutdown()


def rest(node, method, path, body=None, headers=None, expect=None):
    status, answer = http_json(node.rpc_port, method, "/api/v1" + path, body, headers=headers)
    if expect is None:
        assert status < 400, (method, path, status, answer)
    else:
        assert status == expect, (method, path, status, answer)
    return answer


def held_files(node):
    folder = pathlib.Path(node.datadir) / "private-data"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def data_folder_contains(node, needle):
    for path in pathlib.Path(node.datadir).rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            return True
    return False


def recorded_logs(node):
    return node.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "address": COLLECTIONS, "topics": [RECORDED]})


def file_name(collection, key):
    return f"{collection}-{key[2:]}"


def test_an_item_reaches_the_member_nodes_only_and_is_disclosed_only_to_members(net):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    secret = {"price": "12.50 EUR", "terms": "net 30 (confidential-7731)"}
    item = rest(v[0], "POST", f"/collections/{shared}/items", {"from": orgs["A"]["admin"], "value": secret})
    key, name = item["key"], file_name(shared, item["key"])
    assert item["disclosed"] is True and item["value"] == secret
    salt = bytes.fromhex(item["salt"][2:])
    assert "0x" + keccak(salt + json.dumps(secret, separators=(",", ":")).encode()).hex() == item["hash"]

    # Required peers 2: validators 1 and 2 held it before the hash was recorded.
    for i in (0, 1, 2):
        assert name in held_files(v[i]), i
    assert name not in held_files(v[3])
    wait_until(lambda: v[3].number() >= item["blockNumber"], 20, message="validator 3 has the block")
    assert not data_folder_contains(v[3], b"confidential-7731"), "the outsider's node holds the value"
    assert any(log["topics"][2] == key and item["hash"][2:] in log["data"] for log in recorded_logs(v[3]))

    as_member = {"Kramaa-From": orgs["B"]["admin"]}
    on_member_node = rest(v[2], "GET", f"/collections/{shared}/items/{key}", headers=as_member)
    assert on_member_node["disclosed"] is True and on_member_node["value"] == secret and on_member_node["salt"] == item["salt"]
    on_outsider_node = rest(v[3], "GET", f"/collections/{shared}/items/{key}", headers=as_member)
    assert on_outsider_node["disclosed"] is False and "does not hold" in on_outsider_node["reason"]
    assert on_outsider_node["hash"] == item["hash"] and "value" not in on_outsider_node and "salt" not in on_outsider_node
    outsider = rest(v[0], "GET", f"/collections/{shared}/items/{key}", headers={"Kramaa-From": orgs["C"]["admin"]})
    assert outsider["disclosed"] is False and "no role in a member organisation" in outsider["reason"] and "value" not in outsider
    anonymous = rest(v[1], "GET", f"/collections/{shared}/items/{key}")
    assert anonymous["disclosed"] is False and "value" not in anonymous


def test_epcis_private_fields_stay_off_chain_and_show_only_to_members(net):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    event = {"type": "ObjectEvent", "eventTime": "2026-12-05T09:30:00.000Z", "eventTimeZoneOffset": "+00:00",
             "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "action": "OBSERVE", "bizStep": "shipping",
             "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
             "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:PO-SECRET-4411"}],
             "example:unitPrice": "7.25"}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": "https://ns.example.com/epcis/"}],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-12-05T09:30:00Z", "epcisBody": {"eventList": [event]}}
    asset = rest(v[0], "POST", "/assets", {"from": orgs["A"]["admin"], "organization": orgs["A"]["id"],
                                           "epc": event["epcList"][0], "owner": orgs["A"]["admin"]})
    net["asset"] = asset["tokenId"]
    headers = {"Kramaa-From": orgs["A"]["admin"], "Kramaa-Organization": str(orgs["A"]["id"]),
               "Kramaa-Private-Collection": str(shared), "Kramaa-Private-Fields": "bizTransactionList, example:unitPrice"}
    status, job = http_json(v[1].rpc_port, "POST", "/epcis/capture", document, headers=headers)
    assert status == 202 and job["success"] is True and not job.get("errors"), job

    def listed(node, reader=None):
        status, answer = http_json(node.rpc_port, "GET", "/epcis/events?MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017",
                                   headers={"Kramaa-From": reader} if reader else None)
        assert status == 200, answer
        return answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]

    wait_until(lambda: listed(v[3]), 20, message="the event on validator 3")
    public = listed(v[3], orgs["C"]["admin"])[0]
    assert "bizTransactionList" not in public and "example:unitPrice" not in public
    reference = public["kramaa:privateData"]
    assert reference["collection"] == str(shared) and sorted(reference["fields"]) == ["bizTransactionList", "example:unitPrice"]
    member = listed(v[2], orgs["B"]["admin"])[0]
    assert member["bizTransactionList"] == event["bizTransactionList"] and member["example:unitPrice"] == "7.25"
    assert member["kramaa:privateData"] == reference
    # Members read through a node that holds the item; the outsider's node holds none of it.
    assert "bizTransactionList" not in listed(v[3], orgs["B"]["admin"])[0]
    assert not data_folder_contains(v[3], b"PO-SECRET-4411")
    record = rest(v[3], "GET", f"/collections/{shared}/items/{reference['key']}")
    assert record["hash"] == reference["hash"] and record["disclosed"] is False
    # A member checks the fields against the salted hash the event (and so the chain) commits to.
    item = rest(v[2], "GET", f"/collections/{shared}/items/{reference['key']}", headers={"Kramaa-From": orgs["B"]["admin"]})
    disclosed_history = rest(v[2], "GET", f"/assets/{asset['tokenId']}/history", headers={"Kramaa-From": orgs["B"]["admin"]})
    assert disclosed_history[-1]["event"]["example:unitPrice"] == "7.25"
    assert "example:unitPrice" not in rest(v[2], "GET", f"/assets/{asset['tokenId']}/history")[-1]["event"]
    hidden = {"bizTransactionList": event["bizTransactionList"], "example:unitPrice": "7.25"}
    assert item["value"] == hidden
    assert "0x" + keccak(bytes.fromhex(item["salt"][2:]) + json.dumps(hidden, separators=(",", ":")).encode()).hex() == reference["hash"]
    net["event_reference"] = reference


def test_purge_erases_the_value_everywhere_and_history_still_verifies(net):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    reference = net.get("event_reference")
    if reference is None:
        pytest.skip("needs the EPCIS capture of the test before")
    name = file_name(shared, reference["key"])
    wait_until(lambda: all(name in held_files(v[i]) for i in (0, 1, 2)), 20, message="the event's item on the member nodes")
    # Only the recorder or a member organisation's admin purges.
    refused = rest(v[0], "DELETE", f"/collections/{shared}/items/{reference['key']}", {"from": net["accounts"][3]}, expect=422)
    assert "only the recorder or an admin" in refused["detail"]
    assert name in held_files(v[0])

    purged = rest(v[0], "DELETE", f"/collections/{shared}/items/{reference['key']}", {"from": orgs["B"]["admin"]})
    assert purged["purgedAt"] and purged["hash"] == reference["hash"]
    wait_until(lambda: all(name not in held_files(v[i]) for i in (0, 1, 2)), 20, message="the value erased on every member node")
    for i in (0, 1, 2):
        wait_until(lambda: v[i].number() >= purged["blockNumber"], 20, message="the purge block")
        assert not data_folder_contains(v[i], b"PO-SECRET-4411"), i
    after = rest(v[2], "GET", f"/collections/{shared}/items/{reference['key']}", headers={"Kramaa-From": orgs["B"]["admin"]})
    assert after["disclosed"] is False and after["hash"] == reference["hash"]

    # The event (its public form, with the reference) is still recorded under its event hash.
    status, answer = http_json(v[2].rpc_port, "GET", "/epcis/events?MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017",
                               headers={"Kramaa-From": orgs["B"]["admin"]})
    event = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    assert "bizTransactionList" not in event and event["kramaa:privateData"] == reference
    # The asset's history still proves the event: its hash is in the capture's logs and its record
    # is in the provenance contract's state, and the reference in it names the purged item's hash.
    history = rest(v[3], "GET", f"/assets/{net['asset']}/history")
    step = next(h for h in history if h["event"].get("kramaa:privateData") == reference)
    receipt = v[3].rpc("eth_getTransactionReceipt", step["proof"]["transactionHash"])
    assert any(log["address"].lower() == PROVENANCE and log["topics"][1] == step["proof"]["eventHashHex"] for log in receipt["logs"])
    record = v[3].rpc("eth_call", {"to": PROVENANCE, "data": "0x" + keccak(text="eventRecord(bytes32)")[:4].hex() + step["proof"]["eventHashHex"][2:]})
    assert int(record[2:66], 16) == step["proof"]["blockNumber"]


def test_retention_erases_items_when_it_ends(net):
    v, orgs = net["v"], net["orgs"]
    short = rest(v[0], "POST", "/collections", {"from": orgs["A"]["admin"], "organization": orgs["A"]["id"], "name": "short-lived",
                                                 "members": [], "retentionSeconds": 3, "requiredPeers": 1})
    item = rest(v[0], "POST", f"/collections/{short['id']}/items", {"from": orgs["A"]["admin"], "value": "shift rota", "key": "rota/2026-12-05"})
    name = file_name(short["id"], item["key"])
    assert name in held_files(v[0]) and name in held_files(v[1]) and name not in held_files(v[2])
    assert item["expiresAt"] == item["recordedAt"] + 3
    time.sleep(3.5)
    # A block after the end (block time is what counts).
    sender = net["accounts"][3]
    tx = v[0].rpc("eth_sendTransaction", {"from": sender, "to": "0x" + "33" * 20, "value": "0x1", "gas": "0x5208"})
    wait_until(lambda: v[0].rpc("eth_getTransactionReceipt", tx), 20, message="a block")
    wait_until(lambda: name not in held_files(v[0]) and name not in held_files(v[1]), 20, message="the expired item erased")
    record = rest(v[1], "GET", f"/collections/{short['id']}/items/rota%2F2026-12-05", headers={"Kramaa-From": orgs["A"]["admin"]})
    assert record["disclosed"] is False and record["key"] == item["key"]


def test_a_member_node_that_was_down_fetches_what_it_missed(net):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    v[2].stop()
    try:
        # Validator 2 is down: requiredPeers 2 cannot be met by validator 1 alone, so nothing is recorded.
        before, held_before = len(recorded_logs(v[0])), held_files(v[0])
        refused = rest(v[0], "POST", f"/collections/{shared}/items", {"from": orgs["A"]["admin"], "value": "while B is away"}, expect=503)
        assert "needs 2 other member nodes" in refused["detail"]
        assert len(recorded_logs(v[0])) == before and held_files(v[0]) == held_before
        one_peer = rest(v[0], "POST", "/collections", {"from": orgs["A"]["admin"], "organization": orgs["A"]["id"], "name": "A-B notes",
                                                        "members": [orgs["B"]["id"]], "requiredPeers": 1})
        item = rest(v[0], "POST", f"/collections/{one_peer['id']}/items", {"from": orgs["A"]["admin"], "value": {"note": "for B later"}})
    finally:
        v[2].start()
    name = file_name(one_peer["id"], item["key"])
    wait_until(lambda: name in held_files(v[2]), 30, message="validator 2 fetching the item it missed")
    got = rest(v[2], "GET", f"/collections/{one_peer['id']}/items/{item['key']}", headers={"Kramaa-From": orgs["B"]["admin"]})
    assert got["disclosed"] is True and got["value"] == {"note": "for B later"}


def test_refusals_share_and_record_nothing(net, kramaa):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    before, files = len(recorded_logs(v[0])), [held_files(n) for n in v]
    # An account of no member organisation.
    outsider = rest(v[0], "POST", f"/collections/{shared}/items", {"from": orgs["C"]["admin"], "value": "x"}, expect=403)
    assert "no role in a member organisation" in outsider["detail"]
    # A node that is not a member organisation's node.
    not_member_node = rest(v[3], "POST", f"/collections/{shared}/items", {"from": orgs["A"]["admin"], "value": "x"}, expect=503)
    assert "is not a node of a member organisation" in not_member_node["detail"]
    # A collection only an admin of the owner creates; members must exist.
    rest(v[0], "POST", "/collections", {"from": orgs["C"]["admin"], "organization": orgs["A"]["id"], "name": "x", "members": []}, expect=422)
    missing_org = rest(v[0], "POST", "/collections", {"from": orgs["A"]["admin"], "organization": orgs["A"]["id"], "name": "x", "members": [999]}, expect=422)
    assert "no organisation 999" in missing_org["detail"]
    rest(v[0], "GET", "/collections/999", expect=404)
    rest(v[0], "GET", f"/collections/{shared}/items/{'0x' + '00' * 32}", expect=404)
    # A capture naming a collection without fields, and one that writes the reference itself.
    headers = {"Kramaa-From": orgs["A"]["admin"], "Kramaa-Private-Collection": str(shared)}
    status, answer = http_json(v[0].rpc_port, "POST", "/epcis/capture", {"type": "EPCISDocument"}, headers=headers)
    assert status == 400 and "Kramaa-Private-Fields" in answer["detail"], answer
    event = {"type": "ObjectEvent", "eventTime": "2026-12-05T09:40:00.000Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
             "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"], "kramaa:privateData": {"collection": str(shared)}, "example:x": "1"}
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"kramaa": "https://kramaa.io/ns/epcis/",
                "example": "https://ns.example.com/epcis/"}], "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "2026-12-05T09:40:00Z", "epcisBody": {"eventList": [event]}}
    status, job = http_json(v[0].rpc_port, "POST", "/epcis/capture", document,
                            headers={**headers, "Kramaa-Organization": str(orgs["A"]["id"]), "Kramaa-Private-Fields": "example:x"})
    assert status == 202 and job["success"] is False and "carries kramaa:privateData already" in json.dumps(job["errors"]), job
    assert len(recorded_logs(v[0])) == before
    assert [held_files(n) for n in v] == files
    # The CLI says the same.
    out = kramaa("collection", "put", str(shared), "--value", "x", "--from", orgs["C"]["admin"], "--rpc", f"http://127.0.0.1:{v[0].rpc_port}", check=False)
    assert out.returncode != 0 and "no role in a member organisation" in out.stderr
    shown = kramaa("collection", "show", str(shared), "--rpc", f"http://127.0.0.1:{v[0].rpc_port}")
    assert json.loads(shown.stdout)["requiredPeers"] == 2


def test_a_file_in_a_collection_goes_only_to_member_nodes(net, kramaa, tmp_path):
    v, orgs, shared = net["v"], net["orgs"], net["shared"]
    document = tmp_path / "invoice-4411.pdf"
    content = b"%PDF-1.4 invoice 4411, unit price 7.25 EUR (confidential)\n" * 1500  # ~90 KB
    document.write_bytes(content)
    url = lambda i: ["--rpc", f"http://127.0.0.1:{v[i].rpc_port}"]
    put = kramaa("collection", "put", str(shared), "--file", str(document), "--key", "invoice/4411", "--from", orgs["A"]["admin"], *url(0))
    item = json.loads(put.stdout)
    name = file_name(shared, item["key"])
    assert item["value"]["file"]["name"] == "invoice-4411.pdf" and item["value"]["file"]["size"] == len(content)
    for i in (0, 1, 2):
        assert name in held_files(v[i]), i
    assert name not in held_files(v[3]) and not data_folder_contains(v[3], b"unit price 7.25")
    out = tmp_path / "fetched.pdf"
    kramaa("collection", "get", str(shared), "invoice/4411", "--as", orgs["B"]["admin"], "--out", str(out), *url(2))
    assert out.read_bytes() == content
    stolen = tmp_path / "stolen.pdf"
    refused = kramaa("collection", "get", str(shared), "invoice/4411", "--as", orgs["B"]["admin"], "--out", str(stolen), *url(3), check=False)
    assert refused.returncode != 0 and "does not hold" in refused.stderr and not stolen.exists()
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (4 * 1024 * 1024))
    too_big = kramaa("collection", "put", str(shared), "--file", str(big), "--from", orgs["A"]["admin"], *url(0), check=False)
    assert too_big.returncode != 0 and "at most 3145728" in too_big.stderr
