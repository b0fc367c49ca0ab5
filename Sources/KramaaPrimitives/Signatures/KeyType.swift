/// The signature schemes of Kramaa accounts and devices.
public enum KeyType: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// ECDSA on secp256k1: Ethereum accounts, validators.
    case secp256k1
    /// ECDSA on NIST P-256: secure elements, phone enclaves, WebAuthn.
    case p256
    /// EdDSA on edwards25519 (RFC 8032).
    case ed25519

    /// Parses a key type name, ignoring case; `secp256r1`, `p-256` and `prime256v1` also
    /// name P-256.
    public init(parsing name: some StringProtocol) throws(KeyError) {
        switch name.lowercased() {
        case "secp256k1": self = .secp256k1
        case "p256", "p-256", "secp256r1", "prime256v1": self = .p256
        case "ed25519": self = .ed25519
        default: throw .unknownKeyType(String(name))
        }
    }

    /// The multicodec code of this type's public key (as in did:key).
    public var multicodec: Multicodec {
        switch self {
        case .secp256k1: return .secp256k1Pub
        case .p256: return .p256Pub
        case .ed25519: return .ed25519Pub
        }
    }

    /// The one number of this type wherever a key type is written as an integer: the device
    /// registry's calls and storage, device transactions (`keyType`), readings. 1 secp256k1,
    /// 2 P-256, 3 Ed25519.
    public var code: UInt8 {
        switch self {
        case .secp256k1: 1
        case .p256: 2
        case .ed25519: 3
        }
    }

    /// The type of a ``code``; nil for an unknown number.
    public init?(code: UInt64) {
        guard let type = Self.allCases.first(where: { UInt64($0.code) == code }) else { return nil }
        self = type
    }

    /// How a user is told the codes, in refusals.
    public static let codesDescription = "1 secp256k1, 2 P-256, 3 Ed25519"

    public var description: String { rawValue }
}

/// A private key of any ``KeyType``: what a device or account holds.
///
/// Messages are hashed as each scheme expects (see ``signature(for:)``), so the same
/// bytes can be signed and verified without knowing the key type.
public enum SigningKey: Sendable, CustomStringConvertible {
    case secp256k1(Secp256k1.PrivateKey)
    case p256(Secp256r1.PrivateKey)
    case ed25519(Ed25519.PrivateKey)

    /// A new random key of `type`.
    public init(generating type: KeyType) {
        switch type {
        case .secp256k1: self = .secp256k1(Secp256k1.PrivateKey())
        case .p256: self = .p256(Secp256r1.PrivateKey())
        case .ed25519: self = .ed25519(Ed25519.PrivateKey())
        }
    }

    /// A key of `type` from its 32 raw bytes (the scalar, or the Ed25519 seed).
    public init(type: KeyType, rawRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
        switch type {
        case .secp256k1: self = .secp256k1(try Secp256k1.PrivateKey(rawRepresentation: bytes))
        case .p256: self = .p256(try Secp256r1.PrivateKey(rawRepresentation: bytes))
        case .ed25519: self = .ed25519(try Ed25519.PrivateKey(rawRepresentation: bytes))
        }
    }

    public var type: KeyType {
        switch self {
        case .secp256k1: return .secp256k1
        case .p256: return .p256
        case .ed25519: return .ed25519
        }
    }

    /// The 32 raw bytes.
    public var rawRepresentation: [UInt8] {
        switch self {
        case .secp256k1(let key): return key.rawRepresentation
        case .p256(let key): return key.rawRepresentation
        case .ed25519(let key): return key.rawRepresentation
        }
    }

    public var publicKey: PublicKey {
        switch self {
        case .secp256k1(let key): return .secp256k1(key.publicKey)
        case .p256(let key): return .p256(key.publicKey)
        case .ed25519(let key): return .ed25519(key.publicKey)
        }
    }

