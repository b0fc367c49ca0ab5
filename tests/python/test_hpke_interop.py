"""HPKE interoperability (issue 14): an independent RFC 9180 implementation (pyhpke) opens what
Kramaa seals and Kramaa opens what it seals, for both KEMs (X25519, P-256) and both AEADs
(AES-128-GCM, ChaCha20-Poly1305) — raw HPKE through `kramaa msg hpke-seal|hpke-open`, and whole
sealed envelopes built and opened here from docs/MESSAGING.md alone (RLP, the HPKE info and aad,
both signatures), against `kramaa msg seal|open`."""
import hashlib
import json
import os

import pytest
import rlp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from eth_utils import keccak
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

from envelope_support import CHAIN, Signer, domain, signed_envelope

KEMS = {"x25519": KEMId.DHKEM_X25519_HKDF_SHA256, "p256-kem": KEMId.DHKEM_P256_HKDF_SHA256}
AEADS = {"aes-128-gcm": AEADId.AES128_GCM, "chacha20-poly1305": AEADId.CHACHA20_POLY1305}
SUITES = [(kem, aead) for kem in KEMS for aead in AEADS]


def suite(kem, aead):
    return CipherSuite.new(KEMS[kem], KDFId.HKDF_SHA256, AEADS[aead])


def hpke_seal(s, pkr, plaintext, info, aad):
    """One base-mode message (pyhpke's single-shot seal is not implemented: a sender context)."""
    enc, context = s.create_sender_context(pkr, info)
    return enc, context.seal(plaintext, aad)


def hpke_open(s, enc, skr, ciphertext, info, aad):
    return s.create_recipient_context(enc, skr, info).open(ciphertext, aad)


def private_key(kem):
    """A recipient key pair made with `cryptography`: (pyhpke private key, serialized public key)."""
    if kem == "x25519":
        key = x25519.X25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return KEMKey.from_pyca_cryptography_key(key), public


def kramaa_key(kramaa, tmp_path, kem):
    """An agreement key file made by `kramaa keys new`, and its fields."""
    path = tmp_path / f"agreement-{kem}-{os.urandom(4).hex()}.json"
    kramaa("keys", "new", "--type", kem, "--out", str(path))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return path, json.loads(path.read_text())


def unhex(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


@pytest.mark.parametrize("kem,aead", SUITES)
def test_pyhpke_opens_what_kramaa_seals(kramaa, tmp_path, kem, aead):
    skr, public = private_key(kem)
    plaintext = os.urandom(300)
    (tmp_path / "plain").write_bytes(plaintext)
    info, aad = b"kramaa interop info", b"interop aad"
    out = json.loads(kramaa("msg", "hpke-seal", "--to-key", public.hex(), "--kem", kem, "--aead", aead, "--info", info.hex(),
                            "--aad", aad.hex(), "--in", str(tmp_path / "plain")).stdout)
    assert len(unhex(out["enc"])) == len(public)
    assert hpke_open(suite(kem, aead), unhex(out["enc"]), skr, unhex(out["ciphertext"]), info, aad) == plaintext


@pytest.mark.parametrize("kem,aead", SUITES)
def test_kramaa_opens_what_pyhpke_seals(kramaa, tmp_path, kem, aead):
    path, fields = kramaa_key(kramaa, tmp_path, kem)
    s = suite(kem, aead)
    pkr = s.kem.deserialize_public_key(unhex(fields["publicKey"]))
    plaintext, info, aad = os.urandom(200), b"\x19kramaa:test\x00", b"header"
    enc, ciphertext = hpke_seal(s, pkr, plaintext, info, aad)
    args = ["msg", "hpke-open", "--key", str(path), "--aead", aead, "--enc", enc.hex(), "--ciphertext", ciphertext.hex(), "--info", info.hex()]
    assert unhex(kramaa(*args, "--aad", aad.hex()).stdout.strip()) == plaintext
    refused = kramaa(*args, "--aad", b"other".hex(), check=False)
    assert refused.returncode != 0 and "does not open" in refused.stderr


def test_an_x25519_key_file_is_the_ed25519_seeds_key(kramaa, tmp_path):
    """The derivation of docs/MESSAGING.md: scalar = clamp(SHA-512(seed)[0:32]); its public key is the
    Ed25519 public key's Montgomery u-coordinate."""
    _, fields = kramaa_key(kramaa, tmp_path, "x25519")
    scalar = bytearray(hashlib.sha512(unhex(fields["seed"])).digest()[:32])
    scalar[0] &= 248
    scalar[31] &= 127
    scalar[31] |= 64
    assert bytes(scalar) == unhex(fields["privateKey"])
    public = x25519.X25519PrivateKey.from_private_bytes(bytes(scalar)).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public == unhex(fields["publicKey"])
    y = int.from_bytes(ed25519.Ed25519PrivateKey.from_private_bytes(unhex(fields["seed"])).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw), "little") & ((1 << 255) - 1)
    p = 2 ** 255 - 19
    assert ((1 + y) * pow(1 - y, p - 2, p) % p).to_bytes(32, "little") == public


# --- Whole envelopes, from docs/MESSAGING.md -------------------------------------------------

def integer(item):
    return int.from_bytes(item, "big")


