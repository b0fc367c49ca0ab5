import KramaaPrimitives

// The extension tower of BLS12-381's pairing, of the same shape as BN254's (BN254Tower.swift)
// with another base field and non-residue:
//   Fp2  = Fp[u]  / (u² + 1)
//   Fp6  = Fp2[v] / (v³ − ξ),  ξ = 1 + u
//   Fp12 = Fp6[w] / (w² − v),  so w⁶ = ξ
// G2 points are on the (M-type) sextic twist y² = x³ + 4ξ over Fp2, mapped into E(Fp12) by
// (x, y) ↦ (x/w², y/w³).

/// An element `c0 + c1·u` of BLS12-381's Fp2.
struct BLSFp2: SexticTowerBase, CustomStringConvertible {
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

    /// A square root when one exists, for p ≡ 3 (mod 4): Algorithm 9 of Adj and
    /// Rodríguez-Henríquez, "Square root computation over even extension fields" (2012).
    func squareRoot() -> BLSFp2? {
        let a1 = power(limbs: BLSFp.pMinus3Over4)
        let alpha = a1.squared() * self
        let x0 = a1 * self
        let root: BLSFp2
        if alpha == BLSFp2(-BLSFp.one, .zero) {
            root = BLSFp2(-x0.c1, x0.c0)  // u·x0
        } else {
            root = (alpha + .one).power(limbs: BLSFp.pMinus1Over2) * x0
        }
        return root.squared() == self ? root : nil
    }

    /// The compressed encodings' sign of an Fp2 value: c1 decides, or c0 when c1 is zero.
    var isLexicographicallyLargest: Bool {
        c1.isZero ? c0.isLexicographicallyLargest : c1.isLexicographicallyLargest
    }
}

/// BLS12-381's Fp6 and Fp12 (PairingTower.swift).
typealias BLSFp6 = Fp6Element<BLSFp2>
typealias BLSFp12 = Fp12Element<BLSFp2>
