"""A passive peer that watches the validators' consensus messages, to check from outside that no
validator signs two different votes (or proposals) for one slot, also across kill -9.

It speaks the peer protocol of docs/NETWORK.md: TLS 1.3 with a self-signed P-256 certificate
carrying the identity extension (its own secp256k1 node key, not a validator's, so it only
follows), the hello frame, pongs to pings; it reads proposals (type 2) and votes (type 3),
checks their signatures (sign-bytes of docs/CONSENSUS.md) and records them. Validators accept
it because the validator network allows followers (allowedPeers = nil)."""
import datetime
import os
import socket
import ssl
import struct
import tempfile
import threading
import time

import rlp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.x509.oid import NameOID
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

PROTOCOL_VERSION = 1
IDENTITY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.4242424.1.1")
DOMAIN = b"kramaa/consensus/v1"
HELLO, PING, PONG, DISCONNECT = 0xF0, 0xF1, 0xF2, 0xF3
PROPOSAL, VOTE = 2, 3
KINDS = {1: "prevote", 2: "precommit"}


def _der_octet_string(data):
    assert len(data) < 128
    return b"\x04" + bytes([len(data)]) + data


def identity_credentials(directory):
    """(certificate file, key file) for a fresh node key: a P-256 TLS key and a self-signed
    certificate with the critical identity extension binding the node key to it."""
    node_key = keys.PrivateKey(os.urandom(32))
    tls_key = ec.generate_private_key(ec.SECP256R1())
    spki = tls_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    binding = node_key.sign_msg_hash(keccak(b"kramaa-tls-handshake:" + spki)).to_bytes()  # r ‖ s ‖ recovery id (0/1)
    compressed = node_key.public_key.to_compressed_bytes()
    inner = _der_octet_string(compressed) + _der_octet_string(binding)
    value = b"\x30" + bytes([len(inner)]) + inner
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kramaa-observer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(tls_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.UnrecognizedExtension(IDENTITY_OID, value), critical=True)
            .sign(tls_key, hashes.SHA256()))
    cert_file, key_file = os.path.join(directory, "observer.crt"), os.path.join(directory, "observer.key")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file, node_key.public_key.to_checksum_address()


def _uint(b):
    return int.from_bytes(b, "big")


def _recover(digest, signature):
    """The signer's public key (eth_keys, slow: used once per validator)."""
    if len(signature) != 65 or signature[64] > 1:
        return None
    try:
        return keys.Signature(signature_bytes=signature).recover_public_key_from_msg_hash(digest)
    except Exception:
        return None


class _Verifier:
    """Signature checks against known public keys with OpenSSL (cryptography), recovering a
    validator's public key with eth_keys only the first time it is seen."""

    def __init__(self, addresses):
        self.addresses = {a.lower(): a for a in addresses}
        self.public = {}  # address -> cryptography public key

    def _verify(self, public, digest, signature):
        r, s_ = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
        try:
            public.verify(encode_dss_signature(r, s_), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            return True
        except InvalidSignature:
            return False

    def signer(self, sign_bytes, signature, claimed=None):
        """The validator address that made `signature` over keccak256(sign_bytes), or None."""
        if len(signature) != 65 or signature[64] > 1:
            return None
        digest = keccak(sign_bytes)
        candidates = [claimed] if claimed else list(self.public)
        for address in candidates:
            if address in self.public and self._verify(self.public[address], digest, signature):
                return address
        key = _recover(digest, signature)
        if key is None:
            return None
        address = self.addresses.get(key.to_checksum_address().lower())
        if address is None:
            return None
        if address not in self.public:
            self.public[address] = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), b"\x04" + key.to_bytes())
        return address


