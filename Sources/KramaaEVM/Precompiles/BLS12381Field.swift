import KramaaPrimitives

// The base field of BLS12-381, the curve of EIP-4844's KZG commitments:
//   p = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab
// (381 bits). Elements are kept in Montgomery form (a·R mod p, R = 2³⁸⁴) on six 64-bit limbs,
// as BN254's ``Fp`` is on four: a product is one interleaved multiply-and-reduce, no division
// and no allocation.

/// An element of the BLS12-381 base field, in Montgomery form.
struct BLSFp: CurveField, CustomStringConvertible {
    // Limbs of a·R mod p, least significant first.
    var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64, l5: UInt64

    @inline(__always)
    init(limbs l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ l4: UInt64, _ l5: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
        self.l4 = l4
        self.l5 = l5
    }

    // p, least significant limb first.
    static let p0: UInt64 = 0xb9fe_ffff_ffff_aaab
    static let p1: UInt64 = 0x1eab_fffe_b153_ffff
    static let p2: UInt64 = 0x6730_d2a0_f6b0_f624
    static let p3: UInt64 = 0x6477_4b84_f385_12bf
    static let p4: UInt64 = 0x4b1b_a7b6_434b_acd7
    static let p5: UInt64 = 0x1a01_11ea_397f_e69a
    /// −p⁻¹ mod 2⁶⁴, for Montgomery reduction.
    static let pInv: UInt64 = 0x89f3_fffc_fffc_fffd
    /// R² mod p, to move a canonical value into Montgomery form.
    static let r2 = BLSFp(limbs: 0xf4df_1f34_1c34_1746, 0x0a76_e6a6_09d1_04f1, 0x8de5_476c_4c95_b6d5,
                          0x67eb_88a9_939d_83c0, 0x9a79_3e85_b519_952d, 0x1198_8fe5_92ca_e3aa)

    static let zero = BLSFp(limbs: 0, 0, 0, 0, 0, 0)
    /// R mod p: one in Montgomery form.
    static let one = BLSFp(limbs: 0x7609_0000_0002_fffd, 0xebf4_000b_c40c_0002, 0x5f48_9857_53c7_58ba,
                           0x77ce_5853_7052_5745, 0x5c07_1a97_a256_ec6d, 0x15f6_5ec3_fa80_e493)
    /// b = 4 of G1's curve `y² = x³ + 4`.
    static let curveB = BLSFp(4)

    // Exponents, least significant limb first (derived from p).
    /// p − 2, for inversion by Fermat.
    static let pMinus2: [UInt64] = [0xb9fe_ffff_ffff_aaa9, p1, p2, p3, p4, p5]
    /// (p + 1)/4: p ≡ 3 (mod 4), so `a^((p+1)/4)` is a square root of a square a.
    static let pPlus1Over4: [UInt64] = [0xee7f_bfff_ffff_eaab, 0x07aa_ffff_ac54_ffff, 0xd9cc_34a8_3dac_3d89,
                                        0xd91d_d2e1_3ce1_44af, 0x92c6_e9ed_90d2_eb35, 0x0680_447a_8e5f_f9a6]
    /// (p − 1)/2: the largest value of the lower half (the compressed encodings' sign).
    static let pMinus1Over2: [UInt64] = [0xdcff_7fff_ffff_d555, 0x0f55_ffff_58a9_ffff, 0xb398_6950_7b58_7b12,
                                         0xb23b_a5c2_79c2_895f, 0x258d_d3db_21a5_d66b, 0x0d00_88f5_1cbf_f34d]
    /// (p − 3)/4, for square roots in Fp2.
    static let pMinus3Over4: [UInt64] = [0xee7f_bfff_ffff_eaaa, 0x07aa_ffff_ac54_ffff, 0xd9cc_34a8_3dac_3d89,
                                         0xd91d_d2e1_3ce1_44af, 0x92c6_e9ed_90d2_eb35, 0x0680_447a_8e5f_f9a6]

    /// A small integer.
    init(_ value: UInt64) {
        self = BLSFp(limbs: value, 0, 0, 0, 0, 0) * BLSFp.r2
    }

    /// A canonical integer given as six limbs (least significant first); nil when it is p or more.
    init?(canonicalLimbs l: [UInt64]) {
        precondition(l.count == 6)
        guard BLSFp.lessThanModulus(l) else { return nil }
        self = BLSFp(limbs: l[0], l[1], l[2], l[3], l[4], l[5]) * BLSFp.r2
    }

