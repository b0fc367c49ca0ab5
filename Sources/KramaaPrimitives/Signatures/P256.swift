import Crypto
import Foundation

/// NIST P-256 (secp256r1, prime256v1): the curve of hardware secure elements and phone
/// enclaves, verifiable on chain through RIP-7212. Backed by swift-crypto.
///
/// Named `Secp256r1` so that it does not clash with swift-crypto's `P256`.
public enum Secp256r1 {
    /// A signature `(r, s)` on P-256.
    public typealias Signature = ECDSASignature<Secp256r1>
}

extension Secp256r1: ECDSACurve {
    public static let keyType = KeyType.p256

    /// n = FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551.
    public static let order = try! Bytes32(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

    /// swift-crypto's DER parser, plus a check that re-encoding gives back the input.
    public static func parseStrictDER(_ der: [UInt8]) throws(SignatureError) -> (r: Bytes32, s: Bytes32) {
        let parsed: P256.Signing.ECDSASignature
        do { parsed = try P256.Signing.ECDSASignature(derRepresentation: der) } catch { throw .malformedDER }
        guard Array(parsed.derRepresentation) == der else { throw .nonCanonicalDER }
        let raw = parsed.rawRepresentation
        return (try! Bytes32(raw.prefix(32)), try! Bytes32(raw.suffix(32)))
    }

    public static func serializeDER(r: Bytes32, s: Bytes32) -> [UInt8] {
        Array(try! P256.Signing.ECDSASignature(rawRepresentation: r.bytes + s.bytes).derRepresentation)
    }
}

extension Secp256r1 {
    /// A P-256 private key: a 32-byte scalar in `1 ..< n`.
    // @unchecked: swift-crypto 3's key types are immutable but not marked Sendable.
    public struct PrivateKey: @unchecked Sendable, CustomStringConvertible {
        let key: P256.Signing.PrivateKey

        /// A new random key.
        public init() { key = P256.Signing.PrivateKey() }

        /// A key from its 32-byte big-endian scalar, which must be nonzero and below n.
        public init(rawRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 32 else { throw .wrongPrivateKeyLength(.p256, expected: 32, actual: bytes.count) }
            let scalar = try! Bytes32(bytes)
            guard scalar != .zero, scalar < Secp256r1.order,
                  let key = try? P256.Signing.PrivateKey(rawRepresentation: scalar.bytes)
            else { throw .privateKeyOutOfRange(.p256) }
            self.key = key
        }

        /// The 32-byte scalar.
        public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

        /// The matching public key.
        public var publicKey: PublicKey { PublicKey(key: key.publicKey) }

        /// Signs a 32-byte digest as is (randomised nonce, as swift-crypto does).
        public func sign(digest: Bytes32) -> Signature {
            let signature = try! key.signature(for: PrehashedDigest(digest))
            let raw = signature.rawRepresentation
            return Signature(unchecked: try! Bytes32(raw.prefix(32)), s: try! Bytes32(raw.suffix(32)))
        }

        /// Signs SHA-256 of `message`: ES256, as in WebAuthn, JOSE and RIP-7212 callers.
        public func sign(message: some Sequence<UInt8>) -> Signature {
            sign(digest: Secp256r1.sha256(message))
        }

        /// Redacted: a private key never appears in logs.
        public var description: String { "Secp256r1.PrivateKey(public: \(publicKey))" }
    }

    /// A point on P-256 other than infinity.
    // @unchecked: swift-crypto 3's key types are immutable but not marked Sendable.
    public struct PublicKey: Hashable, @unchecked Sendable, CustomStringConvertible {
        let key: P256.Signing.PublicKey
        /// 33 bytes: `02`/`03` ‖ x (kept: the address and did:key are made from it).
        public let compressedRepresentation: [UInt8]

        init(key: P256.Signing.PublicKey) {
            self.key = key
            compressedRepresentation = Array(key.compressedRepresentation)
        }

