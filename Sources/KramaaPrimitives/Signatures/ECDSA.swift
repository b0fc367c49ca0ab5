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
    public var isLowS: Bool { UInt256(s) <= UInt256(Curve.order) >> 1 }

    /// The low-S form of this signature (itself if already low-S). It verifies for the
    /// same key and digest.
    public var lowS: Self { isLowS ? self : Self(unchecked: r, s: (UInt256(Curve.order) &- UInt256(s)).bytes32) }

    public var description: String { "ECDSA(r: \(r), s: \(s))" }
}
