import Crypto
import Foundation
import KramaaPrimitives

/// Why bytes are not a usable key-agreement key, or a type is not known.
public enum AgreementKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A KEM id or name Kramaa does not use (0x0020 X25519, 0x0010 P-256).
    case unknownType(String)
    /// A public key of the wrong length for its type.
    case wrongPublicKeyLength(AgreementKeyType, expected: Int, actual: Int)
    /// A private key or seed of the wrong length.
    case wrongPrivateKeyLength(AgreementKeyType, expected: Int, actual: Int)
    /// Bytes of the right length that are not a usable key (not on the curve, not canonical, of
    /// small order, or a scalar out of range).
    case invalidKey(AgreementKeyType, String)

    public var description: String {
        switch self {
        case .unknownType(let name): return "unknown key-agreement key type \(name); use x25519 (KEM 0x0020) or p256-kem (KEM 0x0010)"
        case .wrongPublicKeyLength(let type, let expected, let actual): return "a \(type) public key is \(expected) bytes, got \(actual)"
        case .wrongPrivateKeyLength(let type, let expected, let actual): return "a \(type) private key is \(expected) bytes, got \(actual)"
        case .invalidKey(let type, let why): return "not a usable \(type) key: \(why)"
        }
    }
}

/// The key-agreement (HPKE KEM) key types a device can register, named by their RFC 9180 KEM ids.
public enum AgreementKeyType: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// DHKEM(P-256, HKDF-SHA256).
    case p256 = 0x0010
    /// DHKEM(X25519, HKDF-SHA256).
    case x25519 = 0x0020

    /// `x25519` or `p256-kem` (not `p256`, which names the P-256 *signing* key type).
    public init(parsing name: some StringProtocol) throws(AgreementKeyError) {
        switch name.lowercased() {
        case "x25519": self = .x25519
        case "p256-kem": self = .p256
        default: throw .unknownType("'\(name)'")
        }
    }

    /// The type with KEM id `id`.
    public init(kemId id: UInt64) throws(AgreementKeyError) {
        guard id <= UInt16.max, let type = AgreementKeyType(rawValue: UInt16(id)) else { throw .unknownType("KEM id \(id)") }
        self = type
    }

    /// The name key files and the CLI use.
    public var name: String { self == .x25519 ? "x25519" : "p256-kem" }
    public var description: String { name }

    /// The length of RFC 9180's SerializePublicKey (uncompressed SEC 1 for P-256).
    public var publicKeyLength: Int { self == .x25519 ? 32 : 65 }

    var kem: HPKE.KEM { self == .x25519 ? .Curve25519_HKDF_SHA256 : .P256_HKDF_SHA256 }
}

/// A device's key-agreement public key, in RFC 9180's SerializePublicKey form: 32 bytes for
/// X25519, 65 bytes (`04 ‖ x ‖ y`) for P-256. Only canonical encodings of usable points are
/// accepted, so one key has one byte form and one ``keyHash``.
public struct AgreementPublicKey: Hashable, Sendable, CustomStringConvertible {
    public let type: AgreementKeyType
    public let bytes: [UInt8]

    /// The X25519 public keys of small order (u < p): sealing to them would give every
    /// observer the shared secret.
    static let smallOrderX25519: Set<[UInt8]> = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        try! Hex.decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        try! Hex.decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        try! Hex.decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ]

    public init(type: AgreementKeyType, bytes: some Collection<UInt8>) throws(AgreementKeyError) {
        let raw = Array(bytes)
        guard raw.count == type.publicKeyLength else { throw .wrongPublicKeyLength(type, expected: type.publicKeyLength, actual: raw.count) }
        switch type {
        case .x25519:
            guard raw[31] & 0x80 == 0, !Self.isAtLeastP(raw) else { throw .invalidKey(type, "not a canonical u-coordinate (below 2^255 - 19)") }
            guard !Self.smallOrderX25519.contains(raw) else { throw .invalidKey(type, "a point of small order") }
        case .p256:
            guard raw[0] == 0x04 else { throw .invalidKey(type, "not an uncompressed point (04 ‖ x ‖ y)") }
            guard (try? P256.KeyAgreement.PublicKey(x963Representation: raw)) != nil else { throw .invalidKey(type, "not a point on P-256") }
        }
        self.type = type
        self.bytes = raw
    }

    /// keccak256 of ``bytes``: how a sealed envelope names the key it was sealed to.
    public var keyHash: Bytes32 { Keccak256.hash(bytes) }

    /// `type:hex`.
    public var description: String { "\(type):\(Hex.encode(bytes))" }

    /// Whether 32 little-endian bytes (top bit clear) are at least p = 2^255 − 19.
    private static func isAtLeastP(_ u: [UInt8]) -> Bool {
        u[31] == 0x7f && u[1..<31].allSatisfy { $0 == 0xff } && u[0] >= 0xed
    }
}

/// A device's key-agreement private key.
///
/// - X25519: held as a 32-byte Ed25519 seed. The X25519 scalar is the first half of
///   SHA-512(seed), clamped (RFC 8032 §5.1.5, libsodium's `crypto_sign_ed25519_sk_to_curve25519`),
///   so the seed's Ed25519 key can prove possession of the agreement key by a signature
///   (``AgreementKeyProof``): its public key maps to this key's u-coordinate.
/// - P-256: the 32-byte scalar; the same scalar signs ECDSA possession proofs.
public struct AgreementPrivateKey: Sendable, CustomStringConvertible {
    public let type: AgreementKeyType
    /// The Ed25519 seed (X25519) or the scalar (P-256).
    public let secret: [UInt8]

    /// A new random key of `type`.
    public init(generating type: AgreementKeyType) {
        switch type {
        case .x25519: secret = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        case .p256: secret = Array(P256.KeyAgreement.PrivateKey().rawRepresentation)
        }
        self.type = type
    }

    /// A key from its secret: the Ed25519 seed (X25519) or the scalar (P-256), 32 bytes.
    public init(type: AgreementKeyType, secret: some Collection<UInt8>) throws(AgreementKeyError) {
        let raw = Array(secret)
        guard raw.count == 32 else { throw .wrongPrivateKeyLength(type, expected: 32, actual: raw.count) }
        if type == .p256, (try? P256.KeyAgreement.PrivateKey(rawRepresentation: raw)) == nil {
            throw .invalidKey(type, "the scalar is zero or not below the group order")
        }
        self.type = type
        self.secret = raw
    }

    /// The HPKE private key bytes (RFC 9180 SerializePrivateKey): the clamped X25519 scalar, or
    /// the P-256 scalar.
    public var hpkePrivateKey: [UInt8] {
        switch type {
        case .x25519:
            var scalar = Array(SHA512.hash(data: secret).prefix(32))
            scalar[0] &= 248
            scalar[31] &= 127
            scalar[31] |= 64
            return scalar
        case .p256:
            return secret
        }
    }

    public var publicKey: AgreementPublicKey {
        let bytes: Data = switch type {
        case .x25519: (try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: hpkePrivateKey)).publicKey.rawRepresentation
        case .p256: (try! P256.KeyAgreement.PrivateKey(rawRepresentation: secret)).publicKey.x963Representation
        }
        return try! AgreementPublicKey(type: type, bytes: bytes)
    }

    /// The signing key that proves possession: the seed's Ed25519 key, or ECDSA with the P-256 scalar.
    var provingKey: SigningKey {
        try! SigningKey(type: type == .x25519 ? .ed25519 : .p256, rawRepresentation: secret)
    }

    /// Redacted.
    public var description: String { "AgreementPrivateKey(\(publicKey))" }
}