@pytest.mark.parametrize("kem,aead", SUITES)
def test_pyhpke_opens_a_sealed_envelope_kramaa_made(kramaa, tmp_path, kem, aead):
    path, fields = kramaa_key(kramaa, tmp_path, kem)
    kramaa("keys", "new", "--type", "ed25519", "--out", str(tmp_path / "sender.json"))
    sender_public = unhex(json.loads((tmp_path / "sender.json").read_text())["publicKey"])
    recipient = os.urandom(20)
    (tmp_path / "payload").write_bytes(b'{"valve": 3, "open": true}')
    summary = json.loads(kramaa("msg", "seal", "--key", str(tmp_path / "sender.json"), "--to", "0x" + recipient.hex(), "--to-key", fields["publicKey"],
                                "--kem", kem, "--aead", aead, "--sequence", "42", "--timestamp", "1750000000123", "--content-type", "application/json",
                                "--in", str(tmp_path / "payload"), "--out", str(tmp_path / "envelope"), "--chain-id", str(CHAIN)).stdout)
    wire = (tmp_path / "envelope").read_bytes()
    assert wire[0] == 0x45 and unhex(summary["envelopeHash"]) == keccak(wire)
    items = rlp.decode(wire[1:])
    assert len(items) == 13
    chain_id, sender, sender_key, sequence, timestamp, to, kem_id, kdf_id, aead_id, key_hash, enc, ciphertext, outer = items
    assert (integer(chain_id), integer(sequence), integer(timestamp), to) == (CHAIN, 42, 1750000000123, recipient)
    assert (integer(kem_id), integer(kdf_id), integer(aead_id)) == (KEMS[kem].value, 1, AEADS[aead].value)
    assert key_hash == keccak(unhex(fields["publicKey"])) and sender == sender_key == keccak(b"\xed\x01" + sender_public)[-20:]
    verifier = ed25519.Ed25519PublicKey.from_public_bytes(sender_public)
    verifier.verify(outer, domain("sealed-envelope", rlp.encode(items[:12])))
    s = suite(kem, aead)
    inner = hpke_open(s, enc, s.kem.deserialize_private_key(unhex(fields["privateKey"])), ciphertext,
                      domain("seal-info", sender + recipient), rlp.encode(items[:10]))
    assert inner[0] == 0x53
    inner_items = rlp.decode(inner[1:])
    assert inner_items[:8] == [chain_id, sender, sender_key, sequence, timestamp, b"", recipient, b"application/json"]
    assert inner_items[8] == b'{"valve": 3, "open": true}'
    verifier.verify(inner_items[9], domain("envelope", rlp.encode(inner_items[:9])))


@pytest.mark.parametrize("kem,aead,signer_kind", [(k, a, s) for k, a in SUITES for s in ("ed25519", "p256")])
def test_kramaa_opens_a_sealed_envelope_made_here(kramaa, tmp_path, kem, aead, signer_kind):
    path, fields = kramaa_key(kramaa, tmp_path, kem)
    signer, recipient = Signer(signer_kind), os.urandom(20)
    inner = signed_envelope(signer, recipient, 7, 1750000000999, "text/plain", b"hello from python")
    header = [CHAIN, signer.address, signer.address, 7, 1750000000999, recipient, KEMS[kem].value, 1, AEADS[aead].value, keccak(unhex(fields["publicKey"]))]
    s = suite(kem, aead)
    enc, ciphertext = hpke_seal(s, s.kem.deserialize_public_key(unhex(fields["publicKey"])), inner,
                                domain("seal-info", signer.address + recipient), rlp.encode(header))
    outer = signer.sign(domain("sealed-envelope", rlp.encode(header + [enc, ciphertext])))
    (tmp_path / "envelope").write_bytes(b"\x45" + rlp.encode(header + [enc, ciphertext, outer]))
    args = ["msg", "open", "--agreement-key", str(path), "--in", str(tmp_path / "envelope"), "--chain-id", str(CHAIN)]
    opened = json.loads(kramaa(*args, "--sender-key", f"{signer_kind}:{signer.public.hex()}").stdout)
    assert opened["sealed"] is True and unhex(opened["payload"]) == b"hello from python" and opened["sequence"] == 7
    assert opened["recipient"]["device"].lower() == "0x" + recipient.hex()
    assert unhex(opened["envelopeHash"]) == keccak((tmp_path / "envelope").read_bytes())
    # Another sender key, or the envelope re-addressed under a fresh outer signature, is refused.
    other = Signer(signer_kind)
    refused = kramaa(*args, "--sender-key", f"{signer_kind}:{other.public.hex()}", check=False)
    assert refused.returncode != 0 and "registered active key" in refused.stderr
    moved = list(header)
    moved[5] = os.urandom(20)
    resigned = signer.sign(domain("sealed-envelope", rlp.encode(moved + [enc, ciphertext])))
    (tmp_path / "moved").write_bytes(b"\x45" + rlp.encode(moved + [enc, ciphertext, resigned]))
    moved_args = ["msg", "open", "--agreement-key", str(path), "--in", str(tmp_path / "moved"), "--chain-id", str(CHAIN)]
    refused = kramaa(*moved_args, "--sender-key", f"{signer_kind}:{signer.public.hex()}", check=False)
    assert refused.returncode != 0 and "does not open" in refused.stderr
