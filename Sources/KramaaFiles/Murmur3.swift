/// MurmurHash3 x64 128-bit (seed 0), of which HAMT directories use the first 64 bits
/// (multihash `murmur3-x64-64`, 0x22) to place names: the big-endian bytes, read from the most
/// significant bit, give each level's bucket.
public enum Murmur3 {
    public static func x64_64(_ bytes: [UInt8]) -> UInt64 { x64_128(bytes).0 }

    public static func x64_128(_ bytes: [UInt8], seed: UInt64 = 0) -> (UInt64, UInt64) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5, c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1 = seed, h2 = seed
        let blocks = bytes.count / 16
        func load(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
            return v
        }
        for i in 0..<blocks {
            var k1 = load(i * 16), k2 = load(i * 16 + 8)
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
            h1 = rotl(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
            h2 = rotl(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        let rest = bytes.count & 15
        var k1: UInt64 = 0, k2: UInt64 = 0
        if rest > 8 {
            for i in (8..<rest).reversed() { k2 = k2 << 8 | UInt64(bytes[tail + i]) }
            k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
        }
        if rest > 0 {
            for i in (0..<min(rest, 8)).reversed() { k1 = k1 << 8 | UInt64(bytes[tail + i]) }
            k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
        }
        h1 ^= UInt64(bytes.count); h2 ^= UInt64(bytes.count)
        h1 &+= h2; h2 &+= h1
        h1 = fmix(h1); h2 = fmix(h2)
        h1 &+= h2; h2 &+= h1
        return (h1, h2)
    }

    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    static func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33; k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33; k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
