import Crypto
import Foundation

/// Ed25519 (RFC 8032) signatures, backed by swift-crypto.
public enum Ed25519 {
    /// An Ed25519 private key: its 32-byte seed.
    // @unchecked: swift-crypto 3's key types are immutable but not marked Sendable.
    public struct PrivateKey: @unchecked Sendable, CustomStringConvertible {
        let key: Curve25519.Signing.PrivateKey

        /// A new random key.
        public init() { key = Curve25519.Signing.PrivateKey() }

        /// A key from its 32-byte seed (RFC 8032's private key). Every seed is valid.
        public init(rawRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 32 else { throw .wrongPrivateKeyLength(.ed25519, expected: 32, actual: bytes.count) }
            key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(bytes))
        }

        /// The 32-byte seed.
        public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

        /// The matching public key.
        public var publicKey: PublicKey { PublicKey(key: key.publicKey) }

        /// The 64-byte signature `R ‖ S` of `message`.
        public func sign(message: some Sequence<UInt8>) -> [UInt8] {
            Array(try! key.signature(for: Array(message)))
        }

        /// Redacted: a private key never appears in logs.
        public var description: String { "Ed25519.PrivateKey(public: \(publicKey))" }
    }

    /// An Ed25519 public key: 32 bytes, the canonical encoding of a curve point.
    // @unchecked: swift-crypto 3's key types are immutable but not marked Sendable.
    public struct PublicKey: Hashable, @unchecked Sendable, CustomStringConvertible {
        let key: Curve25519.Signing.PublicKey

        init(key: Curve25519.Signing.PublicKey) { self.key = key }

        /// Parses 32 bytes; they must decode to a point of edwards25519 (RFC 8032 §5.1.3),
        /// which swift-crypto does not check until verification.
        public init(rawRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            let raw = Array(bytes)
            guard raw.count == 32 else { throw .wrongPublicKeyLength(.ed25519, expected: [32], actual: raw.count) }
            guard Edwards25519.isValidPointEncoding(raw) else { throw .notOnCurve(.ed25519) }
            key = try! Curve25519.Signing.PublicKey(rawRepresentation: raw)
        }

        /// The 32 bytes.
        public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

        /// The X25519 public key of the same secret scalar (RFC 7748 §4.1's birational map,
        /// u = (1 + y) / (1 − y) mod p, 32 bytes little-endian, as libsodium's
        /// `crypto_sign_ed25519_pk_to_curve25519`); nil for the neutral point (y = 1), which has none.
        /// A key-agreement key derived from an Ed25519 seed is proven by this key's signature.
        public var montgomeryU: [UInt8]? { Edwards25519.montgomeryU(ofEncoding: rawRepresentation) }

        /// Verifies a 64-byte signature of `message`; any other length is not valid.
        public func isValidSignature(_ signature: some Collection<UInt8>, message: some Sequence<UInt8>) -> Bool {
            guard signature.count == 64 else { return false }
            return key.isValidSignature(Array(signature), for: Array(message))
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool { a.key.rawRepresentation == b.key.rawRepresentation }
        public func hash(into hasher: inout Hasher) { hasher.combine(key.rawRepresentation) }

        /// Hex of the 32 bytes.
        public var description: String { Hex.encode(rawRepresentation) }
    }
}

/// Just enough arithmetic modulo p = 2²⁵⁵ − 19 to tell whether 32 bytes encode a point
/// of edwards25519 (used when keys arrive from outside: did:key, key files, devices).
enum Edwards25519 {
    /// Four 64-bit limbs, least significant first; values are kept below 2²⁵⁶.
    typealias Element = [UInt64]

    static let p: Element = [0xffff_ffff_ffff_ffed, .max, .max, 0x7fff_ffff_ffff_ffff]
    /// d = −121665 / 121666 mod p.
    static let d: Element = [0x75eb_4dca_1359_78a3, 0x0070_0a4d_4141_d8ab, 0x8cc7_4079_7779_e898, 0x5203_6cee_2b6f_fe73]
    static let one: Element = [1, 0, 0, 0]

