"""The platform REST API (/api/v1) on a real node, checked against docs/openapi.yaml: every
answer is validated against the schema the document gives for its path, method and status, and
every documented operation is exercised. Keys are made and proofs signed here with the
`cryptography` package, independently of the node."""
import json
import pathlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import jsonschema
from eth_utils import keccak
import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SPEC = yaml.safe_load((pathlib.Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
EPC = "urn:epc:id:sgtin:0614141.107346.2018"
DIGITAL_LINK = "https://brand.example.com/01/10614141073464/21/2018?17=290101"


def openapi_to_jsonschema(node):
    """OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null type, refs point into SPEC."""
    if isinstance(node, dict):
        out = {k: openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        if "$ref" in out:
            out["$ref"] = "#/" + out["$ref"].split("#/", 1)[1]
        return out
    if isinstance(node, list):
        return [openapi_to_jsonschema(v) for v in node]
    return node


SCHEMA_ROOT = openapi_to_jsonschema(SPEC)
exercised = set()


def operation(method, path):
    """The documented (template, operation) for a concrete path."""
    for template, item in SPEC["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None, None


class API:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method, path, body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, content_type, payload = response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            status, content_type, payload = error.code, error.headers["Content-Type"], error.read()
        answer = json.loads(payload)
        assert status == expect, f"{method} {path}: {status} {answer}"
        template, op = operation(method, path.split("?")[0])
        if template is None:
            assert status in (404, 405), f"{method} {path} is not documented but answered {status}"
            return answer
        exercised.add((template, method.lower()))
        documented = op["responses"].get(str(status))
        assert documented is not None, f"{method} {template} answered {status}, not documented"
        if "$ref" in documented:
            documented = SPEC["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        media, content = next(iter(documented["content"].items()))
        assert content_type.startswith(media), f"{method} {path}: content type {content_type}, documented {media}"
        jsonschema.validate(answer, {**SCHEMA_ROOT, **content["schema"]})
        return answer


def p256_key():
    key = ec.generate_private_key(ec.SECP256R1())
    return key, key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


@pytest.fixture
def chain(node_factory):
    node = node_factory("devnet", ["--accounts", "4"], fresh=True)
    return API(node.port), [a for a in node.rpc("eth_accounts")]


def checksum(address):
    from web3 import Web3
    return Web3.to_checksum_address(address)


def test_organisations_devices_and_assets_through_rest(chain):
    api, (brand, carrier, factory, buyer) = chain
    org = api.call("POST", "/organizations", {"from": brand, "name": "Acme Brand"}, expect=201)
    assert org["id"] == 1 and org["founder"] == checksum(brand) and org["admins"] == 1  # EIP-55 in REST answers
    assert api.call("POST", "/organizations", {"from": carrier, "name": "Fast Carrier"}, expect=201)["id"] == 2
    assert api.call("GET", "/organizations/1")["name"] == "Acme Brand"
    member = api.call("PUT", f"/organizations/1/members/{factory}", {"from": brand, "roles": ["manufacturer", "deviceManager"]})
    assert member["roles"] == ["manufacturer", "deviceManager"]
    assert api.call("GET", f"/organizations/1/members/{factory}")["roles"] == ["manufacturer", "deviceManager"]

    # MQTT rights of organisation 2's devices on organisation 1's (its admins only).
    assert api.call("GET", "/organizations/1/messaging/2")["rights"] == []
    assert api.call("PUT", "/organizations/1/messaging/2", {"from": brand, "rights": ["subscribe", "publish"]})["rights"] == ["publish", "subscribe"]
    assert "admin" in api.call("PUT", "/organizations/1/messaging/2", {"from": carrier, "rights": []}, expect=422)["detail"]
    assert "unknown right" in api.call("PUT", "/organizations/1/messaging/2", {"from": brand, "rights": ["read"]}, expect=400)["detail"]
    assert "no organisation 9" in api.call("PUT", "/organizations/1/messaging/9", {"from": brand, "rights": ["publish"]}, expect=422)["detail"]
    assert api.call("GET", "/organizations/1/messaging/2")["rights"] == ["publish", "subscribe"]  # the refusals changed nothing

    # A P-256 device; its key is rotated to Ed25519 with proof of possession.
    _, p256_public = p256_key()
    device = api.call("POST", "/devices", {"from": factory, "organization": 1, "keyType": "p256", "publicKey": "0x" + p256_public.hex(),
                                           "model": "ColdChain Logger", "firmwareHash": "0x" + "ab" * 32}, expect=201)
    address = device["device"]
    assert device["keyType"] == "p256" and device["did"].startswith("did:key:zDn") and device["status"] == "active"
    assert api.call("GET", f"/devices/{address}")["model"] == "ColdChain Logger"
    new_key = ed25519.Ed25519PrivateKey.generate()
    new_public = new_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    chain_id = (1337).to_bytes(8, "big")
    message = b"kramaa:rotate-device-key" + chain_id + bytes.fromhex(address[2:]) + new_public
    rotated = api.call("POST", f"/devices/{address}/key", {"from": factory, "keyType": "ed25519", "publicKey": "0x" + new_public.hex(),
                                                           "proof": "0x" + new_key.sign(message).hex()})
    assert rotated["keyType"] == "ed25519" and rotated["did"].startswith("did:key:z6Mk")
    old = api.call("GET", f"/keys/{address}?atBlock={rotated['blockNumber'] - 1}")
    assert old["validUntilBlock"] == rotated["blockNumber"] and old["validAtBlock"]["valid"] is True
    assert api.call("GET", f"/keys/{address}?atBlock={rotated['blockNumber']}")["validAtBlock"]["valid"] is False
    # A proof by another key is refused, and nothing changes.
    other = ed25519.Ed25519PrivateKey.generate()
    other_public = other.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    refused = api.call("POST", f"/devices/{address}/key", {"from": factory, "keyType": "ed25519", "publicKey": "0x" + other_public.hex(),
                                                           "proof": "0x" + new_key.sign(message).hex()}, expect=422)
    assert refused["detail"] == "the proof is not a signature of the rotation message by the new key"
    assert api.call("GET", f"/devices/{address}")["currentKey"] == rotated["currentKey"]

    assert api.call("POST", f"/devices/{address}/status", {"from": factory, "status": "suspended"})["status"] == "suspended"
    assert api.call("POST", f"/devices/{address}/status", {"from": factory, "status": "active"})["status"] == "active"
    revoked = api.call("POST", f"/devices/{address}/status", {"from": brand, "status": "revoked"})
    assert revoked["status"] == "revoked"
    assert api.call("GET", f"/keys/{rotated['currentKey']}")["validUntilBlock"] == revoked["blockNumber"]
    again = api.call("POST", f"/devices/{address}/status", {"from": brand, "status": "active"}, expect=422)
    assert again["detail"].lower() == f"device {address.lower()} is revoked; revocation is final"

    # An asset minted by the factory; found by EPC, by any Digital Link of the item, by token id.
    asset = api.call("POST", "/assets", {"from": factory, "organization": 1, "epc": EPC, "owner": brand,
                                         "metadataHash": "0x" + "cd" * 32, "tokenURI": "ipfs://bafy"}, expect=201)
    token = asset["tokenId"]
    assert asset["owner"] == checksum(brand) and asset["custodian"] == checksum(brand) and asset["status"] == "active"
    assert asset["devices"] == [] and asset["tags"] == [] and asset["mintedAtBlock"] == asset["blockNumber"]
    for key in (EPC, DIGITAL_LINK, token, str(int(token, 16))):
        assert api.call("GET", "/assets/" + urllib.parse.quote(key, safe=""))["tokenId"] == token
    # Custody moves to the carrier apart from ownership; ownership moves to the buyer.
    assert api.call("POST", f"/assets/{token}/custody", {"from": brand, "to": carrier})["custodian"] == checksum(carrier)
    moved = api.call("POST", f"/assets/{token}/transfer", {"from": brand, "to": buyer})
    assert moved["owner"] == checksum(buyer) and moved["custodian"] == checksum(carrier)
    api.call("POST", f"/assets/{token}/devices", {"from": factory, "device": address})
    api.call("POST", f"/assets/{token}/tags", {"from": factory, "uid": "0x04de5f1eacc040"})
    bound = api.call("GET", f"/assets/{token}")  # `asset show` lists what is bound to the asset
    assert bound["devices"] == [checksum(address)] and bound["tags"] == ["04DE5F1EACC040"]
    assert api.call("POST", f"/assets/{token}/status", {"from": factory, "status": "recalled"})["status"] == "recalled"
    assert api.call("GET", f"/assets/{token}/history") == []  # no EPCIS events yet (test_scenarios.py has some)
    tag = api.call("POST", "/tags", {"uid": "04DE5F1EACC040", "mode": "aes", "fileReadKey": "00" * 16, "metaReadKey": "11" * 16,
                                     "macInputStart": "empty", "organisation": 1, "from": factory}, expect=201)
    assert tag["lastReadCounter"] is None and "fileReadKey" not in tag
    assert api.call("GET", "/tags/04DE5F1EACC040")["uid"].upper() == "04DE5F1EACC040"
    api.call("POST", "/tags", {"uid": "04DE5F1EACC040", "mode": "aes", "fileReadKey": "00" * 16, "organisation": 1, "from": factory},
             expect=409)


def test_bad_requests_get_a_clear_problem_and_change_nothing(chain):
    api, (brand, carrier, factory, buyer) = chain
    api.call("POST", "/organizations", {"from": brand, "name": "Acme Brand"}, expect=201)
    assert "exists already" in api.call("POST", "/organizations", {"from": carrier, "name": "acme brand"}, expect=422)["detail"]
    assert "the node holds no key" in api.call("POST", "/organizations", {"from": "0x" + "11" * 20, "name": "X"}, expect=400)["detail"]
    assert '"from"' in api.call("POST", "/organizations", {"from": "0x12", "name": "X"}, expect=400)["detail"]
    assert api.call("GET", "/organizations/7", expect=404)["detail"] == "no organisation 7"
    refused = api.call("POST", "/assets", {"from": carrier, "organization": 1, "epc": EPC}, expect=422)
    assert refused["detail"].lower() == f"{carrier.lower()} needs the manufacturer role in organisation 1"
    api.call("GET", "/assets/" + urllib.parse.quote(EPC, safe=""), expect=404)
    assert "invalid EPC" in api.call("POST", "/assets", {"from": brand, "organization": 1, "epc": "urn:epc:id:sgtin:0614141.107346"},
                                     expect=422)["detail"]
    assert "unknown role" in api.call("PUT", f"/organizations/1/members/{buyer}", {"from": brand, "roles": ["king"]}, expect=400)["detail"]
    assert "keyType" in api.call("POST", "/devices", {"from": brand, "organization": 1, "keyType": "rsa", "publicKey": "0x00"}, expect=400)["detail"]
    api.call("GET", "/nothing/here", expect=404)
    api.call("DELETE", "/organizations/1", expect=405)
    assert api.call("GET", "/organizations/1")["name"] == "Acme Brand"


def agreement_message(purpose, device, kem_id, public):
    """docs/MESSAGING.md: 0x19 ‖ "kramaa:" ‖ purpose ‖ 0x00 ‖ chainId ‖ device ‖ KEM id ‖ key."""
    return b"\x19kramaa:" + purpose + b"\x00" + (1337).to_bytes(8, "big") + device + kem_id.to_bytes(2, "big") + public


def p256_raw_signature(key, message):
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_agreement_keys_through_rest(chain):
    """A device's key-agreement key, with both proofs made here: an X25519 key derived from an
    Ed25519 seed (possession: the seed's signature) authorised by the device's P-256 key."""
    import hashlib
    from cryptography.hazmat.primitives.asymmetric import x25519
    api, (brand, carrier, factory, buyer) = chain
    api.call("POST", "/organizations", {"from": brand, "name": "Acme Brand"}, expect=201)
    device_key, device_public = p256_key()
    address = api.call("POST", "/devices", {"from": brand, "organization": 1, "keyType": "p256", "publicKey": "0x" + device_public.hex()},
                       expect=201)["device"]
    device = bytes.fromhex(address[2:])
    empty = api.call("GET", f"/devices/{address}/agreement-key")
    assert empty["keyType"] is None and empty["publicKey"] is None and empty["usable"] is False and empty["kemId"] == 0

    seed = hashlib.sha256(b"agreement seed").digest()
    edwards = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    scalar = bytearray(hashlib.sha512(seed).digest()[:32])
    scalar[0] &= 248; scalar[31] &= 127; scalar[31] |= 64
    public = x25519.X25519PrivateKey.from_private_bytes(bytes(scalar)).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    possession = edwards.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) + \
        edwards.sign(agreement_message(b"agreement-key-possession", device, 0x20, public))
    authorization = p256_raw_signature(device_key, agreement_message(b"agreement-key-authorization", device, 0x20, public))
    body = {"from": brand, "keyType": "x25519", "publicKey": "0x" + public.hex(), "possessionProof": "0x" + possession.hex()}
    # Authorised by a key that is not the device's: refused, nothing set.
    other, _ = p256_key()
    forged = p256_raw_signature(other, agreement_message(b"agreement-key-authorization", device, 0x20, public))
    refused = api.call("POST", f"/devices/{address}/agreement-key", {**body, "authorization": "0x" + forged.hex()}, expect=422)
    assert "device's current signing key" in refused["detail"]
    assert "x448" in api.call("POST", f"/devices/{address}/agreement-key", {**body, "keyType": "x448", "authorization": "0x00"}, expect=400)["detail"]
    assert api.call("GET", f"/devices/{address}/agreement-key")["usable"] is False
    added = api.call("POST", f"/devices/{address}/agreement-key", {**body, "authorization": "0x" + authorization.hex()})
    assert added["keyType"] == "x25519" and added["kemId"] == 0x20 and added["publicKey"] == "0x" + public.hex()
    assert added["usable"] is True and added["validFromBlock"] == added["blockNumber"]
    api.call("POST", f"/devices/{address}/status", {"from": brand, "status": "suspended"})
    assert api.call("GET", f"/devices/{address}/agreement-key")["usable"] is False
    api.call("POST", f"/devices/{address}/status", {"from": brand, "status": "active"})
    assert "deviceManager" in api.call("POST", f"/devices/{address}/agreement-key/revoke", {"from": carrier}, expect=422)["detail"]
    revoked = api.call("POST", f"/devices/{address}/agreement-key/revoke", {"from": brand})
    assert revoked["keyType"] is None and revoked["usable"] is False
    again = api.call("POST", f"/devices/{address}/agreement-key", {**body, "authorization": "0x" + authorization.hex()}, expect=422)
    assert "registered already" in again["detail"]


def test_device_readings_through_rest(chain):
    """Readings signed here by a P-256 device (docs/DEVICES.md), submitted by the node's account;
    the latest of a kind read by name or by its 32-byte hash; refusals answered with the reason."""
    from device_tx import P256, DeviceKey
    from eth_utils import keccak
    from test_device_readings import reading_digest
    api, (brand, carrier, factory, buyer) = chain
    api.call("POST", "/organizations", {"from": brand, "name": "Acme Farm"}, expect=201)
    device = DeviceKey(P256)
    api.call("POST", "/devices", {"from": brand, "organization": 1, "keyType": "p256", "publicKey": "0x" + device.public_key().hex()}, expect=201)
    kind = keccak(b"soil.moisture")
    assert "no reading of kind" in api.call("GET", f"/devices/{device.address}/readings/soil.moisture", expect=404)["detail"]

    def body(value, sequence, observed_at=1_700_000_000, signer=device):
        signature = signer.sign(reading_digest(1337, device.address, kind, value, observed_at, sequence))
        return {"from": carrier, "kind": "soil.moisture", "value": str(value), "observedAt": observed_at, "sequence": sequence,
                "signature": "0x" + signature.hex()}

    accepted = api.call("POST", f"/devices/{device.address}/readings", body(-1250, 3), expect=201)
    assert accepted["value"] == "-1250" and accepted["kind"] == "0x" + kind.hex() and accepted["acceptedAtBlock"] == accepted["blockNumber"]
    assert "a replay" in api.call("POST", f"/devices/{device.address}/readings", body(7, 3), expect=422)["detail"]
    forged = api.call("POST", f"/devices/{device.address}/readings", body(7, 4, signer=DeviceKey(P256)), expect=422)
    assert "is not device" in forged["detail"]
    assert "signed decimal" in api.call("POST", f"/devices/{device.address}/readings", {**body(7, 4), "value": "7.5"}, expect=400)["detail"]
    latest = api.call("GET", f"/devices/{device.address}/readings/0x{kind.hex()}")
    assert latest == {k: accepted[k] for k in ("device", "kind", "value", "observedAt", "sequence", "acceptedAtBlock")}


def test_private_data_collections_through_rest(chain, node_factory):
    """Collections and item records on a node without a node key (docs/PRIVATE-DATA.md): it holds
    no private data, so sharing is refused with the reason; a hash a member records directly is
    served as a record (value not disclosed) and purged. The sharing itself: test_private_data.py."""
    from eth_abi import encode
    from eth_utils import keccak
    api, (brand, carrier, factory, buyer) = chain
    api.call("POST", "/organizations", {"from": brand, "name": "Acme Pricing"}, expect=201)
    api.call("POST", "/organizations", {"from": carrier, "name": "Carrier Pricing"}, expect=201)
    created = api.call("POST", "/collections", {"from": brand, "organization": 1, "name": "prices", "members": [2],
                                                "retentionSeconds": 3600, "requiredPeers": 0}, expect=201)
    assert created["id"] == 1 and created["members"] == [1, 2] and created["retentionSeconds"] == 3600
    assert api.call("GET", "/collections/1")["name"] == "prices"
    assert "no collection 9" in api.call("GET", "/collections/9", expect=404)["detail"]
    assert "admin" in api.call("POST", "/collections", {"from": carrier, "organization": 1, "name": "x", "members": []}, expect=422)["detail"]
    refused = api.call("POST", "/collections/1/items", {"from": brand, "value": {"price": "9.99"}}, expect=503)
    assert "no node key" in refused["detail"]
    assert "\"value\" is required" in api.call("POST", "/collections/1/items", {"from": brand}, expect=400)["detail"]

    key, digest = keccak(text="order/77"), keccak(b"salted")
    node = api.base.split("//")[1].split("/")[0]
    data = "0x" + (keccak(text="recordItem(uint256,bytes32,bytes32)")[:4] + encode(["uint256", "bytes32", "bytes32"], [1, key, digest])).hex()
    request = urllib.request.Request(f"http://{node}/", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                                                      "params": [{"from": carrier, "to": "0x000000000000000000000000000000004b52001a", "data": data}]}).encode())
    tx = json.loads(urllib.request.urlopen(request, timeout=30).read())["result"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        receipt = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"http://{node}/", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [tx]}).encode()), timeout=10).read())["result"]
        if receipt:
            break
        time.sleep(0.05)
    assert receipt and receipt["status"] == "0x1", receipt
    record = api.call("GET", "/collections/1/items/order%2F77")
    assert record["hash"] == "0x" + digest.hex() and record["disclosed"] is False and record["purgedAt"] is None
    assert record["expiresAt"] == record["recordedAt"] + 3600
    purged = api.call("DELETE", "/collections/1/items/order%2F77", {"from": brand})
    assert purged["purgedAt"] is not None and purged["hash"] == record["hash"]
    assert "purged already" in api.call("DELETE", "/collections/1/items/order%2F77", {"from": brand}, expect=422)["detail"]
    assert "no item" in api.call("DELETE", "/collections/1/items/order%2F78", {"from": brand}, expect=422)["detail"]
    assert "no item" in api.call("GET", "/collections/1/items/" + "0x" + "00" * 32, expect=404)["detail"]


