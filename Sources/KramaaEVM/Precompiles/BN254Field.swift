import KramaaPrimitives

// The base field of the BN254 (alt_bn128) curve of EIP-196/197:
//   p = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
// Elements are kept in Montgomery form (a·R mod p, R = 2²⁵⁶) on four 64-bit limbs, so a
// product costs one interleaved multiply-and-reduce and no division.

/// What the curve code needs from a field: Fp for G1, Fp2 for the G2 twist.
protocol CurveField: Equatable, Sendable {
    static var zero: Self { get }
    static var one: Self { get }
    /// The constant `b` of the curve `y² = x³ + b` over this field.
    static var curveB: Self { get }
    var isZero: Bool { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    func squared() -> Self
    func doubled() -> Self
    /// The multiplicative inverse; zero for zero.
    func inverse() -> Self
}

/// An element of the BN254 base field, in Montgomery form.
struct Fp: CurveField, CustomStringConvertible {
    // Limbs of a·R mod p, least significant first.
    var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64

    @inline(__always)
    init(limbs l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }

    // p, least significant limb first.
    static let p0: UInt64 = 0x3c20_8c16_d87c_fd47
    static let p1: UInt64 = 0x9781_6a91_6871_ca8d
    static let p2: UInt64 = 0xb850_45b6_8181_585d
    static let p3: UInt64 = 0x3064_4e72_e131_a029
    /// −p⁻¹ mod 2⁶⁴, for Montgomery reduction.
    static let pInv: UInt64 = 0x87d2_0782_e486_6389
    /// R² mod p, to move a canonical value into Montgomery form.
    static let r2 = Fp(limbs: 0xf32c_fc5b_538a_fa89, 0xb5e7_1911_d445_01fb, 0x47ab_1eff_0a41_7ff6, 0x06d8_9f71_cab8_351f)

    static let zero = Fp(limbs: 0, 0, 0, 0)
    /// R mod p: one in Montgomery form.
    static let one = Fp(limbs: 0xd35d_438d_c58f_0d9d, 0x0a78_eb28_f5c7_0b3d, 0x666e_a36f_7879_462c, 0x0e0a_77c1_9a07_df2f)
    static let curveB = Fp(3)

    /// p as a plain integer.
    static let modulus = UInt256(limbs: (p0, p1, p2, p3))

    /// A small integer.
    init(_ value: UInt64) {
        self = Fp(limbs: value, 0, 0, 0) * Fp.r2
    }

    /// A canonical integer below p; nil when it is p or more (the precompiles reject those).
    init?(canonical value: UInt256) {
        guard value < Fp.modulus else { return nil }
        let l = value.limbs
        self = Fp(limbs: l.0, l.1, l.2, l.3) * Fp.r2
    }

    /// A 32-byte big-endian integer below p; nil otherwise.
    init?(bigEndian bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 32)
        let value = bytes.withUnsafeBytes { UInt256(bigEndian: $0) }
        self.init(canonical: value)
    }

    /// The canonical integer (out of Montgomery form).
    var canonical: UInt256 {
        let c = self * Fp(limbs: 1, 0, 0, 0)
        return UInt256(limbs: (c.l0, c.l1, c.l2, c.l3))
    }

    /// The 32-byte big-endian encoding of the canonical value.
    var bigEndianBytes: [UInt8] { canonical.bigEndianBytes }

