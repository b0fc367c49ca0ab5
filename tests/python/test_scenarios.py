"""DESIGN.md §5 scenarios 2 to 4 on a network of 4 validator processes, through the public
interfaces only (REST /api/v1, EPCIS /epcis, /verify, JSON-RPC), each step sent to a different
validator:

2. A brand registers its organisation and devices (public keys) and mints an asset bound to an
   NFC tag; its factory device records the commissioning event signed with its own P-256 key
   (a device transaction the brand sponsors).
3. A carrier takes custody by a receiving event after the brand's shipping event; its
   cold-chain logger posts a signed temperature reading.
4. A consumer taps the tag: genuine, then replayed; the asset's history lists every step, and
   each step is proven here against the chain: the event hash in the transaction's log, the
   event's record in the provenance contract's storage by an EIP-1186 proof checked with py-trie
   against the block's state root, and the block's commit certificate signed by more than two
   thirds of the validators."""
import json
import os
import pathlib
import urllib.error
import urllib.request

import eth_abi
import pytest
from web3 import Web3
import rlp
from eth_utils import big_endian_to_int, keccak
from trie import HexaryTrie

from device_tx import P256, DeviceKey, DeviceTx
from rpc_helpers import deploy, hexbytes, qty, transact
from test_node_rpc import verify_account_proof, verify_storage_proof
from validators_support import Cluster, wait_until

VECTORS = pathlib.Path(os.environ.get("KRAMAA_VECTORS") or pathlib.Path(__file__).parents[2] / ".." / "shared" / "vectors")
PROVENANCE = "0x000000000000000000000000000000004b520013"
EPC = "urn:epc:id:sgtin:0614141.107346.2018"
SPOILED = "urn:epc:id:sgtin:0614141.107346.2019"
PRICE = 10**18


# The highest block a write was answered in: a write is answered once the validator asked has
# stored its block, and the other validators store it a moment later. A client that moves on to
# another validator waits until that one has the block too (read your writes across validators).
_last_write_block = [0]


def _head(port):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["result"], 16)


def http(port, method, path, body=None, headers=None):
    if _last_write_block[0]:
        wait_until(lambda: _head(port) >= _last_write_block[0], 30, message=f"block {_last_write_block[0]} on port {port}")
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    if isinstance(answer, dict) and isinstance(answer.get("blockNumber"), int):
        _last_write_block[0] = max(_last_write_block[0], answer["blockNumber"])
    return status, answer


def ok(result, expect=(200, 201, 202)):
    status, body = result
    assert status in expect, f"HTTP {status}: {body}"
    return body