def test_storage_nodes_and_pinned_files_through_rest(node_factory):
    """The file registry (docs/FILES.md): storage nodes, a pin allocated across organisations,
    who may read it, the quota, refusals that change nothing, repair and unpinning."""
    node = node_factory("devnet", ["--accounts", "5"], fresh=True)
    api = API(node.port)
    brand, carrier, n1, n2, outsider = node.rpc("eth_accounts")
    api.call("POST", "/organizations", {"from": brand, "name": "Acme"}, expect=201)
    api.call("POST", "/organizations", {"from": carrier, "name": "Carrier"}, expect=201)
    registered = api.call("POST", "/storage-nodes", {"from": brand, "organization": 1, "node": n1, "capacity": 10000}, expect=201)
    assert registered["live"] is False and registered["lastHeartbeat"] is None  # nothing is allocated before a heartbeat
    api.call("POST", "/storage-nodes", {"from": carrier, "organization": 2, "node": n2, "capacity": 10000}, expect=201)
    assert "admin role in organisation 1" in api.call("POST", "/storage-nodes", {"from": outsider, "organization": 1, "node": outsider, "capacity": 5}, expect=422)["detail"]
    beat = api.call("POST", f"/storage-nodes/{n1}/heartbeat", {"from": n1, "freeBytes": 5000})
    assert beat["live"] is True and beat["freeBytes"] == 5000 and beat["lastHeartbeat"] > 0
    api.call("POST", f"/storage-nodes/{n2}/heartbeat", {"from": n2, "freeBytes": 4000})
    assert "from must be" in api.call("POST", f"/storage-nodes/{n2}/heartbeat", {"from": n1, "freeBytes": 1}, expect=400)["detail"]

    cid = "bafkreiaaaebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4"  # raw, digest 00 01 … 1f
    readers = {"policy": "members", "organization": 2, "roles": ["logistics"]}
    body = {"from": brand, "cid": cid, "size": 100, "owner": {"organization": 1}, "minReplicas": 2, "maxReplicas": 3, "readers": readers}
    pin = api.call("POST", "/files", body, expect=201)
    assert pin["cid"] == cid and pin["readers"] == readers and pin["owner"] == {"organization": 1}
    assert [h["node"].lower() for h in pin["holders"]] == [n1.lower(), n2.lower()]  # one per organisation, the roomier first
    assert all(h["live"] and not h["held"] for h in pin["holders"])
    assert api.call("GET", "/files/0x01551220" + bytes(range(32)).hex())["cid"] == cid
    assert api.call("GET", f"/files/{cid}/readers/{carrier}")["mayRead"] is True
    assert api.call("GET", f"/files/{cid}/readers/{outsider}")["mayRead"] is False
    key_hash = "0x" + "ab" * 32
    stored = api.call("PUT", f"/files/{cid}/keys/{key_hash}", {"from": brand, "wrappedKey": "0x01" + "cd" * 80})
    assert stored["wrappedKey"] == "0x01" + "cd" * 80
    assert api.call("GET", f"/files/{cid}/keys/{key_hash}")["wrappedKey"] == stored["wrappedKey"]
    assert "files role" in api.call("PUT", f"/files/{cid}/keys/{key_hash}", {"from": outsider, "wrappedKey": "0x02"}, expect=422)["detail"]
    assert "no file key" in api.call("GET", f"/files/{cid}/keys/0x{'00' * 32}", expect=404)["detail"]
    assert api.call("GET", "/organizations/1/file-quota") == {"organization": 1, "used": 300, "limit": 2**30 + 10000}
    assert api.call("GET", f"/storage-nodes/{n1}")["allocatedBytes"] == 100

    other = "0x01551220" + "11" * 32
    assert "files role in organisation 1" in api.call("POST", "/files", {**body, "from": outsider, "cid": other}, expect=422)["detail"]
    assert "pinned already by organisation 1" in api.call("POST", "/files", {**body, "from": carrier, "owner": {"organization": 2}}, expect=422)["detail"]
    assert "codec 0x56" in api.call("POST", "/files", {**body, "cid": "0x01561220" + "11" * 32}, expect=400)["detail"]
    assert "only 2 of 2 live storage nodes" in api.call("POST", "/files", {**body, "cid": other, "minReplicas": 3}, expect=422)["detail"]
    assert "no pin for" in api.call("GET", f"/files/{other}", expect=404)["detail"]
    assert "nothing to repair" in api.call("POST", f"/files/{cid}/repair", {"from": outsider}, expect=422)["detail"]

    # A file the asset owns: listed with the asset, with the transaction that recorded its CID.
    epc = "urn:epc:id:sgtin:0614141.107346.9001"
    token = api.call("POST", "/assets", {"from": brand, "organization": 1, "epc": epc}, expect=201)["tokenId"]
    manual = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    pinned = api.call("POST", "/files", {**body, "cid": manual, "owner": {"asset": token}, "minReplicas": 1, "maxReplicas": 1, "readers": {"policy": "public"}}, expect=201)
    files = api.call("GET", f"/assets/{token}/files")
    assert [f["cid"] for f in files] == [manual] and files[0]["owner"] == pinned["owner"] and "asset" in pinned["owner"]
    assert files[0]["pinnedIn"]["transactionHash"] == pinned["transactionHash"] and files[0]["pinnedIn"]["blockNumber"] == pinned["blockNumber"]
    api.call("DELETE", f"/files/{manual}", {"from": brand})
    assert api.call("GET", f"/assets/{token}/files") == []

    # Carrier's node leaves: repair releases it (no other node has room for a second organisation).
    assert api.call("DELETE", f"/storage-nodes/{n2}", {"from": carrier})["deregistered"] is True
    assert "no storage node" in api.call("GET", f"/storage-nodes/{n2}", expect=404)["detail"]
    repaired = api.call("POST", f"/files/{cid}/repair", {"from": outsider})
    assert [h["node"].lower() for h in repaired["holders"]] == [n1.lower()]
    assert api.call("DELETE", f"/files/{cid}", {"from": brand})["unpinned"] is True
    api.call("GET", f"/files/{cid}", expect=404)
    assert api.call("GET", "/organizations/1/file-quota")["used"] == 0


