import KramaaPrimitives

// The extension tower of BLS12-381's pairing, of the same shape as BN254's (BN254Tower.swift)
// with another base field and non-residue:
//   Fp2  = Fp[u]  / (u² + 1)
//   Fp6  = Fp2[v] / (v³ − ξ),  ξ = 1 + u
//   Fp12 = Fp6[w] / (w² − v),  so w⁶ = ξ
// G2 points are on the (M-type) sextic twist y² = x³ + 4ξ over Fp2, mapped into E(Fp12) by
// (x, y) ↦ (x/w², y/w³).

/// An element `c0 + c1·u` of BLS12-381's Fp2.
struct BLSFp2: CurveField, CustomStringConvertible {
    var c0: BLSFp
    var c1: BLSFp

    @inline(__always)
    init(_ c0: BLSFp, _ c1: BLSFp) {
        self.c0 = c0
        self.c1 = c1
    }

    static let zero = BLSFp2(.zero, .zero)
    static let one = BLSFp2(.one, .zero)
    /// b' = 4ξ = 4 + 4u, the constant of the twist curve.
    static let curveB = BLSFp2(BLSFp(4), BLSFp(4))

    var isZero: Bool { c0.isZero && c1.isZero }
    var description: String { "(\(c0) + \(c1)·u)" }

    @inline(__always)
    static func + (a: BLSFp2, b: BLSFp2) -> BLSFp2 { BLSFp2(a.c0 + b.c0, a.c1 + b.c1) }
    @inline(__always)
    static func - (a: BLSFp2, b: BLSFp2) -> BLSFp2 { BLSFp2(a.c0 - b.c0, a.c1 - b.c1) }
    @inline(__always)
    static prefix func - (a: BLSFp2) -> BLSFp2 { BLSFp2(-a.c0, -a.c1) }
    @inline(__always)
    func doubled() -> BLSFp2 { BLSFp2(c0.doubled(), c1.doubled()) }

    /// Karatsuba: three base-field products.
    @inline(__always)
    static func * (a: BLSFp2, b: BLSFp2) -> BLSFp2 {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        return BLSFp2(v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1)
    }

    /// Scales both coefficients by a base-field element.
    @inline(__always)
    func scaled(by k: BLSFp) -> BLSFp2 { BLSFp2(c0 * k, c1 * k) }

    /// `(c0 + c1)(c0 − c1) + 2·c0·c1·u`: two base-field products.
    @inline(__always)
    func squared() -> BLSFp2 {
        let m = c0 * c1
        return BLSFp2((c0 + c1) * (c0 - c1), m.doubled())
    }

    /// `self · ξ = (c0 − c1) + (c0 + c1)·u`, with additions only.
    @inline(__always)
    func mulByXi() -> BLSFp2 { BLSFp2(c0 - c1, c0 + c1) }

    /// The conjugate `c0 − c1·u`, which is also the p-power Frobenius.
    @inline(__always)
    var conjugate: BLSFp2 { BLSFp2(c0, -c1) }

    /// The multiplicative inverse `conj/(c0² + c1²)`; zero for zero.
    func inverse() -> BLSFp2 {
        let t = (c0.squared() + c1.squared()).inverse()
        return BLSFp2(c0 * t, -(c1 * t))
    }