        /// Parses SEC 1 form: 33 bytes compressed (`02`/`03 ‖ x`) or 65 bytes uncompressed
        /// (`04 ‖ x ‖ y`). The point must be on the curve.
        ///
        /// Compressed keys are remembered (``ParsedKeys``): decompressing is a modular square
        /// root, as costly as the signature check itself, and a device signs with one key for years.
        public init(serialized bytes: some Collection<UInt8>) throws(KeyError) {
            let input = Array(bytes)
            if input.count == 33, let known = ParsedKeys.shared[input] {
                self = known
                return
            }
            let key: P256.Signing.PublicKey
            do {
                switch input.count {
                case 33 where input[0] == 0x02 || input[0] == 0x03:
                    key = try P256.Signing.PublicKey(compressedRepresentation: input)
                    self.init(key: key)
                    ParsedKeys.shared[input] = self
                    return
                case 65 where input[0] == 0x04:
                    key = try P256.Signing.PublicKey(x963Representation: input)
                case 33, 65:
                    throw KeyError.badPointPrefix(.p256, input[0])
                default:
                    throw KeyError.wrongPublicKeyLength(.p256, expected: [33, 65], actual: input.count)
                }
            } catch let error as KeyError {
                throw error
            } catch {
                throw .notOnCurve(.p256)
            }
            self.init(key: key)
        }

        /// Parses the 33-byte compressed form only.
        public init(compressedRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 33 else { throw .wrongPublicKeyLength(.p256, expected: [33], actual: bytes.count) }
            try self.init(serialized: bytes)
        }

        /// Parses the 64-byte `x ‖ y` form without prefix (RIP-7212's `qx ‖ qy`).
        public init(uncompressedXY bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 64 else { throw .wrongPublicKeyLength(.p256, expected: [64], actual: bytes.count) }
            try self.init(serialized: [0x04] + bytes)
        }

        /// 65 bytes: `04 ‖ x ‖ y`.
        public var uncompressedRepresentation: [UInt8] { Array(key.x963Representation) }
        /// 64 bytes: `x ‖ y`.
        public var uncompressedXY: [UInt8] { Array(key.rawRepresentation) }

        /// Verifies `signature` over a 32-byte digest. Both low and high S are valid, as in
        /// X9.62 and RIP-7212.
        public func isValidSignature(_ signature: Signature, digest: Bytes32) -> Bool {
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature.rawRepresentation) else {
                return false
            }
            return key.isValidSignature(ecdsa, for: PrehashedDigest(digest))
        }

        /// Verifies a strict-DER signature; malformed or non-canonical DER is not valid.
        public func isValidSignature(derRepresentation der: some Collection<UInt8>, digest: Bytes32) -> Bool {
            guard let signature = try? Signature(derRepresentation: der) else { return false }
            return isValidSignature(signature, digest: digest)
        }

        /// Verifies a 64-byte `r ‖ s` (IEEE P1363) signature; any other length is not valid.
        public func isValidSignature(rawRepresentation raw: some Collection<UInt8>, digest: Bytes32) -> Bool {
            guard let signature = try? Signature(rawRepresentation: raw) else { return false }
            return isValidSignature(signature, digest: digest)
        }

        /// Verifies `signature` over SHA-256 of `message`.
        public func isValidSignature(_ signature: Signature, message: some Sequence<UInt8>) -> Bool {
            isValidSignature(signature, digest: Secp256r1.sha256(message))
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool { a.key.rawRepresentation == b.key.rawRepresentation }
        public func hash(into hasher: inout Hasher) { hasher.combine(key.rawRepresentation) }

        /// Compressed hex.
        public var description: String { Hex.encode(compressedRepresentation) }
    }

    static func sha256(_ message: some Sequence<UInt8>) -> Bytes32 {
        SHA256Digest.hash(message)
    }
}

/// A 32-byte hash computed elsewhere (Kramaa's own, or a RIP-7212 input) handed to
/// swift-crypto's digest-based ECDSA as is.
struct PrehashedDigest: Digest {
    static let byteCount = 32
    let value: Bytes32

    init(_ value: Bytes32) { self.value = value }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try value.withUnsafeBytes(body)
    }

    var description: String { "Prehashed: \(value)" }
}

extension Secp256r1 {
    /// Compressed public keys already parsed (valid points only), so a device's key is
    /// decompressed once, not at every transaction and on every validator. Bounded: when full,
    /// it is emptied and fills again with the keys in use.
    final class ParsedKeys: @unchecked Sendable {
        static let shared = ParsedKeys(capacity: 16_384)
        private let capacity: Int
        private let lock = NSLock()
        private var keys: [[UInt8]: PublicKey] = [:]

        init(capacity: Int) { self.capacity = capacity }

        subscript(compressed: [UInt8]) -> PublicKey? {
            get { lock.withLock { keys[compressed] } }
            set {
                lock.withLock {
                    if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
                    keys[compressed] = newValue
                }
            }
        }
    }
}