def test_device_policies_through_rest_enforced_on_device_transactions(node_factory):
    """An organisation limits what its P-256 device may do (docs/DEVICE-POLICIES.md); the
    device's own sponsored transactions are then refused by the node with the rule they break,
    and nothing they would have moved moves."""
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from conftest import RPCError
    from device_tx import P256, DeviceKey, DeviceTx
    from rpc_helpers import deploy, qty, send_signed, transact
    node = node_factory("devnet", ["--accounts", "4"], fresh=True)
    api, w3 = API(node.port), node.web3()
    brand, manager, outsider, _ = node.accounts
    brand_key = node.keys[0]
    api.call("POST", "/organizations", {"from": brand, "name": "Irrigation Co"}, expect=201)
    api.call("PUT", f"/organizations/1/members/{manager}", {"from": brand, "roles": ["deviceManager"]})
    device = DeviceKey(P256)
    api.call("POST", "/devices", {"from": manager, "organization": 1, "keyType": "p256", "publicKey": "0x" + device.public_key().hex(),
                                  "model": "Valve controller", "firmwareHash": "0x" + "cd" * 32}, expect=201)
    token = deploy(w3, brand_key, "ERC20.vy", "Water credit", "H2O", 1_000)
    transact(w3, brand_key, token.functions.transfer(device.address, 500))
    send_signed(w3, brand_key, {"to": device.address, "value": 10**18, "gas": 21_000})  # so its own fees are its policy's to refuse
    assert api.call("GET", f"/devices/{device.address}/policy")["policy"] is None

    def device_call(data, to=token.address, sponsored=True):
        base = qty(node.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
        tx = DeviceTx(device, chain_id=1337, nonce=qty(node.rpc("eth_getTransactionCount", device.address, "pending")), tip=10**9,
                      max_fee=2 * base + 10**9, gas=120_000, to=to, data=data, sponsor=brand if sponsored else None).sign()
        if sponsored:
            tx.sponsor_sign(brand_key)
        return node.rpc("eth_sendRawTransaction", "0x" + tx.raw.hex())

    def refused(data, **kw):
        before = (token.functions.balanceOf(device.address).call(), qty(node.rpc("eth_getTransactionCount", device.address, "pending")))
        with pytest.raises(RPCError) as e:
            device_call(data, **kw)
        assert (token.functions.balanceOf(device.address).call(), qty(node.rpc("eth_getTransactionCount", device.address, "pending"))) == before
        return e.value.message

    def encoded(fn):
        return bytes.fromhex(fn._encode_transaction_data()[2:])

    transfer = lambda amount: encoded(token.functions.transfer(outsider, amount))
    policy = {"from": brand, "nativePerPeriod": "0", "period": 3600, "feesSponsored": True,
              "calls": [{"target": token.address, "selector": "balanceOf(address)"}], "tokens": [{"token": token.address, "perPeriod": 100}]}
    # Bad input and the wrong caller: refused, nothing set.
    bad = {**policy, "calls": [{"target": token.address, "selector": "open()x"}]}
    assert "selector open()x is not *, transfer" in api.call("PUT", f"/devices/{device.address}/policy", bad, expect=400)["detail"]
    assert "admin" in api.call("PUT", f"/devices/{device.address}/policy", {**policy, "from": manager}, expect=422)["detail"]
    assert api.call("GET", f"/devices/{device.address}/policy")["policy"] is None
    put = api.call("PUT", f"/devices/{device.address}/policy", policy)
    assert put["policy"]["calls"] == [{"target": token.address, "selector": "0x70a08231"}] and put["policy"]["feesSponsored"] is True

    receipt = w3.eth.wait_for_transaction_receipt(device_call(transfer(60)), timeout=15)
    assert receipt["status"] == 1 and token.functions.balanceOf(outsider).call() == 60
    assert refused(transfer(50)) == f"device {device.address}'s policy allows 100 of token {token.address} per period; 40 remain, this call moves 50"
    assert "does not allow function 0x40c10f19" in refused(encoded(token.functions.mint(device.address, 1)))
    assert "requires its fees to be sponsored" in refused(transfer(1), sponsored=False)
    tokens = api.call("GET", f"/devices/{device.address}/policy")["policy"]["tokens"]
    assert tokens == [{"token": token.address, "perPeriod": "100", "spent": "60", "remaining": "40"}]

    assert api.call("POST", f"/devices/{device.address}/policy/revoke", {"from": brand})["policy"]["revoked"] is True
    assert "policy was revoked by its organisation" in refused(transfer(1))
    assert "admin" in api.call("POST", f"/devices/{device.address}/policy/revoke", {"from": outsider}, expect=422)["detail"]
    # A revoked device sends nothing at all, whatever its policy.
    api.call("PUT", f"/devices/{device.address}/policy", policy)
    api.call("POST", f"/devices/{device.address}/status", {"from": manager, "status": "revoked"})
    assert refused(transfer(1)) == f"device {device.address} is revoked: its keys can no longer send transactions"
    assert token.functions.balanceOf(outsider).call() == 60


def test_every_documented_operation_was_exercised():
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    missing = documented - exercised
    assert not missing, f"operations in docs/openapi.yaml not exercised by the tests: {sorted(missing)}"


def test_cli_covers_organisations_devices_and_assets(node_factory, kramaa, tmp_path):
    node = node_factory("devnet", ["--accounts", "3"], fresh=True)
    brand, _, factory = node.rpc("eth_accounts")
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]

    def cli(*args, check=True):
        proc = kramaa(*args, *url, check=check)
        return json.loads(proc.stdout) if check else proc

    assert cli("org", "create", "--name", "Acme", "--from", brand)["id"] == 1
    assert cli("org", "member", "1", factory, "--roles", "manufacturer,deviceManager", "--from", brand)["roles"] == ["manufacturer", "deviceManager"]
    kramaa("keys", "new", "--type", "p256", "--out", str(tmp_path / "device.json"))
    kramaa("keys", "new", "--type", "ed25519", "--out", str(tmp_path / "next.json"))
    device = cli("device", "register", "--org", "1", "--key", str(tmp_path / "device.json"), "--model", "Tag reader", "--from", factory)
    assert device["keyType"] == "p256"
    rotated = cli("device", "rotate", device["device"], "--new-key", str(tmp_path / "next.json"), "--from", factory)
    assert rotated["keyType"] == "ed25519" and rotated["currentKey"] != device["currentKey"]
    assert cli("device", "key", device["device"], "--at-block", str(rotated["blockNumber"]))["validAtBlock"]["valid"] is False
    asset = cli("asset", "mint", "--org", "1", "--epc", EPC, "--from", factory, "--owner", brand)
    assert cli("asset", "show", DIGITAL_LINK)["tokenId"] == asset["tokenId"]
    assert cli("asset", "do", EPC, "custody", factory, "--from", brand)["custodian"] == checksum(factory)
    refused = cli("asset", "do", EPC, "custody", brand, "--from", brand, check=False)
    assert refused.returncode != 0 and "only the custodian" in refused.stderr
    # The device's key-agreement key, and an MQTT token, from key files.
    # The device's spending policy (docs/DEVICE-POLICIES.md).
    policy = cli("device", "policy", "set", device["device"], "--native-per-period", "1000000000000000000", "--period", "86400",
                 "--call", f"{brand}:water(uint256)", "--call", f"{brand}:transfer", "--token-limit", f"{factory}:250", "--from", brand)["policy"]
    assert policy["nativePerPeriod"] == "1000000000000000000" and policy["period"] == 86400
    assert policy["calls"] == [{"target": checksum(brand), "selector": "0x" + keccak(b"water(uint256)")[:4].hex()},
                               {"target": checksum(brand), "selector": "transfer"}]
    assert policy["tokens"] == [{"token": checksum(factory), "perPeriod": "250", "spent": "0", "remaining": "250"}]
    assert cli("device", "policy", "show", device["device"])["policy"] == policy
    refused = cli("device", "policy", "set", device["device"], "--call", "nonsense", "--from", brand, check=False)
    assert refused.returncode != 0 and "expected ADDRESS:VALUE" in refused.stderr
    assert cli("device", "policy", "revoke", device["device"], "--from", brand)["policy"]["revoked"] is True
    kramaa("keys", "new", "--type", "p256-kem", "--out", str(tmp_path / "agreement.json"))
    agreement = json.loads((tmp_path / "agreement.json").read_text())
    added = cli("device", "agreement-key", "set", device["device"], "--agreement-key", str(tmp_path / "agreement.json"),
                "--key", str(tmp_path / "next.json"), "--from", factory)
    assert added["keyType"] == "p256-kem" and added["publicKey"] == agreement["publicKey"] and added["usable"] is True
    kramaa("keys", "new", "--type", "x25519", "--out", str(tmp_path / "agreement2.json"))
    stale = cli("device", "agreement-key", "set", device["device"], "--agreement-key", str(tmp_path / "agreement2.json"),
                "--key", str(tmp_path / "device.json"), "--from", factory, check=False)
    assert stale.returncode != 0 and "device's current signing key" in stale.stderr
    assert cli("device", "agreement-key", "show", device["device"])["usable"] is True
    assert cli("device", "agreement-key", "revoke", device["device"], "--from", factory)["usable"] is False
    token = kramaa("device", "mqtt-token", "--key", str(tmp_path / "next.json"), "--device", device["device"], "--ttl", "120", *url).stdout.strip()
    assert token.startswith("kmt1.") and len(token) == 199
    raw = __import__("base64").urlsafe_b64decode(token[5:] + "=" * (-len(token[5:]) % 4))
    assert raw[0] == 1 and int.from_bytes(raw[1:9], "big") == 1337 and raw[9:29] == bytes.fromhex(device["device"][2:])
    assert int.from_bytes(raw[57:65], "big") - int.from_bytes(raw[49:57], "big") == 120