class ConsensusObserver:
    """Follows every validator of a cluster over its peer port (one connection each, redialled
    after a validator restarts) and records every proposal and vote seen."""

    def __init__(self, cluster, chain_id=1337):
        self.cluster = cluster
        self.chain_id = chain_id
        self.validator_addresses = {a.lower(): a for a in cluster.addresses}
        self.verifier = _Verifier(cluster.addresses)
        self.tmp = tempfile.TemporaryDirectory(prefix="observer-")
        self.cert_file, self.key_file, self.address = identity_credentials(self.tmp.name)
        self.lock = threading.Lock()
        self.votes = {}        # (validator, height, round, kind) -> {blockHash or None}
        self.vote_times = {}   # validator -> [(monotonic time, height)]
        self.proposals = {}    # (proposer, height, round) -> {(blockHash, validRound)}
        self.bad_signatures = []
        self.connections = {i: 0 for i in range(cluster.count)}
        self.messages = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._follow, args=(i,), daemon=True, name=f"observer-{i}")
                        for i in range(cluster.count)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(10)
        self.tmp.cleanup()

    # -- what was seen

    def conflicts(self):
        """Slots with more than one signed value: [(slot, values)]."""
        with self.lock:
            out = [(slot, values) for slot, values in self.votes.items() if len(values) > 1]
            proposals = {}
            for (proposer, height, round_), values in self.proposals.items():
                if len({h for h, _ in values}) > 1:
                    out.append((("proposal", proposer, height, round_), values))
                proposals.setdefault((proposer, height, round_), set()).update(values)
            return out

    def votes_after(self, validator_index, since):
        """Heights of the votes of validator `validator_index` received after `since` (monotonic)."""
        address = self.cluster.addresses[validator_index]
        with self.lock:
            return [h for t, h in self.vote_times.get(address, []) if t >= since]

    def summary(self):
        with self.lock:
            return {"messages": self.messages, "vote_slots": len(self.votes), "proposals": len(self.proposals),
                    "connections": dict(self.connections), "bad_signatures": len(self.bad_signatures)}

    # -- the connections

    def _follow(self, index):
        while not self.stopping.is_set():
            try:
                self._session(index)
            except (OSError, ssl.SSLError, ValueError, struct.error):
                pass
            self.stopping.wait(0.1)

    def _session(self, index):
        port = self.cluster.p2p_base + index
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the validators' identities are not what is checked here
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
        context.load_cert_chain(self.cert_file, self.key_file)
        raw = socket.create_connection(("127.0.0.1", port), timeout=2)
        with context.wrap_socket(raw) as conn:
            conn.settimeout(0.5)
            conn.sendall(self._frame(HELLO, struct.pack(">HQH", PROTOCOL_VERSION, self.chain_id, 0)))
            buffer = b""
            hello = False
            last_ping = time.monotonic()
            while not self.stopping.is_set():
                if time.monotonic() - last_ping > 2:
                    conn.sendall(self._frame(PING, b"obs"))
                    last_ping = time.monotonic()
                try:
                    data = conn.recv(65536)
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
                if not data:
                    return
                buffer += data
                while len(buffer) >= 4:
                    length = struct.unpack(">I", buffer[:4])[0]
                    if length == 0 or len(buffer) < 4 + length:
                        break
                    kind, payload, buffer = buffer[4], buffer[5:4 + length], buffer[4 + length:]
                    if not hello:
                        if kind != HELLO:
                            return
                        hello = True
                        with self.lock:
                            self.connections[index] += 1
                    elif kind == PING:
                        conn.sendall(self._frame(PONG, payload))
                    elif kind == DISCONNECT:
                        return
                    elif kind in (PROPOSAL, VOTE):
                        self._consensus(payload)

    @staticmethod
    def _frame(kind, payload):
        return struct.pack(">I", 1 + len(payload)) + bytes([kind]) + payload

    def _consensus(self, payload):
        try:
            tag, body = rlp.decode(payload)
        except Exception:
            return
        now = time.monotonic()
        tag = _uint(tag)
        if tag == 2:  # [kind, height, round, blockHash or "", validator, signature]
            kind, height, round_, block_hash, validator, signature = body
            kind, height, round_ = _uint(kind), _uint(height), _uint(round_)
            sign_bytes = rlp.encode([DOMAIN, self.chain_id, kind, height, round_, block_hash])
            claimed = self.validator_addresses.get(to_checksum_address(validator).lower(), to_checksum_address(validator))
            with self.lock:
                signer = self.verifier.signer(sign_bytes, signature, claimed)
                self.messages += 1
                if signer != claimed:
                    self.bad_signatures.append(("vote", claimed, signer, height, round_, kind))
                    return
                value = block_hash.hex() or None
                self.votes.setdefault((claimed, height, round_, KINDS.get(kind, kind)), set()).add(value)
                self.vote_times.setdefault(claimed, []).append((now, height))
        elif tag == 1:  # [height, round, validRound + 1, blockHash, block, signature]
            height, round_, valid_round, block_hash, _block, signature = body
            height, round_, valid_round = _uint(height), _uint(round_), _uint(valid_round)
            sign_bytes = rlp.encode([DOMAIN, self.chain_id, 3, height, round_, valid_round, block_hash])
            with self.lock:
                signer = self.verifier.signer(sign_bytes, signature)
                self.messages += 1
                if signer is None:
                    self.bad_signatures.append(("proposal", signer, height, round_))
                    return
                self.proposals.setdefault((signer, height, round_), set()).add((block_hash.hex(), valid_round))
