/// SHA-512 (FIPS 180-4), for Ed25519 (RFC 8032 hashes the seed and the nonce input with it).
public struct SHA512: ByteSink {
    private var h: InlineArray<8, UInt64> = [
        0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
    ]
    private var block: InlineArray<128, UInt8> = .init(repeating: 0)
    private var used = 0
    private var length: UInt64 = 0

    public init() {}

    public mutating func update(_ byte: UInt8) {
        block[used] = byte
        used += 1
        length &+= 1
        if used == 128 { compress(); used = 0 }
    }

    /// The digest; the hasher is spent. (Messages are below 2^61 bytes: the length's high word is 0.)
    public mutating func finalize() -> Bytes64 {
        let bits = length &* 8
        update(0x80)
        while used != 112 { update(0) }
        for _ in 0..<8 { update(0) }
        for i in 0..<8 { update(UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * i))) }
        var out = Bytes64(repeating: 0)
        for i in 0..<8 {
            for j in 0..<8 { out[8 * i + j] = UInt8(truncatingIfNeeded: h[i] >> UInt64(56 - 8 * j)) }
        }
        return out
    }

    private static let k: InlineArray<80, UInt64> = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    @inline(__always) private static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { x >> n | x << (64 - n) }

    private mutating func compress() {
        var w = InlineArray<16, UInt64>(repeating: 0)
        for i in 0..<16 {
            var v: UInt64 = 0
            for j in 0..<8 { v = v << 8 | UInt64(block[8 * i + j]) }
            w[i] = v
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for i in 0..<80 {
            if i >= 16 {
                let w15 = w[(i + 1) & 15], w2 = w[(i + 14) & 15]
                let s0 = Self.rotr(w15, 1) ^ Self.rotr(w15, 8) ^ (w15 >> 7)
                let s1 = Self.rotr(w2, 19) ^ Self.rotr(w2, 61) ^ (w2 >> 6)
                w[i & 15] = w[i & 15] &+ s0 &+ w[(i + 9) & 15] &+ s1
            }
            let t1 = hh &+ (Self.rotr(e, 14) ^ Self.rotr(e, 18) ^ Self.rotr(e, 41)) &+ ((e & f) ^ (~e & g)) &+ Self.k[i] &+ w[i & 15]
            let t2 = (Self.rotr(a, 28) ^ Self.rotr(a, 34) ^ Self.rotr(a, 39)) &+ ((a & b) ^ (a & c) ^ (b & c))
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
    }
}

/// Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA3-256's 0x06).
public struct Keccak256: ByteSink {
    private var state: InlineArray<25, UInt64> = .init(repeating: 0)
    private var used = 0
    private static let rate = 136

    public init() {}

    public mutating func update(_ byte: UInt8) {
        let lane = used >> 3, shift = UInt64((used & 7) * 8)
        state[lane] ^= UInt64(byte) << shift
        used += 1
        if used == Self.rate { permute(); used = 0 }
    }

    /// The digest; the hasher is spent.
    public mutating func finalize() -> Bytes32 {
        state[used >> 3] ^= 0x01 << UInt64((used & 7) * 8)
        state[(Self.rate - 1) >> 3] ^= 0x80 << 56
        permute()
        var out = Bytes32(repeating: 0)
        for i in 0..<32 { out[i] = UInt8(truncatingIfNeeded: state[i >> 3] >> UInt64((i & 7) * 8)) }
        return out
    }

    /// Keccak-256 of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Bytes32 {
        var k = Keccak256()
        k.update(bytes)
        return k.finalize()
    }

    private static let roundConstants: InlineArray<24, UInt64> = [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000, 0x000000000000808b,
        0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008a, 0x0000000000000088,
        0x0000000080008009, 0x000000008000000a, 0x000000008000808b, 0x800000000000008b, 0x8000000000008089,
        0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ]
    /// ρ offsets and π destinations in the order the lanes are visited from lane 1.
    private static let rho: InlineArray<24, UInt8> = [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44]
    private static let pi: InlineArray<24, UInt8> = [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1]

    @inline(__always) private static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { x << n | x >> (64 - n) }

    private mutating func permute() {
        var c = InlineArray<5, UInt64>(repeating: 0)
        for round in 0..<24 {
            for x in 0..<5 { c[x] = state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20] }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ Self.rotl(c[(x + 1) % 5], 1)
                for y in 0..<5 { state[x + 5 * y] ^= d }
            }
            var current = state[1]
            for i in 0..<24 {
                let j = Int(Self.pi[i])
                let next = state[j]
                state[j] = Self.rotl(current, UInt64(Self.rho[i]))
                current = next
            }
            for y in 0..<5 {
                for x in 0..<5 { c[x] = state[x + 5 * y] }
                for x in 0..<5 { state[x + 5 * y] = c[x] ^ (~c[(x + 1) % 5] & c[(x + 2) % 5]) }
            }
            state[0] ^= Self.roundConstants[round]
        }
    }
}