    /// RFC 8032 §5.1.3 decoding, without computing x: y must be below p, and
    /// x² = (y² − 1) / (d·y² + 1) must have a square root (x = 0 only with sign bit 0).
    static func isValidPointEncoding(_ bytes: [UInt8]) -> Bool {
        precondition(bytes.count == 32)
        var y = element(littleEndian: bytes)
        let sign = y[3] >> 63
        y[3] &= 0x7fff_ffff_ffff_ffff
        guard !greaterOrEqual(y, p) else { return false }
        let y2 = mul(y, y)
        let u = sub(y2, one)
        let v = add(mul(d, y2), one)
        if isZero(u) { return sign == 0 }
        // x = u·v³·(u·v⁷)^((p−5)/8); a root exists when v·x² = ±u.
        let v3 = mul(mul(v, v), v)
        let v7 = mul(mul(v3, v3), v)
        let x = mul(mul(u, v3), pow(mul(u, v7), exponent: [0xffff_ffff_ffff_fffd, .max, .max, 0x0fff_ffff_ffff_ffff]))
        let vx2 = mul(v, mul(x, x))
        return equal(vx2, u) || equal(vx2, sub([0, 0, 0, 0], u))
    }

    /// u = (1 + y) / (1 − y) of the point whose encoding is `bytes` (the sign of x does not
    /// matter: ±x map to the same u); nil when 1 − y = 0.
    static func montgomeryU(ofEncoding bytes: [UInt8]) -> [UInt8]? {
        precondition(bytes.count == 32)
        var y = element(littleEndian: bytes)
        y[3] &= 0x7fff_ffff_ffff_ffff
        let denominator = sub(one, y)
        guard !isZero(denominator) else { return nil }
        // 1/z = z^(p−2).
        let u = canonical(mul(add(one, y), pow(denominator, exponent: [0xffff_ffff_ffff_ffeb, .max, .max, 0x7fff_ffff_ffff_ffff])))
        return u.flatMap { limb in (0..<8).map { UInt8(truncatingIfNeeded: limb >> (8 * UInt64($0))) } }
    }

    /// The four limbs of 32 little-endian bytes.
    static func element(littleEndian bytes: [UInt8]) -> Element {
        (0..<4).map { limb in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[limb * 8 + $1]) << (8 * $1) } }
    }

    static func greaterOrEqual(_ a: Element, _ b: Element) -> Bool {
        for i in stride(from: 3, through: 0, by: -1) where a[i] != b[i] { return a[i] > b[i] }
        return true
    }

    /// Fully reduced, below p.
    static func canonical(_ a: Element) -> Element {
        var x = a
        while greaterOrEqual(x, p) { x = rawSub(x, p).0 }
        return x
    }

    static func isZero(_ a: Element) -> Bool { canonical(a) == [0, 0, 0, 0] }
    static func equal(_ a: Element, _ b: Element) -> Bool { canonical(a) == canonical(b) }

    static func rawSub(_ a: Element, _ b: Element) -> (Element, borrow: Bool) {
        var out = a
        var borrow: UInt64 = 0
        for i in 0..<4 { (out[i], borrow) = subtractingWithBorrow(a[i], b[i], borrow) }
        return (out, borrow != 0)
    }

    static func rawAdd(_ a: Element, _ b: Element) -> (Element, carry: Bool) {
        var out = a
        var carry: UInt64 = 0
        for i in 0..<4 { (out[i], carry) = addingWithCarry(a[i], b[i], carry) }
        return (out, carry != 0)
    }

    static func add(_ a: Element, _ b: Element) -> Element {
        let (s, carry) = rawAdd(canonical(a), canonical(b))
        return carry ? rawAdd(s, [38, 0, 0, 0]).0 : s  // 2²⁵⁶ ≡ 38 (mod p)
    }

    static func sub(_ a: Element, _ b: Element) -> Element {
        let (d, borrow) = rawSub(canonical(a), canonical(b))
        return borrow ? rawAdd(d, p).0 : d
    }

    static func mul(_ a: Element, _ b: Element) -> Element {
        var t = [UInt64](repeating: 0, count: 8)
        for i in 0..<4 {
            var carry: UInt64 = 0
            for j in 0..<4 { (carry, t[i + j]) = multiplyAdd(a[i], b[j], t[i + j], carry) }
            t[i + 4] = carry
        }
        // Fold the high half in: t_hi · 2²⁵⁶ ≡ t_hi · 38.
        var out = Array(t[0..<4])
        var carry: UInt64 = 0
        for i in 0..<4 { (carry, out[i]) = multiplyAdd(t[i + 4], 38, out[i], carry) }
        while carry != 0 {
            let (s, c) = rawAdd(out, [carry &* 38, 0, 0, 0])
            out = s
            carry = c ? 1 : 0
        }
        return out
    }

    static func pow(_ base: Element, exponent: Element) -> Element {
        var result = one
        for i in stride(from: 255, through: 0, by: -1) {
            result = mul(result, result)
            if exponent[i / 64] >> UInt64(i % 64) & 1 == 1 { result = mul(result, base) }
        }
        return result
    }
}