    var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }

    var description: String { canonical.description }

    @inline(__always)
    static func == (a: Fp, b: Fp) -> Bool {
        ((a.l0 ^ b.l0) | (a.l1 ^ b.l1) | (a.l2 ^ b.l2) | (a.l3 ^ b.l3)) == 0
    }

    /// `self - p` if that does not borrow, else `self`; brings a value in `0 ..< 2p` below p.
    /// Branch-free: the borrow becomes a mask that selects one of the two.
    @inline(__always)
    func reducedOnce() -> Fp {
        let (d0, b0) = subtractingWithBorrow(l0, Fp.p0, 0)
        let (d1, b1) = subtractingWithBorrow(l1, Fp.p1, b0)
        let (d2, b2) = subtractingWithBorrow(l2, Fp.p2, b1)
        let (d3, b3) = subtractingWithBorrow(l3, Fp.p3, b2)
        let keep = 0 &- b3  // all ones when self < p
        return Fp(limbs: (l0 & keep) | (d0 & ~keep), (l1 & keep) | (d1 & ~keep),
                  (l2 & keep) | (d2 & ~keep), (l3 & keep) | (d3 & ~keep))
    }

    @inline(__always)
    static func + (a: Fp, b: Fp) -> Fp {
        // p < 2²⁵⁴, so the sum of two reduced values cannot carry out of 256 bits.
        let (s0, c0) = addingWithCarry(a.l0, b.l0, 0)
        let (s1, c1) = addingWithCarry(a.l1, b.l1, c0)
        let (s2, c2) = addingWithCarry(a.l2, b.l2, c1)
        let s3 = a.l3 &+ b.l3 &+ c2
        return Fp(limbs: s0, s1, s2, s3).reducedOnce()
    }

    @inline(__always)
    static func - (a: Fp, b: Fp) -> Fp {
        let (d0, b0) = subtractingWithBorrow(a.l0, b.l0, 0)
        let (d1, b1) = subtractingWithBorrow(a.l1, b.l1, b0)
        let (d2, b2) = subtractingWithBorrow(a.l2, b.l2, b1)
        let (d3, b3) = subtractingWithBorrow(a.l3, b.l3, b2)
        // On borrow, add p back (masked, so there is no branch).
        let mask = 0 &- b3
        let (s0, c0) = addingWithCarry(d0, p0 & mask, 0)
        let (s1, c1) = addingWithCarry(d1, p1 & mask, c0)
        let (s2, c2) = addingWithCarry(d2, p2 & mask, c1)
        let s3 = d3 &+ (p3 & mask) &+ c2
        return Fp(limbs: s0, s1, s2, s3)
    }

    @inline(__always)
    static prefix func - (a: Fp) -> Fp { Fp.zero - a }

    @inline(__always)
    func doubled() -> Fp { self + self }

    /// `self / 2`: halving the Montgomery representation halves the value. An odd value
    /// gets p added first (p is odd), which p < 2²⁵⁴ keeps within 256 bits.
    @inline(__always)
    func halved() -> Fp {
        let mask = 0 &- (l0 & 1)
        let (s0, c0) = addingWithCarry(l0, Fp.p0 & mask, 0)
        let (s1, c1) = addingWithCarry(l1, Fp.p1 & mask, c0)
        let (s2, c2) = addingWithCarry(l2, Fp.p2 & mask, c1)
        let s3 = l3 &+ (Fp.p3 & mask) &+ c2
        return Fp(limbs: s0 >> 1 | s1 << 63, s1 >> 1 | s2 << 63, s2 >> 1 | s3 << 63, s3 >> 1)
    }

    /// Montgomery product `a·b·R⁻¹ mod p`, by coarsely integrated operand scanning. The top
    /// limb of p is below 2⁶² so the running value never needs a fifth limb.
    @inline(__always)
    static func * (a: Fp, b: Fp) -> Fp {
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        multiplyRound(a, b.l0, &t0, &t1, &t2, &t3)
        multiplyRound(a, b.l1, &t0, &t1, &t2, &t3)
        multiplyRound(a, b.l2, &t0, &t1, &t2, &t3)
        multiplyRound(a, b.l3, &t0, &t1, &t2, &t3)
        return Fp(limbs: t0, t1, t2, t3).reducedOnce()
    }

    /// One outer step: `t = (t + a·bi + m·p) / 2⁶⁴` with `m` chosen to clear the low limb.
    @inline(__always)
    private static func multiplyRound(_ a: Fp, _ bi: UInt64,
                                      _ t0: inout UInt64, _ t1: inout UInt64, _ t2: inout UInt64, _ t3: inout UInt64) {
        var hiA: UInt64, hiC: UInt64
        (hiA, t0) = multiplyAdd(a.l0, bi, t0, 0)
        let m = t0 &* pInv
        (hiC, _) = multiplyAdd(m, p0, t0, 0)
        (hiA, t1) = multiplyAdd(a.l1, bi, t1, hiA)
        (hiC, t0) = multiplyAdd(m, p1, t1, hiC)
        (hiA, t2) = multiplyAdd(a.l2, bi, t2, hiA)
        (hiC, t1) = multiplyAdd(m, p2, t2, hiC)
        (hiA, t3) = multiplyAdd(a.l3, bi, t3, hiA)
        (hiC, t2) = multiplyAdd(m, p3, t3, hiC)
        t3 = hiC &+ hiA
    }

    @inline(__always)
    func squared() -> Fp { self * self }

    /// `self^e` for a plain exponent, most significant bit first.
    func power(_ e: UInt256) -> Fp {
        var result = Fp.one
        var started = false
        for i in stride(from: 255, through: 0, by: -1) {
            if started { result = result.squared() }
            if (e[limb: i / 64] >> UInt64(i % 64)) & 1 == 1 {
                result = result * self
                started = true
            }
        }
        return result
    }

    /// `self^(p-2)` by Fermat; zero stays zero.
    func inverse() -> Fp { power(Fp.modulus &- UInt256(2)) }

    /// A square root when one exists (p ≡ 3 mod 4, so it is `self^((p+1)/4)`).
    func squareRoot() -> Fp? {
        let root = power((Fp.modulus &+ UInt256(1)) >> 2)
        return root.squared() == self ? root : nil
    }
}
