/// A 256-bit prime-order curve over which Kramaa handles ECDSA signatures.
///
/// It gives ``ECDSASignature`` what differs between curves: the group order (for range
/// and low-S checks) and a strict DER codec backed by the curve's native library.
public protocol ECDSACurve: Sendable {
    /// The key type of the curve.
    static var keyType: KeyType { get }
    /// The order `n` of the curve's group, big-endian.
    static var order: Bytes32 { get }
    /// Parses the one DER encoding of `SEQUENCE { INTEGER r, INTEGER s }`, rejecting BER
    /// variants. Range checks against ``order`` happen in ``ECDSASignature``.
    static func parseStrictDER(_ der: [UInt8]) throws(SignatureError) -> (r: Bytes32, s: Bytes32)
    /// The DER encoding of `(r, s)`.
    static func serializeDER(r: Bytes32, s: Bytes32) -> [UInt8]
}

/// An ECDSA signature `(r, s)` on `Curve`, with both values in `1 ..< n`.
///
/// Encodings: ``rawRepresentation`` is IEEE P1363 (`r ‖ s`, 32 bytes each, what Ethereum
/// and RIP-7212 use); ``derRepresentation`` is ASN.1 DER (X.509, TLS, WebAuthn).
@frozen
public struct ECDSASignature<Curve: ECDSACurve>: Hashable, Sendable, CustomStringConvertible {
    /// The `r` value, big-endian.
    public let r: Bytes32
    /// The `s` value, big-endian.
    public let s: Bytes32

    @inlinable
    init(unchecked r: Bytes32, s: Bytes32) {
        self.r = r
        self.s = s
    }

    /// A signature from its two values; each must be in `1 ..< n`.
    public init(r: Bytes32, s: Bytes32) throws(SignatureError) {
        guard r != .zero, r < Curve.order else { throw .scalarOutOfRange(component: "r") }
        guard s != .zero, s < Curve.order else { throw .scalarOutOfRange(component: "s") }
        self.init(unchecked: r, s: s)
    }

    /// Parses IEEE P1363 form: exactly 64 bytes, `r ‖ s`.
    public init(rawRepresentation bytes: some Collection<UInt8>) throws(SignatureError) {
        let raw = Array(bytes)
        guard raw.count == 64 else { throw .wrongLength(expected: 64, actual: raw.count) }
        try self.init(r: try! Bytes32(raw[0..<32]), s: try! Bytes32(raw[32..<64]))
    }

    /// Parses strict DER; BER variants and values outside `1 ..< n` are rejected.
    public init(derRepresentation bytes: some Collection<UInt8>) throws(SignatureError) {
        let (r, s) = try Curve.parseStrictDER(Array(bytes))
        try self.init(r: r, s: s)
    }

    /// `r ‖ s`, 64 bytes.
    public var rawRepresentation: [UInt8] {
        var out = r.bytes
        out.append(contentsOf: s.bytes)
        return out
    }

    /// The DER encoding.
    public var derRepresentation: [UInt8] { Curve.serializeDER(r: r, s: s) }

    /// True when `s ≤ n/2`: the one of the two equivalent signatures `(r, s)` and
    /// `(r, n - s)` that Ethereum and Bitcoin accept.
    public var isLowS: Bool { s <= Curve.order.shiftedRightOne }

    /// The low-S form of this signature (itself if already low-S). It verifies for the
    /// same key and digest.
    public var lowS: Self { isLowS ? self : Self(unchecked: r, s: Curve.order.subtracting(s)) }

    public var description: String { "ECDSA(r: \(r), s: \(s))" }
}

// MARK: - 256-bit big-endian arithmetic on Bytes32, for order checks

extension Bytes32 {
    /// The four 64-bit limbs, most significant first.
    @inlinable
    var bigEndianLimbs: (UInt64, UInt64, UInt64, UInt64) {
        (UInt64(bigEndian: storage.0), UInt64(bigEndian: storage.1),
         UInt64(bigEndian: storage.2), UInt64(bigEndian: storage.3))
    }

    @inlinable
    init(bigEndianLimbs l: (UInt64, UInt64, UInt64, UInt64)) {
        self.init(storage: (l.0.bigEndian, l.1.bigEndian, l.2.bigEndian, l.3.bigEndian))
    }

    /// `self - other` modulo 2²⁵⁶, reading both as big-endian integers.
    @usableFromInline
    func subtracting(_ other: Bytes32) -> Bytes32 {
        let a = bigEndianLimbs, b = other.bigEndianLimbs
        let (d3, b3) = a.3.subtractingReportingOverflow(b.3)
        var (d2, b2) = a.2.subtractingReportingOverflow(b.2)
        var c: Bool
        (d2, c) = d2.subtractingReportingOverflow(b3 ? 1 : 0)
        let br2 = b2 || c
        var (d1, b1) = a.1.subtractingReportingOverflow(b.1)
        (d1, c) = d1.subtractingReportingOverflow(br2 ? 1 : 0)
        let br1 = b1 || c
        let d0 = a.0 &- b.0 &- (br1 ? 1 : 0)
        return Bytes32(bigEndianLimbs: (d0, d1, d2, d3))
    }

    /// `self >> 1`, reading it as a big-endian integer.
    @usableFromInline
    var shiftedRightOne: Bytes32 {
        let l = bigEndianLimbs
        return Bytes32(bigEndianLimbs: (
            l.0 >> 1, l.1 >> 1 | l.0 << 63, l.2 >> 1 | l.1 << 63, l.3 >> 1 | l.2 << 63))
    }
}
