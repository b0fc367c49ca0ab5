// The hashes a device needs, with no allocation: SHA-256 (FIPS 180-4; P-256 messaging
// signatures, RFC 6979's HMAC), SHA-512 (Ed25519) and Keccak-256 (Ethereum's, not SHA3-256:
// transaction hashes, addresses, reading digests). Each is a value type fed bytes through
// `update` and finished once with `finalize`.

/// 32 bytes (a digest, a scalar, a key): a fixed-size value that lives on the stack.
public typealias Bytes32 = InlineArray<32, UInt8>
/// 64 bytes (a signature `r ‖ s` / `R ‖ S`, a SHA-512 digest).
public typealias Bytes64 = InlineArray<64, UInt8>

/// Something that takes bytes: the hashes and the frame writers, so one encoder feeds either.
public protocol ByteSink {
    mutating func update(_ byte: UInt8)
}

extension ByteSink {
    /// Feeds `count` bytes starting at `bytes`.
    @inline(__always)
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { update(b) }
    }

    /// Feeds a fixed-size value's bytes in memory order (for byte arrays: the bytes as written).
    @inline(__always)
    public mutating func update<T>(contentsOf value: T) {
        withUnsafeBytes(of: value) { update($0) }
    }

    /// Feeds the integer's `count` low bytes, most significant first.
    public mutating func update(bigEndian value: UInt64, count: Int = 8) {
        var i = count
        while i > 0 {
            i -= 1
            update(UInt8(truncatingIfNeeded: value >> UInt64(8 * i)))
        }
    }

    /// Feeds a static string's UTF-8 bytes (labels, domain prefixes).
    public mutating func update(ascii text: StaticString) {
        text.withUTF8Buffer { update(UnsafeRawBufferPointer($0)) }
    }
}

/// SHA-256 (FIPS 180-4).
public struct SHA256: ByteSink {
    private var h: InlineArray<8, UInt32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var block: InlineArray<64, UInt8> = .init(repeating: 0)
    private var used = 0
    private var length: UInt64 = 0

    public init() {}

    public mutating func update(_ byte: UInt8) {
        block[used] = byte
        used += 1
        length &+= 1
        if used == 64 { compress(); used = 0 }
    }

    /// The digest; the hasher is spent.
    public mutating func finalize() -> Bytes32 {
        let bits = length &* 8
        update(0x80)
        while used != 56 { update(0) }
        for i in 0..<8 { update(UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * i))) }
        var out = Bytes32(repeating: 0)
        for i in 0..<8 {
            for j in 0..<4 { out[4 * i + j] = UInt8(truncatingIfNeeded: h[i] >> UInt32(24 - 8 * j)) }
        }
        return out
    }

    /// SHA-256 of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Bytes32 {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }

    private static let k: InlineArray<64, UInt32> = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

    private mutating func compress() {
        var w = InlineArray<16, UInt32>(repeating: 0)
        for i in 0..<16 {
            w[i] = UInt32(block[4 * i]) << 24 | UInt32(block[4 * i + 1]) << 16 | UInt32(block[4 * i + 2]) << 8 | UInt32(block[4 * i + 3])
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for i in 0..<64 {
            if i >= 16 {
                let w15 = w[(i + 1) & 15], w2 = w[(i + 14) & 15]
                let s0 = Self.rotr(w15, 7) ^ Self.rotr(w15, 18) ^ (w15 >> 3)
                let s1 = Self.rotr(w2, 17) ^ Self.rotr(w2, 19) ^ (w2 >> 10)
                w[i & 15] = w[i & 15] &+ s0 &+ w[(i + 9) & 15] &+ s1
            }
            let t1 = hh &+ (Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ Self.k[i] &+ w[i & 15]
            let t2 = (Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
    }
}

/// HMAC-SHA-256 (RFC 2104): RFC 6979's deterministic nonces (32-byte keys) and HKDF (any key).
public struct HMACSHA256: ByteSink {
    private var inner = SHA256()
    /// The key, zero-padded to SHA-256's 64-byte block.
    private var block = Bytes64(repeating: 0)

    public init(key: Bytes32) {
        for i in 0..<32 { block[i] = key[i] }
        start()
    }

    /// A key of any length; one longer than the block is replaced by its SHA-256.
    public init(key: UnsafeRawBufferPointer) {
        if key.count > 64 {
            let digest = SHA256.hash(key)
            for i in 0..<32 { block[i] = digest[i] }
        } else {
            for i in 0..<key.count { block[i] = key[i] }
        }
        start()
    }

    private mutating func start() {
        for i in 0..<64 { inner.update(block[i] ^ 0x36) }
    }

    public mutating func update(_ byte: UInt8) { inner.update(byte) }

    public mutating func finalize() -> Bytes32 {
        let innerDigest = inner.finalize()
        var outer = SHA256()
        for i in 0..<64 { outer.update(block[i] ^ 0x5c) }
        for i in 0..<64 { block[i] = 0 }
        outer.update(contentsOf: innerDigest)
        return outer.finalize()
    }
}