    /// A 48-byte big-endian integer below p; nil when it is p or more.
    init?(bigEndian bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 48)
        self.init(canonicalLimbs: BLSFp.limbs(bigEndian: bytes))
    }

    /// Six little-endian limbs of a 48-byte big-endian integer.
    static func limbs(bigEndian bytes: ArraySlice<UInt8>) -> [UInt64] {
        var limbs = [UInt64](repeating: 0, count: 6)
        var i = bytes.startIndex
        for k in stride(from: 5, through: 0, by: -1) {
            var limb: UInt64 = 0
            for _ in 0..<8 {
                limb = limb << 8 | UInt64(bytes[i])
                i += 1
            }
            limbs[k] = limb
        }
        return limbs
    }

    /// Whether six little-endian limbs are an integer below p.
    static func lessThanModulus(_ l: [UInt64]) -> Bool {
        var borrow: UInt64 = 0
        for (limb, pLimb) in zip(l, [p0, p1, p2, p3, p4, p5]) {
            (_, borrow) = subtractingWithBorrow(limb, pLimb, borrow)
        }
        return borrow == 1
    }

    /// The canonical integer (out of Montgomery form), least significant limb first.
    var canonicalLimbs: [UInt64] {
        let c = self * BLSFp(limbs: 1, 0, 0, 0, 0, 0)
        return [c.l0, c.l1, c.l2, c.l3, c.l4, c.l5]
    }

    /// The 48-byte big-endian encoding of the canonical value.
    var bigEndianBytes: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(48)
        for limb in canonicalLimbs.reversed() {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        return bytes
    }

    /// True when the canonical value is above (p − 1)/2: the "larger" of y and −y, which a
    /// compressed point's sign bit selects.
    var isLexicographicallyLargest: Bool {
        // (p − 1)/2 − value borrows exactly when value > (p − 1)/2.
        var borrow: UInt64 = 0
        for (half, limb) in zip(BLSFp.pMinus1Over2, canonicalLimbs) {
            (_, borrow) = subtractingWithBorrow(half, limb, borrow)
        }
        return borrow == 1
    }

    var isZero: Bool { (l0 | l1 | l2 | l3 | l4 | l5) == 0 }

    var description: String { "0x" + bigEndianBytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    @inline(__always)
    static func == (a: BLSFp, b: BLSFp) -> Bool {
        ((a.l0 ^ b.l0) | (a.l1 ^ b.l1) | (a.l2 ^ b.l2) | (a.l3 ^ b.l3) | (a.l4 ^ b.l4) | (a.l5 ^ b.l5)) == 0
    }

    /// `self − p` if that does not borrow, else `self`; brings a value in `0 ..< 2p` below p,
    /// branch-free (the borrow becomes a mask that selects one of the two).
    @inline(__always)
    func reducedOnce() -> BLSFp {
        let (d0, b0) = subtractingWithBorrow(l0, BLSFp.p0, 0)
        let (d1, b1) = subtractingWithBorrow(l1, BLSFp.p1, b0)
        let (d2, b2) = subtractingWithBorrow(l2, BLSFp.p2, b1)
        let (d3, b3) = subtractingWithBorrow(l3, BLSFp.p3, b2)
        let (d4, b4) = subtractingWithBorrow(l4, BLSFp.p4, b3)
        let (d5, b5) = subtractingWithBorrow(l5, BLSFp.p5, b4)
        let keep = 0 &- b5  // all ones when self < p
        return BLSFp(limbs: (l0 & keep) | (d0 & ~keep), (l1 & keep) | (d1 & ~keep), (l2 & keep) | (d2 & ~keep),
                     (l3 & keep) | (d3 & ~keep), (l4 & keep) | (d4 & ~keep), (l5 & keep) | (d5 & ~keep))
    }

    @inline(__always)
    static func + (a: BLSFp, b: BLSFp) -> BLSFp {
        // p < 2³⁸¹, so the sum of two reduced values cannot carry out of 384 bits.
        let (s0, c0) = addingWithCarry(a.l0, b.l0, 0)
        let (s1, c1) = addingWithCarry(a.l1, b.l1, c0)
        let (s2, c2) = addingWithCarry(a.l2, b.l2, c1)
        let (s3, c3) = addingWithCarry(a.l3, b.l3, c2)
        let (s4, c4) = addingWithCarry(a.l4, b.l4, c3)
        let s5 = a.l5 &+ b.l5 &+ c4
        return BLSFp(limbs: s0, s1, s2, s3, s4, s5).reducedOnce()
    }

    @inline(__always)
    static func - (a: BLSFp, b: BLSFp) -> BLSFp {
        let (d0, b0) = subtractingWithBorrow(a.l0, b.l0, 0)
        let (d1, b1) = subtractingWithBorrow(a.l1, b.l1, b0)
        let (d2, b2) = subtractingWithBorrow(a.l2, b.l2, b1)
        let (d3, b3) = subtractingWithBorrow(a.l3, b.l3, b2)
        let (d4, b4) = subtractingWithBorrow(a.l4, b.l4, b3)
        let (d5, b5) = subtractingWithBorrow(a.l5, b.l5, b4)
        // On borrow, add p back (masked, so there is no branch).
        let mask = 0 &- b5
        let (s0, c0) = addingWithCarry(d0, p0 & mask, 0)
        let (s1, c1) = addingWithCarry(d1, p1 & mask, c0)
        let (s2, c2) = addingWithCarry(d2, p2 & mask, c1)
        let (s3, c3) = addingWithCarry(d3, p3 & mask, c2)
        let (s4, c4) = addingWithCarry(d4, p4 & mask, c3)
        let s5 = d5 &+ (p5 & mask) &+ c4
        return BLSFp(limbs: s0, s1, s2, s3, s4, s5)
    }

    @inline(__always)
    static prefix func - (a: BLSFp) -> BLSFp { BLSFp.zero - a }

    @inline(__always)
    func doubled() -> BLSFp { self + self }

    /// Montgomery product `a·b·R⁻¹ mod p`, by coarsely integrated operand scanning. The top
    /// limb of p is below 2⁶¹, so the running value never needs a seventh limb.
    @inline(__always)
    static func * (a: BLSFp, b: BLSFp) -> BLSFp {
        var t = BLSFp.zero
        multiplyRound(a, b.l0, &t)
        multiplyRound(a, b.l1, &t)
        multiplyRound(a, b.l2, &t)
        multiplyRound(a, b.l3, &t)
        multiplyRound(a, b.l4, &t)
        multiplyRound(a, b.l5, &t)
        return t.reducedOnce()
    }

    /// One outer step: `t = (t + a·bi + m·p) / 2⁶⁴` with `m` chosen to clear the low limb.
    @inline(__always)
    private static func multiplyRound(_ a: BLSFp, _ bi: UInt64, _ t: inout BLSFp) {
        var hiA: UInt64, hiC: UInt64
        (hiA, t.l0) = multiplyAdd(a.l0, bi, t.l0, 0)
        let m = t.l0 &* pInv
        (hiC, _) = multiplyAdd(m, p0, t.l0, 0)
        (hiA, t.l1) = multiplyAdd(a.l1, bi, t.l1, hiA)
        (hiC, t.l0) = multiplyAdd(m, p1, t.l1, hiC)
        (hiA, t.l2) = multiplyAdd(a.l2, bi, t.l2, hiA)
        (hiC, t.l1) = multiplyAdd(m, p2, t.l2, hiC)
        (hiA, t.l3) = multiplyAdd(a.l3, bi, t.l3, hiA)
        (hiC, t.l2) = multiplyAdd(m, p3, t.l3, hiC)
        (hiA, t.l4) = multiplyAdd(a.l4, bi, t.l4, hiA)
        (hiC, t.l3) = multiplyAdd(m, p4, t.l4, hiC)
        (hiA, t.l5) = multiplyAdd(a.l5, bi, t.l5, hiA)
        (hiC, t.l4) = multiplyAdd(m, p5, t.l5, hiC)
        t.l5 = hiC &+ hiA
    }

    @inline(__always)
    func squared() -> BLSFp { self * self }

    /// `self^(p−2)` by Fermat; zero stays zero.
    func inverse() -> BLSFp { power(limbs: BLSFp.pMinus2) }

    /// A square root when one exists.
    func squareRoot() -> BLSFp? {
        let root = power(limbs: BLSFp.pPlus1Over4)
        return root.squared() == self ? root : nil
    }
}
