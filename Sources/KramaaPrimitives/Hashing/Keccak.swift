#if _endian(big)
#error("Keccak lanes are read in host order; big-endian hosts are not supported")
#endif

/// The 25 64-bit lanes of a Keccak-f[1600] state, inline.
@usableFromInline
typealias KeccakLanes = (
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
    UInt64, UInt64, UInt64, UInt64, UInt64
)

/// Keccak-256 as Ethereum uses it (original Keccak padding `0x01`), or SHA3-256
/// (FIPS 202 padding `0x06`). Streaming: `update` any number of times, then `finalize`.
///
/// Holds no heap storage; hashing a buffer allocates nothing.
public struct Keccak256: Sendable {
    /// The domain-separation byte that starts the padding.
    public enum Padding: UInt8, Sendable {
        /// Keccak as submitted to the SHA-3 competition; what Ethereum calls Keccak-256.
        case keccak = 0x01
        /// FIPS 202 SHA3-256.
        case sha3 = 0x06
    }

    /// Bytes absorbed per permutation: (1600 - 2 * 256) / 8.
    public static let rate = 136

    @usableFromInline var lanes: KeccakLanes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    @usableFromInline var partial = 0
    @usableFromInline let padding: Padding

    public init(padding: Padding = .keccak) { self.padding = padding }

    /// Keccak-256 of `bytes`.
    @inlinable
    public static func hash(_ bytes: some Sequence<UInt8>) -> Bytes32 {
        var h = Keccak256()
        h.update(bytes)
        return h.finalize()
    }

    /// Keccak-256 of raw memory.
    public static func hash(_ raw: UnsafeRawBufferPointer) -> Bytes32 {
        var h = Keccak256()
        h.update(raw)
        return h.finalize()
    }

    /// SHA3-256 (FIPS 202) of `bytes`.
    public static func sha3(_ bytes: some Sequence<UInt8>) -> Bytes32 {
        var h = Keccak256(padding: .sha3)
        h.update(bytes)
        return h.finalize()
    }

