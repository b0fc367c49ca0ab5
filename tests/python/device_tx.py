"""Device transactions (type 0x4b, docs/DEVICE-TRANSACTIONS.md) built and signed in Python,
independently of the node: `cryptography` for P-256 and Ed25519, `rlp` and keccak (eth_utils)
for the encoding and hashes, eth_keys for the sponsor's secp256k1 signature."""
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address
import rlp

TYPE = 0x4B
P256, ED25519 = 2, 3  # the device registry's key type codes (1 is secp256k1)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# multicodec varints of the key types, as in did:key: p256-pub 0x1200, ed25519-pub 0xed
MULTICODEC = {P256: b"\x80\x24", ED25519: b"\xed\x01"}


class DeviceKey:
    """A device's P-256 or Ed25519 private key."""

    def __init__(self, key_type, private_key=None):
        self.key_type = key_type
        if private_key is None:
            private_key = ec.generate_private_key(ec.SECP256R1()) if key_type == P256 else ed25519.Ed25519PrivateKey.generate()
        self.private_key = private_key

    def public_key(self, uncompressed=False):
        pub = self.private_key.public_key()
        if self.key_type == ED25519:
            return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        form = serialization.PublicFormat.UncompressedPoint if uncompressed else serialization.PublicFormat.CompressedPoint
        return pub.public_bytes(serialization.Encoding.X962, form)

    @property
    def address(self):
        """keccak256(multicodec prefix ‖ compressed public key)[12:]."""
        return to_checksum_address(keccak(MULTICODEC[self.key_type] + self.public_key())[12:])

    def sign(self, digest):
        """64 bytes: P-256 r ‖ s over the 32-byte digest (s made low), or Ed25519 of the digest."""
        if self.key_type == ED25519:
            return self.private_key.sign(digest)
        der = self.private_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        r, s = utils.decode_dss_signature(der)
        if s > P256_N // 2:
            s = P256_N - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def address_bytes(address):
    return b"" if address is None else bytes.fromhex(address[2:])


class DeviceTx:
    """The fields of a device transaction, its hashes and its wire form."""

    def __init__(self, device, *, chain_id, nonce, tip, max_fee, gas, to, value=0, data=b"", access_list=(),
                 sponsor=None, uncompressed_key=False):
        self.device = device
        self.chain_id, self.nonce, self.tip, self.max_fee, self.gas = chain_id, nonce, tip, max_fee, gas
        self.to, self.value, self.data, self.access_list = to, value, data, list(access_list)
        self.sponsor = sponsor
        self.public_key = device.public_key(uncompressed=uncompressed_key)
        self.signature = b""
        self.sponsor_signature = (0, 0, 0)

    def unsigned_fields(self):
        access = [[address_bytes(a), [bytes.fromhex(k[2:]) for k in keys]] for a, keys in self.access_list]
        return [self.chain_id, self.nonce, self.tip, self.max_fee, self.gas, address_bytes(self.to), self.value, self.data,
                access, self.device.key_type, self.public_key, address_bytes(self.sponsor)]

    @property
    def signing_hash(self):
        return keccak(bytes([TYPE]) + rlp.encode(self.unsigned_fields()))

    @property
    def sponsor_hash(self):
        return keccak(bytes([TYPE, 0x53]) + self.signing_hash)

    def sign(self):
        self.signature = self.device.sign(self.signing_hash)
        return self

    def sponsor_sign(self, sponsor_private_key, digest=None):
        sig = eth_keys.PrivateKey(bytes.fromhex(sponsor_private_key[2:])).sign_msg_hash(digest or self.sponsor_hash)
        self.sponsor_signature = (sig.v, sig.r, sig.s)
        return self

    @property
    def raw(self):
        return bytes([TYPE]) + rlp.encode(self.unsigned_fields() + [self.signature, *self.sponsor_signature])

    @property
    def hash(self):
        return "0x" + keccak(self.raw).hex()
