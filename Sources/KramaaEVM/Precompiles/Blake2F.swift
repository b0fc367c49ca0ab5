extension Precompiles {
    /// 0x09 (EIP-152): the BLAKE2b compression function F with a caller-chosen number of
    /// rounds. Input is exactly 213 bytes: `rounds` (4, big-endian) ‖ `h` (64) ‖ `m` (128) ‖
    /// `t` (16) ‖ `f` (1, which must be 0 or 1); the words of h, m and t are little-endian.
    /// Output is the new `h`, 64 bytes. Price: one gas a round. A wrong length or final
    /// flag is a failure.
    @Sendable
    public static func blake2f(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        guard input.count == 213 else { return nil }
        let rounds = UInt32(input[0]) << 24 | UInt32(input[1]) << 16 | UInt32(input[2]) << 8 | UInt32(input[3])
        guard gas >= Int64(rounds) else { return nil }
        let final = input[212]
        guard final <= 1 else { return nil }
        var h = (0..<8).map { littleEndianWord(input, at: 4 + 8 * $0) }
        let m = (0..<16).map { littleEndianWord(input, at: 68 + 8 * $0) }
        let t = (littleEndianWord(input, at: 196), littleEndianWord(input, at: 204))
        Blake2b.compress(&h, m, t, final: final == 1, rounds: rounds)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in h {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
        }
        return (Int64(rounds), out)
    }

    @inline(__always)
    static func littleEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for i in (0..<8).reversed() { word = word << 8 | UInt64(bytes[offset + i]) }
        return word
    }
}

/// The BLAKE2b compression function (RFC 7693, section 3.2) with a variable round count.
enum Blake2b {
    static let iv: [UInt64] = [
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]

    /// The message word permutations; round i uses row i mod 10.
    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    /// `h ← F(h, m, t, final)` with `rounds` rounds (12 in BLAKE2b itself).
    static func compress(_ h: inout [UInt64], _ m: [UInt64], _ t: (UInt64, UInt64), final: Bool, rounds: UInt32) {
        var v = h + iv
        v[12] ^= t.0
        v[13] ^= t.1
        if final { v[14] = ~v[14] }
        v.withUnsafeMutableBufferPointer { v in
            m.withUnsafeBufferPointer { m in
                var round: UInt32 = 0
                var row = 0
                while round < rounds {
                    let s = sigma[row]
                    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]])
                    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]])
                    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]])
                    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]])
                    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]])
                    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]])
                    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]])
                    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]])
                    round += 1
                    row = row == 9 ? 0 : row + 1
                }
            }
        }
        for i in 0..<8 { h[i] ^= v[i] ^ v[i + 8] }
    }

    /// The mixing function G.
    @inline(__always)
    static func mix(_ v: UnsafeMutableBufferPointer<UInt64>, _ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
        v[a] = v[a] &+ v[b] &+ x
        v[d] = rotr(v[d] ^ v[a], 32)
        v[c] = v[c] &+ v[d]
        v[b] = rotr(v[b] ^ v[c], 24)
        v[a] = v[a] &+ v[b] &+ y
        v[d] = rotr(v[d] ^ v[a], 16)
        v[c] = v[c] &+ v[d]
        v[b] = rotr(v[b] ^ v[c], 63)
    }

    @inline(__always)
    static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { x >> n | x << (64 - n) }
}