    /// Absorbs `bytes`.
    @inlinable
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ buf in
            self.update(UnsafeRawBufferPointer(buf))
        }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { self.update($0) }
    }

    /// Absorbs raw memory.
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        guard var p = raw.baseAddress, !raw.isEmpty else { return }
        var remaining = raw.count
        let rate = Self.rate
        // Finish a partly filled block byte by byte.
        if partial > 0 {
            let n = min(remaining, rate - partial)
            xorBytes(p, count: n, at: partial)
            partial += n
            p += n
            remaining -= n
            if partial < rate { return }
            Self.permute(&lanes)
            partial = 0
        }
        // Whole blocks, a lane at a time.
        while remaining >= rate {
            withUnsafeMutableBytes(of: &lanes) { state in
                let s = state.baseAddress!.assumingMemoryBound(to: UInt64.self)
                for i in 0..<17 {
                    s[i] ^= UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))
                }
            }
            Self.permute(&lanes)
            p += rate
            remaining -= rate
        }
        if remaining > 0 {
            xorBytes(p, count: remaining, at: 0)
            partial = remaining
        }
    }

    /// Pads, permutes and returns the 32-byte digest.
    public mutating func finalize() -> Bytes32 {
        let pad = padding.rawValue
        let at = partial
        withUnsafeMutableBytes(of: &lanes) { state in
            state[at] ^= pad
            state[Self.rate - 1] ^= 0x80
        }
        Self.permute(&lanes)
        partial = 0
        return withUnsafeBytes(of: &lanes) { Bytes32(copying: UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
    }

    private mutating func xorBytes(_ p: UnsafeRawPointer, count: Int, at offset: Int) {
        withUnsafeMutableBytes(of: &lanes) { state in
            for i in 0..<count { state[offset &+ i] ^= p.load(fromByteOffset: i, as: UInt8.self) }
        }
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 &- n)) }

    static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]

    /// Keccak-f[1600]: 24 rounds of theta, rho, pi, chi, iota, fully unrolled over the lanes.
    /// Lane `aXY` is column X, row Y (index X + 5Y).
    static func permute(_ s: inout KeccakLanes) {
        roundConstants.withUnsafeBufferPointer { rc in
            permute(&s, rc)
        }
    }

    @inline(__always)
    private static func permute(_ s: inout KeccakLanes, _ rc: UnsafeBufferPointer<UInt64>) {
        // Lane complementing (the Keccak team's implementation notes): six lanes are held
        // complemented through the rounds, so chi needs one NOT per row instead of five; theta,
        // rho and pi carry the complements through unchanged.
        var a00 = s.0, a10 = ~s.1, a20 = ~s.2, a30 = s.3, a40 = s.4, a01 = s.5, a11 = s.6, a21 = s.7, a31 = ~s.8, a41 = s.9, a02 = s.10, a12 = s.11, a22 = ~s.12, a32 = s.13, a42 = s.14, a03 = s.15, a13 = s.16, a23 = ~s.17, a33 = s.18, a43 = s.19, a04 = ~s.20, a14 = s.21, a24 = s.22, a34 = s.23, a44 = s.24
        for round in 0..<24 {
            let c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04
            let c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14
            let c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24
            let c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34
            let c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44
            let d0 = c4 ^ rotl(c1, 1)
            let d1 = c0 ^ rotl(c2, 1)
            let d2 = c1 ^ rotl(c3, 1)
            let d3 = c2 ^ rotl(c4, 1)
            let d4 = c3 ^ rotl(c0, 1)
            let b00 = a00 ^ d0
            let b13 = rotl(a01 ^ d0, 36)
            let b21 = rotl(a02 ^ d0, 3)
            let b34 = rotl(a03 ^ d0, 41)
            let b42 = rotl(a04 ^ d0, 18)
            let b02 = rotl(a10 ^ d1, 1)
            let b10 = rotl(a11 ^ d1, 44)
            let b23 = rotl(a12 ^ d1, 10)
            let b31 = rotl(a13 ^ d1, 45)
            let b44 = rotl(a14 ^ d1, 2)
            let b04 = rotl(a20 ^ d2, 62)
            let b12 = rotl(a21 ^ d2, 6)
            let b20 = rotl(a22 ^ d2, 43)
            let b33 = rotl(a23 ^ d2, 15)
            let b41 = rotl(a24 ^ d2, 61)
            let b01 = rotl(a30 ^ d3, 28)
            let b14 = rotl(a31 ^ d3, 55)
            let b22 = rotl(a32 ^ d3, 25)
            let b30 = rotl(a33 ^ d3, 21)
            let b43 = rotl(a34 ^ d3, 56)
            let b03 = rotl(a40 ^ d4, 27)
            let b11 = rotl(a41 ^ d4, 20)
            let b24 = rotl(a42 ^ d4, 39)
            let b32 = rotl(a43 ^ d4, 8)
            let b40 = rotl(a44 ^ d4, 14)
            // Chi on the complemented lanes: one NOT per row instead of five.
            a00 = b00 ^ (b10 | b20)
            a10 = b10 ^ (~b20 | b30)
            a20 = b20 ^ (b30 & b40)
            a30 = b30 ^ (b40 | b00)
            a40 = b40 ^ (b00 & b10)
            a01 = b01 ^ (b11 | b21)
            a11 = b11 ^ (b21 & b31)
            a21 = b21 ^ (b31 | ~b41)
            a31 = b31 ^ (b41 | b01)
            a41 = b41 ^ (b01 & b11)
            a02 = b02 ^ (b12 | b22)
            a12 = b12 ^ (b22 & b32)
            a22 = b22 ^ (~b32 & b42)
            a32 = ~b32 ^ (b42 | b02)
            a42 = b42 ^ (b02 & b12)
            a03 = b03 ^ (b13 & b23)
            a13 = b13 ^ (b23 | b33)
            a23 = b23 ^ (~b33 | b43)
            a33 = ~b33 ^ (b43 & b03)
            a43 = b43 ^ (b03 | b13)
            a04 = b04 ^ (~b14 & b24)
            a14 = ~b14 ^ (b24 | b34)
            a24 = b24 ^ (b34 & b44)
            a34 = b34 ^ (b44 | b04)
            a44 = b44 ^ (b04 & b14)
            a00 ^= rc[round]
        }
        s = (a00, ~a10, ~a20, a30, a40, a01, a11, a21, ~a31, a41, a02, a12, ~a22, a32, a42, a03, a13, ~a23, a33, a43, ~a04, a14, a24, a34, a44)
    }
}
