"""Device readings (docs/DEVICES.md), checked independently of the node's Swift code: the
digest is computed here byte by byte, signatures are made and checked with `cryptography`
(P-256, Ed25519) and eth_keys (secp256k1).

- Every case of docs/vectors/device-readings.json: key, device address, preimage, digest and
  signature agree with the Python implementation (deterministic signatures reproduced).
- On the session devnet: devices registered through the REST API sign readings here; a Vyper
  contract (contracts/ReadingThreshold.vy) submits them to the readings system contract and
  reads them back from EVM code; forged and replayed readings are refused with the reason."""
import json
import pathlib
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractLogicError

from device_tx import ED25519, P256, P256_N, DeviceKey
from rpc_helpers import deploy, http_json, transact

VECTORS = pathlib.Path(__file__).parents[2] / "docs" / "vectors" / "device-readings.json"
READINGS = "0x000000000000000000000000000000004b520018"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MULTICODEC = {"p256": b"\x80\x24", "ed25519": b"\xed\x01"}


def reading_preimage(chain_id, device, kind, value, observed_at, sequence):
    """"kramaa:reading" ‖ chainId (8) ‖ device (20) ‖ kind (32) ‖ value (32, two's complement) ‖ observedAt (8) ‖ sequence (8)."""
    return (b"kramaa:reading" + chain_id.to_bytes(8, "big") + bytes.fromhex(device[2:]) + kind + (value % 2**256).to_bytes(32, "big")
            + observed_at.to_bytes(8, "big") + sequence.to_bytes(8, "big"))


def reading_digest(*fields):
    return keccak(reading_preimage(*fields))


def verify(key_type, public_key, digest, signature):
    """The verifier docs/DEVICES.md describes: no further hashing, low s for the ECDSA curves."""
    if key_type == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, digest)
            return len(signature) == 64
        except InvalidSignature:
            return False
    if key_type == "p256":
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if len(signature) != 64 or s > P256_N // 2:
            return False
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        try:
            key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
            return True
        except InvalidSignature:
            return False
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    if len(signature) != 65 or v not in (0, 1) or int.from_bytes(signature[32:64], "big") > SECP256K1_N // 2:
        return False
    recovered = eth_keys.Signature(signature[:64] + bytes([v])).recover_public_key_from_msg_hash(digest)
    return recovered.to_compressed_bytes() == public_key


def vector_cases():
    cases = json.loads(VECTORS.read_text())["cases"]
    assert cases, f"no cases in {VECTORS}"
    return cases


def test_every_vector_case_checks_out_independently_of_swift():
    cases = vector_cases()
    assert {c["keyType"] for c in cases} == {"secp256k1", "p256", "ed25519"}
    for c in cases:
        private = bytes.fromhex(c["privateKey"][2:])
        public = bytes.fromhex(c["publicKey"][2:])
        if c["keyType"] == "ed25519":
            key = ed25519.Ed25519PrivateKey.from_private_bytes(private)
            assert key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == public, c["name"]
        elif c["keyType"] == "p256":
            key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
            assert key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint) == public, c["name"]
        else:
            key = eth_keys.PrivateKey(private)
            assert key.public_key.to_compressed_bytes() == public, c["name"]
        device = key.public_key.to_checksum_address() if c["keyType"] == "secp256k1" else to_checksum_address(keccak(MULTICODEC[c["keyType"]] + public)[12:])
        assert device == c["device"], c["name"]
        assert keccak(c["kindName"].encode()).hex() == c["kind"][2:], c["name"]
        kind = bytes.fromhex(c["kind"][2:])
        fields = (c["chainId"], c["device"], kind, int(c["value"]), c["observedAt"], c["sequence"])
        assert reading_preimage(*fields).hex() == c["preimage"][2:], c["name"]
        digest = reading_digest(*fields)
        assert digest.hex() == c["digest"][2:], c["name"]
        signature = bytes.fromhex(c["signature"][2:])
        assert verify(c["keyType"], public, digest, signature), c["name"]
        assert not verify(c["keyType"], public, reading_digest(*fields[:-1], fields[-1] + 1), signature), c["name"]
        if c["deterministic"]:
            if c["keyType"] == "ed25519":
                again = key.sign(digest)
            else:
                sig = key.sign_msg_hash(digest)
                again = sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([27 + sig.v])
            assert again == signature, f"{c['name']}: a deterministic signature is reproduced"


# ---------------------------------------------------------------------------------------------
# On the devnet


def rest(devnet, method, path, body=None):
    return http_json(devnet.port, method, "/api/v1" + path, body)