def test_cli_covers_storage_nodes_and_pins(node_factory, kramaa):
    node = node_factory("devnet", ["--accounts", "3"], fresh=True)
    url = ["--rpc", f"http://127.0.0.1:{node.port}"]
    cid = "bafkreiaaaebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4"

    def cli(*args, check=True):
        proc = kramaa(*args, *url, check=check)
        return json.loads(proc.stdout) if check else proc

    assert cli("org", "create", "--name", "Acme", "--from", "dev0")["id"] == 1
    assert cli("storage", "register", "dev1", "--org", "1", "--capacity", "1000", "--from", "dev0")["capacity"] == 1000
    assert cli("storage", "heartbeat", "dev1", "--free", "800")["live"] is True
    assert cli("storage", "node", "dev1")["freeBytes"] == 800
    pinned = cli("storage", "pin", cid, "--size", "10", "--org", "1", "--max", "1", "--readers", "members:1:auditor", "--from", "dev0")
    assert len(pinned["holders"]) == 1 and pinned["readers"]["roles"] == ["auditor"]
    assert cli("storage", "show", cid)["size"] == 10
    assert cli("storage", "may-read", cid, "dev2")["mayRead"] is False
    assert cli("storage", "quota", "1")["used"] == 10
    refused = cli("storage", "repair", cid, "--from", "dev2", check=False)
    assert refused.returncode != 0 and "nothing to repair" in refused.stderr
    outsider = cli("storage", "pin", "0x01551220" + "22" * 32, "--size", "1", "--org", "1", "--from", "dev2", check=False)
    assert outsider.returncode != 0 and "files role" in outsider.stderr
    assert cli("storage", "unpin", cid, "--from", "dev0")["unpinned"] is True
    assert cli("storage", "deregister", "dev1", "--from", "dev0")["deregistered"] is True
