"""Envelopes made in Python from docs/MESSAGING.md alone (the HPKE interoperability tests and
the MQTT inbox tests): a device signer on `cryptography`, and the signed envelope format."""
import json

import rlp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from eth_utils import keccak

CHAIN = 1337


def domain(purpose, body):
    return b"\x19kramaa:" + purpose.encode() + b"\x00" + CHAIN.to_bytes(8, "big") + body


class Signer:
    """A device signing key made with `cryptography`, signing as Kramaa verifies (64-byte r ‖ s or RFC 8032)."""

    def __init__(self, kind, private=None):
        self.kind = kind
        if kind == "ed25519":
            self.key = ed25519.Ed25519PrivateKey.from_private_bytes(private) if private else ed25519.Ed25519PrivateKey.generate()
            self.public = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.address = keccak(b"\xed\x01" + self.public)[-20:]
        else:
            self.key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1()) if private else ec.generate_private_key(ec.SECP256R1())
            self.public = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
            self.address = keccak(b"\x80\x24" + self.public)[-20:]

    def sign(self, message):
        if self.kind == "ed25519":
            return self.key.sign(message)
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify(self, signature, message):
        if self.kind == "ed25519":
            self.key.public_key().verify(signature, message)
        else:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            self.key.public_key().verify(der, message, ec.ECDSA(hashes.SHA256()))

    @classmethod
    def from_key_file(cls, path):
        """The signer of a `kramaa keys new --type p256|ed25519` key file."""
        document = json.loads(open(path).read())
        return cls(document["type"], bytes.fromhex(document["privateKey"][2:]))


def signed_envelope(signer, recipient, sequence, timestamp, content_type, payload, sender=None):
    """`sender` is the device address when it is not the key's own (a rotated key)."""
    fields = [CHAIN, sender or signer.address, signer.address, sequence, timestamp, 0, recipient, content_type.encode(), payload]
    return b"\x53" + rlp.encode(fields + [signer.sign(domain("envelope", rlp.encode(fields)))])