def test_a_vyper_contract_trusts_readings_signed_by_registered_devices(devnet):
    w3 = devnet.web3()
    chain_id = w3.eth.chain_id
    manager, deployer_key = devnet.accounts[5], devnet.keys[6]
    status, org = rest(devnet, "POST", "/organizations", {"from": manager, "name": f"Readings Farm {time.time_ns()}"})
    assert status == 201, org
    p256, edwards = DeviceKey(P256), DeviceKey(ED25519)
    for device, key_type in ((p256, "p256"), (edwards, "ed25519")):
        status, registered = rest(devnet, "POST", "/devices", {"from": manager, "organization": org["id"], "keyType": key_type,
                                                                "publicKey": "0x" + device.public_key().hex()})
        assert status == 201 and registered["device"] == device.address, registered

    kind = keccak(b"soil.moisture")
    p256_watch = deploy(w3, deployer_key, "ReadingThreshold.vy", p256.address, kind, 300)
    ed_watch = deploy(w3, deployer_key, "ReadingThreshold.vy", edwards.address, kind, 300)
    now = w3.eth.get_block("latest")["timestamp"]

    # A P-256 reading relayed by the Vyper contract: accepted, readable from EVM code, logged by 0x…18.
    fields = (chain_id, p256.address, kind, -42, now, 1)
    digest = reading_digest(*fields)
    assert p256_watch.functions.digestOf(-42, now, 1).call() == digest
    signature = p256.sign(digest)
    assert p256_watch.functions.signedByDevice(digest, signature).call() is True
    receipt = transact(w3, deployer_key, p256_watch.functions.relay(-42, now, 1, signature))
    assert receipt["status"] == 1
    accepted = [log for log in receipt["logs"] if log["address"].lower() == READINGS]
    assert len(accepted) == 1 and accepted[0]["topics"][1][12:] == bytes.fromhex(p256.address[2:]) and accepted[0]["topics"][2] == kind
    assert p256_watch.functions.latest().call() == [-42, now, 1, receipt["blockNumber"]]
    assert p256_watch.functions.alarmed().call() is False

    # An Ed25519 reading above the threshold raises the contract's alarm.
    digest = reading_digest(chain_id, edwards.address, kind, 301, now, 7)
    receipt = transact(w3, deployer_key, ed_watch.functions.relay(301, now, 7, edwards.sign(digest)))
    assert receipt["status"] == 1 and ed_watch.functions.alarmed().call() is True
    assert ed_watch.functions.latest().call()[:3] == [301, now, 7]

    # Forged (another key's signature), replayed, and future readings are refused with the reason; nothing changes.
    forger = DeviceKey(ED25519)
    digest = reading_digest(chain_id, edwards.address, kind, 999, now, 8)
    assert ed_watch.functions.signedByDevice(digest, forger.sign(digest)).call() is False
    with pytest.raises(ContractLogicError, match=f"is not device {edwards.address}'s signature of the reading digest"):
        ed_watch.functions.relay(999, now, 8, forger.sign(digest)).estimate_gas({"from": devnet.accounts[6]})
    replay = reading_digest(chain_id, edwards.address, kind, 301, now, 7)
    with pytest.raises(ContractLogicError, match="sequence 7 is not above 7, .*: a replay"):
        ed_watch.functions.relay(301, now, 7, edwards.sign(replay)).estimate_gas({"from": devnet.accounts[6]})
    future = now + 3600
    digest = reading_digest(chain_id, edwards.address, kind, 1, future, 9)
    with pytest.raises(ContractLogicError, match="more than 300 s after the block's time"):
        ed_watch.functions.relay(1, future, 9, edwards.sign(digest)).estimate_gas({"from": devnet.accounts[6]})
    assert ed_watch.functions.latest().call()[:3] == [301, now, 7]

    # The same refusal through REST (422, the contract's reason), and an accepted submission read back.
    digest = reading_digest(chain_id, p256.address, kind, 5, now, 1)
    status, refused = rest(devnet, "POST", f"/devices/{p256.address}/readings", {"from": manager, "kind": "soil.moisture", "value": "5",
                                                                                   "observedAt": now, "sequence": 1, "signature": "0x" + p256.sign(digest).hex()})
    assert status == 422 and "a replay" in refused["detail"], refused
    digest = reading_digest(chain_id, p256.address, kind, -7, now, 2)
    status, accepted = rest(devnet, "POST", f"/devices/{p256.address}/readings", {"from": manager, "kind": "0x" + kind.hex(), "value": "-7",
                                                                                    "observedAt": now, "sequence": 2, "signature": "0x" + p256.sign(digest).hex()})
    assert status == 201 and accepted["value"] == "-7" and accepted["sequence"] == 2, accepted
    status, latest = rest(devnet, "GET", f"/devices/{p256.address}/readings/soil.moisture")
    assert status == 200 and latest["value"] == "-7" and latest["acceptedAtBlock"] == accepted["blockNumber"], latest
    assert p256_watch.functions.latest().call()[:3] == [-7, now, 2]

    # A suspended device signs nothing: verifyDeviceSignature answers false, submissions are refused.
    assert rest(devnet, "POST", f"/devices/{p256.address}/status", {"from": manager, "status": "suspended"})[0] == 200
    digest = reading_digest(chain_id, p256.address, kind, 8, now, 3)
    assert p256_watch.functions.signedByDevice(digest, p256.sign(digest)).call() is False
    with pytest.raises(ContractLogicError, match="is suspended; it signs nothing now"):
        p256_watch.functions.relay(8, now, 3, p256.sign(digest)).estimate_gas({"from": devnet.accounts[6]})