def document(*events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": list(events)}}


def event(biz_step, time, epcs=(EPC,), **extra):
    return {"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+01:00", "epcList": list(epcs),
            "action": "ADD" if biz_step == "commissioning" else "OBSERVE", "bizStep": biz_step,
            "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}, **extra}


def device_capture(validator, device, sponsor_key, payload):
    """The device sends captureEvents itself (type 0x4b), its gas paid by the sponsor."""
    data = bytes.fromhex("%08x" % int.from_bytes(keccak(b"captureEvents(uint256,bytes)")[:4], "big")) + \
        eth_abi.encode(["uint256", "bytes"], [0, json.dumps(payload).encode()])
    estimate = qty(validator.rpc("eth_estimateGas", {"from": device.address, "to": PROVENANCE, "data": "0x" + data.hex()}))
    base_fee = qty(validator.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
    tx = DeviceTx(device, chain_id=1337, nonce=qty(validator.rpc("eth_getTransactionCount", device.address, "pending")),
                  tip=10**9, max_fee=2 * base_fee + 10**9, gas=estimate * 5 // 4 + 10_000, to=PROVENANCE, data=data,
                  sponsor="0x" + bytes(eth_keys_address(sponsor_key)).hex())
    tx.sign().sponsor_sign(sponsor_key)
    tx_hash = validator.rpc("eth_sendRawTransaction", "0x" + tx.raw.hex())
    receipt = wait_until(lambda: validator.rpc("eth_getTransactionReceipt", tx_hash), 20, message="the device transaction included")
    assert receipt["status"] == "0x1", receipt
    return receipt


def eth_keys_address(private_key_hex):
    from eth_keys import keys
    return keys.PrivateKey(bytes.fromhex(private_key_hex[2:])).public_key.to_canonical_address()


def test_brand_carrier_and_consumer_on_four_validators(kramaa_bin, tmp_path, monkeypatch):
    schema = VECTORS / "epcis" / "schema" / "EPCIS-JSON-Schema.json"
    assert schema.is_file(), f"vectors missing at {VECTORS}: set KRAMAA_VECTORS"
    monkeypatch.setenv("KRAMAA_EPCIS_SCHEMA", str(schema))
    cluster = Cluster(kramaa_bin, tmp_path / "net", count=4, accounts=4).create()
    cluster.start_all()
    _last_write_block[0] = 0
    v = cluster.validators
    try:
        brand, factory, carrier, _ = v[0].rpc("eth_accounts")
        keys = cluster.keys  # the dev accounts' private keys, printed by the devnet

        # -- Scenario 2: the brand, its devices, an asset bound to a tag, a signed commissioning event.
        assert ok(http(v[0].rpc_port, "POST", "/api/v1/organizations", {"from": brand, "name": "Acme Brand"}))["id"] == 1
        ok(http(v[1].rpc_port, "PUT", f"/api/v1/organizations/1/members/{factory}",
                {"from": brand, "roles": ["manufacturer", "deviceManager"]}))
        line = DeviceKey(P256)
        device = ok(http(v[2].rpc_port, "POST", "/api/v1/devices", {"from": factory, "organization": 1, "keyType": "p256",
                                                                     "publicKey": "0x" + line.public_key().hex(), "model": "Line scanner"}))
        assert device["device"].lower() == line.address.lower() and device["did"].startswith("did:key:zDn")
        asset = ok(http(v[3].rpc_port, "POST", "/api/v1/assets", {"from": factory, "organization": 1, "epc": EPC, "owner": brand}))
        tag = {x["id"]: x for x in json.loads((VECTORS / "ntag424" / "sun_vectors.json").read_text())["vectors"]}["boltcard-style-counter0"]
        uid = tag["derived"]["uid"]
        ok(http(v[0].rpc_port, "POST", "/api/v1/tags", {"uid": uid, "mode": "aes", "metaReadKey": tag["keys"]["sdm_meta_read_key"],
                                                         "fileReadKey": tag["keys"]["sdm_file_read_key"], "macInputStart": "empty",
                                                         "organisation": 1, "from": factory}))
        ok(http(v[1].rpc_port, "POST", f"/api/v1/assets/{asset['tokenId']}/tags", {"from": factory, "uid": "0x" + uid}))
        commissioning = device_capture(v[2], line, keys[0], document(event("commissioning", "2026-11-25T08:00:00.000+01:00")))
        spoiled = ok(http(v[3].rpc_port, "POST", "/api/v1/assets", {"from": factory, "organization": 1, "epc": SPOILED, "owner": brand}))

        # The carrier buys both on delivery: an escrow per asset pays the brand once the carrier
        # holds it, unless a breach was recorded (then the carrier gets its money back).
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{v[1].rpc_port}"))
        escrow = deploy(w3, keys[2], "Escrow.vy", Web3.to_checksum_address(brand), int(asset["tokenId"], 16), value=PRICE)
        spoiled_escrow = deploy(w3, keys[2], "Escrow.vy", Web3.to_checksum_address(brand), int(spoiled["tokenId"], 16), value=PRICE)
        with pytest.raises(Exception, match="not delivered"):
            escrow.functions.settle().estimate_gas({"from": Web3.to_checksum_address(carrier)})

        # -- Scenario 3: shipping by the brand, receiving by the carrier (custody), a cold-chain reading.
        assert ok(http(v[2].rpc_port, "POST", "/api/v1/organizations", {"from": carrier, "name": "Fast Carrier"}))["id"] == 2
        job = ok(http(v[3].rpc_port, "POST", "/epcis/capture", document(event("shipping", "2026-11-25T09:00:00.000+01:00")),
                      {"Kramaa-From": brand, "Kramaa-Organization": "1"}))
        assert job["success"], job
        job = ok(http(v[1].rpc_port, "POST", "/epcis/capture", document(event("receiving", "2026-11-25T11:00:00.000+01:00", epcs=(EPC, SPOILED))),
                      {"Kramaa-From": carrier, "Kramaa-Organization": "2"}))
        assert job["success"], job
        for node in v:  # every validator has the new custodian; the owner is unchanged
            seen = ok(http(node.rpc_port, "GET", f"/api/v1/assets/{asset['tokenId']}"))
            assert (seen["custodian"].lower(), seen["owner"].lower()) == (carrier.lower(), brand.lower())
            assert Web3.to_checksum_address(seen["custodian"]) == seen["custodian"]  # EIP-55
        logger = DeviceKey(P256)
        ok(http(v[0].rpc_port, "POST", "/api/v1/devices", {"from": carrier, "organization": 2, "keyType": "p256",
                                                           "publicKey": "0x" + logger.public_key().hex(), "model": "Cold-chain logger"}))
        reading = event("inspecting", "2026-11-25T12:00:00.000+01:00", sensorElementList=[
            {"sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}]}])
        alert = event("inspecting", "2026-11-25T12:00:00.000+01:00", epcs=(SPOILED,), sensorElementList=[
            {"sensorReport": [{"type": "Temperature", "value": 14.5, "uom": "CEL", "exception": "ALARM_CONDITION"}]}])
        device_capture(v[3], logger, keys[2], document(reading, alert))

        # Delivered without breach: the brand is paid; the spoiled one is refunded to the carrier.
        brand_before, carrier_before = w3.eth.get_balance(Web3.to_checksum_address(brand)), w3.eth.get_balance(Web3.to_checksum_address(carrier))
        released = transact(w3, keys[2], escrow.functions.settle())
        refunded = transact(w3, keys[2], spoiled_escrow.functions.settle())
        assert released["status"] == 1 and refunded["status"] == 1
        assert escrow.events.Released().process_receipt(released)[0]["args"]["amount"] == PRICE
        assert spoiled_escrow.events.Refunded().process_receipt(refunded)[0]["args"]["breachBlock"] > 0
        assert w3.eth.get_balance(Web3.to_checksum_address(brand)) == brand_before + PRICE
        fees = sum(r["gasUsed"] * r["effectiveGasPrice"] for r in (released, refunded))
        assert w3.eth.get_balance(Web3.to_checksum_address(carrier)) == carrier_before + PRICE - fees

        # -- Scenario 4: the consumer taps the tag.
        status, tap = http(v[0].rpc_port, "GET", f"/verify?p={tag['picc_data_encrypted']}&c={tag['sdmmac']}")
        assert status == 200 and tap["verdict"] == "genuine", tap
        assert tap["asset"]["epc"] == EPC and tap["asset"]["custodian"].lower() == carrier.lower()
        assert http(v[0].rpc_port, "GET", f"/verify?p={tag['picc_data_encrypted']}&c={tag['sdmmac']}")[1]["verdict"] == "replayed"
        history = ok(http(v[1].rpc_port, "GET", f"/api/v1/assets/{asset['tokenId']}/history"))
        assert [h["event"]["bizStep"] for h in history] == ["commissioning", "shipping", "receiving", "inspecting"]
        assert history[0]["device"].lower() == line.address.lower() and history[3]["device"].lower() == logger.address.lower()
        assert history[0]["proof"]["transactionHash"] == commissioning["transactionHash"]
        assert all(ok(http(node.rpc_port, "GET", f"/api/v1/assets/{asset['tokenId']}/history")) == history for node in v)
        validators = {a.lower() for a in v[0].rpc("kramaa_validators")}
        for step in history:
            proof = step["proof"]
            receipt = v[2].rpc("eth_getTransactionReceipt", proof["transactionHash"])
            assert receipt["blockHash"] == proof["blockHash"] and receipt["status"] == "0x1"
            assert any(log["address"].lower() == PROVENANCE and log["topics"][1] == proof["eventHashHex"] for log in receipt["logs"])
            # The record (never deleted) holds the block it was made in; prove it against the
            # latest finalised block's state root, and that block and the event's by their certificates.
            head = v[3].rpc("eth_getBlockByNumber", "latest", False)
            account = v[0].rpc("eth_getProof", PROVENANCE, [proof["recordSlot"]], head["number"])
            _, _, storage_root, _ = verify_account_proof(account, hexbytes(head["stateRoot"]))
            assert verify_storage_proof(account["storageProof"][0], storage_root) == proof["blockNumber"]
            for number, block_hash in ((proof["blockNumber"], proof["blockHash"]), (qty(head["number"]), head["hash"])):
                certificate = v[1].rpc("kramaa_getCommitCertificate", hex(number))
                signers = {p["validator"] for p in certificate["precommits"]}
                assert certificate["blockHash"] == block_hash and signers <= validators and 3 * len(signers) > 2 * len(validators)
    finally:
        assert cluster.shutdown() == {i: 0 for i in range(cluster.count)}