    /// A 64-byte signature of `message`:
    /// - secp256k1: ECDSA `r ‖ s` (low S) over keccak256(message), the Ethereum hash;
    /// - p256: ECDSA `r ‖ s` over SHA-256(message) (ES256);
    /// - ed25519: RFC 8032 `R ‖ S` of the message itself.
    public func signature(for message: some Sequence<UInt8>) -> [UInt8] {
        switch self {
        case .secp256k1(let key): return key.sign(digest: Keccak256.hash(message)).signature.rawRepresentation
        case .p256(let key): return key.sign(message: message).rawRepresentation
        case .ed25519(let key): return key.sign(message: message)
        }
    }

    /// Redacted: a private key never appears in logs.
    public var description: String { "SigningKey(\(type), public: \(publicKey))" }
}

/// A public key of any ``KeyType``: how Kramaa names and checks a device or account.
public enum PublicKey: Hashable, Sendable, CustomStringConvertible {
    case secp256k1(Secp256k1.PublicKey)
    case p256(Secp256r1.PublicKey)
    case ed25519(Ed25519.PublicKey)

    /// Parses a public key of `type`: SEC 1 compressed (33) or uncompressed (65) bytes for
    /// the ECDSA curves, 32 bytes for Ed25519. The point must be on the curve.
    public init(type: KeyType, bytes: some Collection<UInt8>) throws(KeyError) {
        switch type {
        case .secp256k1: self = .secp256k1(try Secp256k1.PublicKey(serialized: bytes))
        case .p256: self = .p256(try Secp256r1.PublicKey(serialized: bytes))
        case .ed25519: self = .ed25519(try Ed25519.PublicKey(rawRepresentation: bytes))
        }
    }

    public var type: KeyType {
        switch self {
        case .secp256k1: return .secp256k1
        case .p256: return .p256
        case .ed25519: return .ed25519
        }
    }

    /// The canonical short form: compressed points (33 bytes) for the ECDSA curves, the
    /// 32 raw bytes for Ed25519. This is what did:key carries.
    public var bytes: [UInt8] {
        switch self {
        case .secp256k1(let key): return key.compressedRepresentation
        case .p256(let key): return key.compressedRepresentation
        case .ed25519(let key): return key.rawRepresentation
        }
    }

    /// ``bytes`` behind the varint of the type's multicodec code, as inside a did:key.
    public var multicodecBytes: [UInt8] { type.multicodec.prefix + bytes }

    /// The 20-byte address by which Kramaa's chain names this key.
    ///
    /// - secp256k1: the Ethereum address, the last 20 bytes of keccak256(x ‖ y), so
    ///   Ethereum wallets and Kramaa agree.
    /// - p256 and ed25519: Ethereum has no rule, so Kramaa defines the address as the last
    ///   20 bytes of keccak256(``multicodecBytes``), the multicodec-prefixed public key as in
    ///   did:key (`80 24 ‖ compressed point` for P-256, `ed 01 ‖ key` for Ed25519). The
    ///   prefix keeps the address spaces of the key types apart; the compressed form makes
    ///   the address independent of how the key was presented.
    public var address: Address {
        switch self {
        case .secp256k1(let key): return key.address
        case .p256, .ed25519: return Address(keccakTail: Keccak256.hash(multicodecBytes))
        }
    }

    /// The `did:key` of this key.
    public var didKey: DIDKey { DIDKey(self) }

    /// Verifies a 64-byte signature made by ``SigningKey/signature(for:)``. For secp256k1
    /// only low-S signatures are valid, matching Ethereum.
    public func isValidSignature(_ signature: some Collection<UInt8>, for message: some Sequence<UInt8>) -> Bool {
        switch self {
        case .secp256k1(let key):
            guard let sig = try? Secp256k1.Signature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, digest: Keccak256.hash(message), allowHighS: false)
        case .p256(let key):
            guard let sig = try? Secp256r1.Signature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, message: message)
        case .ed25519(let key):
            return key.isValidSignature(signature, message: message)
        }
    }

    /// `type:hex` of ``bytes``.
    public var description: String { "\(type):\(Hex.encode(bytes))" }
}
