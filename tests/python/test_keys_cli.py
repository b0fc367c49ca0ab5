"""`kramaa keys` checked against independent reference libraries (eth-account, cryptography, base58)."""
import json
import os
import stat

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from eth_account import Account
from eth_utils import keccak, to_checksum_address

MULTICODEC = {"secp256k1": b"\xe7\x01", "p256": b"\x80\x24", "ed25519": b"\xed\x01"}


def parse(output):
    fields = {}
    for line in output.strip().splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def reference_public_key(key_type, private_hex):
    secret = bytes.fromhex(private_hex.removeprefix("0x"))
    if key_type == "ed25519":
        pub = ed25519.Ed25519PrivateKey.from_private_bytes(secret).public_key()
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    curve = ec.SECP256K1() if key_type == "secp256k1" else ec.SECP256R1()
    pub = ec.derive_private_key(int.from_bytes(secret, "big"), curve).public_key()
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


@pytest.mark.parametrize("key_type", ["secp256k1", "p256", "ed25519"])
def test_new_key_matches_reference_libraries(kramaa, tmp_path, key_type):
    path = tmp_path / "key.json"
    out = parse(kramaa("keys", "new", "--type", key_type, "--out", str(path)).stdout)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "key file must be readable by its owner only"
    stored = json.loads(path.read_text())
    assert stored["type"] == key_type
    public = reference_public_key(key_type, stored["privateKey"])
    assert out["public key"] == "0x" + public.hex()
    assert out["did"] == "did:key:z" + base58.b58encode(MULTICODEC[key_type] + public).decode()
    if key_type == "secp256k1":
        assert out["address"] == Account.from_key(stored["privateKey"]).address
    else:
        assert out["address"] == to_checksum_address(keccak(MULTICODEC[key_type] + public)[-20:])
    shown = parse(kramaa("keys", "show", str(path)).stdout)
    for field in ("type", "public key", "address", "did"):
        assert shown[field] == out[field]


def test_existing_key_file_is_not_overwritten_without_force(kramaa, tmp_path):
    path = tmp_path / "key.json"
    kramaa("keys", "new", "--type", "ed25519", "--out", str(path))
    before = path.read_bytes()
    proc = kramaa("keys", "new", "--type", "ed25519", "--out", str(path), check=False)
    assert proc.returncode != 0
    assert path.read_bytes() == before
    kramaa("keys", "new", "--type", "ed25519", "--out", str(path), "--force")
    assert path.read_bytes() != before


def test_unknown_key_type_is_refused(kramaa, tmp_path):
    proc = kramaa("keys", "new", "--type", "rsa", "--out", str(tmp_path / "k.json"), check=False)
    assert proc.returncode != 0
    assert "unknown key type" in proc.stderr
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("content", [
    "not json",
    '{"type": "p256", "privateKey": "0x1234"}',
    '{"type": "rsa", "privateKey": "0x' + "11" * 32 + '"}',
    '{"type": "secp256k1", "privateKey": "0x' + "00" * 32 + '"}',
])
def test_bad_key_files_give_a_clear_error(kramaa, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    os.chmod(path, 0o600)
    proc = kramaa("keys", "show", str(path), check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip(), "an error message is expected"
    assert "Fatal error" not in proc.stderr


def test_help_and_version(kramaa):
    assert "keys" in kramaa("--help").stdout
    assert kramaa("version").stdout.startswith("kramaa ")


@pytest.mark.parametrize("key_type,length", [("x25519", 32), ("p256-kem", 65)])
def test_agreement_key_files_are_private_and_show_their_hpke_key(kramaa, tmp_path, key_type, length):
    path = tmp_path / "agreement.json"
    out = kramaa("keys", "new", "--type", key_type, "--out", str(path)).stdout
    assert (path.stat().st_mode & 0o777) == 0o600
    fields = json.loads(path.read_text())
    assert fields["type"] == key_type and len(bytes.fromhex(fields["publicKey"][2:])) == length
    assert ("seed" in fields) == (key_type == "x25519")
    shown = kramaa("keys", "show", str(path)).stdout
    assert fields["publicKey"] in shown and fields["publicKey"] in out and key_type in shown
    # A copy others can read is refused, not used; an edited public key is caught.
    path.chmod(0o644)
    proc = kramaa("keys", "show", str(path), check=False)
    assert proc.returncode != 0 and "chmod 600" in proc.stderr
    path.chmod(0o600)
    fields["publicKey"] = "0x" + "11" * length
    path.write_text(json.dumps(fields))
    proc = kramaa("keys", "show", str(path), check=False)
    assert proc.returncode != 0 and "publicKey does not match its secret" in proc.stderr