    /// `self^e` for an exponent given as limbs, least significant first.
    func power(_ e: [UInt64]) -> BLSFp2 {
        var result = BLSFp2.one
        for limb in e.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                result = result.squared()
                if (limb >> UInt64(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }

    /// A square root when one exists, for p ≡ 3 (mod 4): Algorithm 9 of Adj and
    /// Rodríguez-Henríquez, "Square root computation over even extension fields" (2012).
    func squareRoot() -> BLSFp2? {
        let a1 = power(BLSFp.pMinus3Over4)
        let alpha = a1.squared() * self
        let x0 = a1 * self
        let root: BLSFp2
        if alpha == BLSFp2(-BLSFp.one, .zero) {
            root = BLSFp2(-x0.c1, x0.c0)  // u·x0
        } else {
            root = (alpha + .one).power(BLSFp.pMinus1Over2) * x0
        }
        return root.squared() == self ? root : nil
    }

    /// The compressed encodings' sign of an Fp2 value: c1 decides, or c0 when c1 is zero.
    var isLexicographicallyLargest: Bool {
        c1.isZero ? c0.isLexicographicallyLargest : c1.isLexicographicallyLargest
    }
}

/// An element `c0 + c1·v + c2·v²` of BLS12-381's Fp6.
struct BLSFp6: Equatable, Sendable {
    var c0: BLSFp2
    var c1: BLSFp2
    var c2: BLSFp2

    @inline(__always)
    init(_ c0: BLSFp2, _ c1: BLSFp2, _ c2: BLSFp2) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    static let zero = BLSFp6(.zero, .zero, .zero)
    static let one = BLSFp6(.one, .zero, .zero)

    var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    @inline(__always)
    static func + (a: BLSFp6, b: BLSFp6) -> BLSFp6 { BLSFp6(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2) }
    @inline(__always)
    static func - (a: BLSFp6, b: BLSFp6) -> BLSFp6 { BLSFp6(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2) }
    @inline(__always)
    static prefix func - (a: BLSFp6) -> BLSFp6 { BLSFp6(-a.c0, -a.c1, -a.c2) }

    /// Karatsuba over Fp2: six Fp2 products.
    @inline(__always)
    static func * (a: BLSFp6, b: BLSFp6) -> BLSFp6 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        let t2 = a.c2 * b.c2
        let c0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - t1 - t2).mulByXi() + t0
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 + t2.mulByXi()
        let c2 = (a.c0 + a.c2) * (b.c0 + b.c2) - t0 - t2 + t1
        return BLSFp6(c0, c1, c2)
    }

    /// `self · v`: the coefficients move up one place and v³ = ξ wraps around.
    @inline(__always)
    func mulByV() -> BLSFp6 { BLSFp6(c2.mulByXi(), c0, c1) }

    /// The inverse through the adjugate: one Fp2 inversion.
    func inverse() -> BLSFp6 {
        let a = c0.squared() - (c1 * c2).mulByXi()
        let b = c2.squared().mulByXi() - c0 * c1
        let c = c1.squared() - c0 * c2
        let f = c0 * a + (c2 * b + c1 * c).mulByXi()
        let fInv = f.inverse()
        return BLSFp6(a * fInv, b * fInv, c * fInv)
    }
}

/// An element `c0 + c1·w` of BLS12-381's Fp12, where the pairing takes its values.
struct BLSFp12: Equatable, Sendable {
    var c0: BLSFp6
    var c1: BLSFp6

    @inline(__always)
    init(_ c0: BLSFp6, _ c1: BLSFp6) {
        self.c0 = c0
        self.c1 = c1
    }

    static let one = BLSFp12(.one, .zero)

    var isOne: Bool { self == .one }

    /// Karatsuba over Fp6: three Fp6 products.
    @inline(__always)
    static func * (a: BLSFp12, b: BLSFp12) -> BLSFp12 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        return BLSFp12(t0 + t1.mulByV(), (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1)
    }

    /// `(c0 + c1)(c0 + c1·v) − t − t·v + 2t·w` with t = c0·c1: two Fp6 products.
    @inline(__always)
    func squared() -> BLSFp12 {
        let t = c0 * c1
        let c0New = (c0 + c1) * (c0 + c1.mulByV()) - t - t.mulByV()
        return BLSFp12(c0New, t + t)
    }

    /// `c0 − c1·w`, the p⁶-power Frobenius; the inverse of a value of norm 1 (as every value is
    /// after the first step of the final exponentiation).
    var conjugate: BLSFp12 { BLSFp12(c0, -c1) }

    /// `conj/(c0² − c1²·v)`: one Fp6 inversion.
    func inverse() -> BLSFp12 {
        let norm = c0 * c0 - (c1 * c1).mulByV()
        let normInv = norm.inverse()
        return BLSFp12(c0 * normInv, -(c1 * normInv))
    }

    /// `self^e` for an exponent given as limbs, least significant first, with a fixed window
    /// of four bits (15 precomputed powers, then one product every four squarings).
    func power(_ e: [UInt64]) -> BLSFp12 {
        var table = [BLSFp12](repeating: .one, count: 16)
        for i in 1..<16 { table[i] = table[i - 1] * self }
        var result = BLSFp12.one
        for limb in e.reversed() {
            for nibble in stride(from: 15, through: 0, by: -1) {
                result = result.squared().squared().squared().squared()
                let digit = Int((limb >> UInt64(4 * nibble)) & 0xf)
                if digit != 0 { result = result * table[digit] }
            }
        }
        return result
    }
}
