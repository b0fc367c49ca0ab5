import KramaaPrimitives

// The degree-12 extension tower both pairing-friendly curves use (BN254 for EIP-197, BLS12-381
// for EIP-4844), generic over its quadratic base F = Fp[u]/(u² + 1) and that base's
// non-residue ξ:
//   Fp6  = F[v]   / (v³ − ξ)
//   Fp12 = Fp6[w] / (w² − v),  so w⁶ = ξ
// Specialised per curve by the compiler (the whole module is optimised at once), so the
// generic code costs nothing at run time.

/// The quadratic field a sextic tower is built over: BN254's ``Fp2`` (ξ = 9 + u) or
/// BLS12-381's ``BLSFp2`` (ξ = 1 + u).
protocol SexticTowerBase: CurveField {
    /// `self · ξ`.
    func mulByXi() -> Self
}

extension CurveField {
    /// `self^e` for an exponent given as limbs, least significant first; square and multiply
    /// from the most significant bit (exponents here are public: inversions and square roots).
    func power(limbs e: [UInt64]) -> Self {
        var result = Self.one
        for limb in e.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                result = result.squared()
                if (limb >> UInt64(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }
}

/// An element `c0 + c1·v + c2·v²` of Fp6 = F[v]/(v³ − ξ) over a quadratic field F.
struct Fp6Element<F: SexticTowerBase>: Equatable, Sendable {
    var c0: F
    var c1: F
    var c2: F

    @inline(__always)
    init(_ c0: F, _ c1: F, _ c2: F) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    static var zero: Fp6Element { Fp6Element(.zero, .zero, .zero) }
    static var one: Fp6Element { Fp6Element(.one, .zero, .zero) }

    var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    @inline(__always)
    static func + (a: Fp6Element, b: Fp6Element) -> Fp6Element { Fp6Element(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2) }
    @inline(__always)
    static func - (a: Fp6Element, b: Fp6Element) -> Fp6Element { Fp6Element(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2) }
    @inline(__always)
    static prefix func - (a: Fp6Element) -> Fp6Element { Fp6Element(-a.c0, -a.c1, -a.c2) }

    /// Karatsuba over three coefficients: six F products.
    @inline(__always)
    static func * (a: Fp6Element, b: Fp6Element) -> Fp6Element {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        let v2 = a.c2 * b.c2
        let c0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - v1 - v2).mulByXi() + v0
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1 + v2.mulByXi()
        let c2 = (a.c0 + a.c2) * (b.c0 + b.c2) - v0 - v2 + v1
        return Fp6Element(c0, c1, c2)
    }

    /// Chung–Hasan squaring (SQR2): two squarings and three products in F.
    @inline(__always)
    func squared() -> Fp6Element {
        let s0 = c0.squared()
        let ab = c0 * c1
        let s1 = ab.doubled()
        let s2 = (c0 - c1 + c2).squared()
        let bc = c1 * c2
        let s3 = bc.doubled()
        let s4 = c2.squared()
        return Fp6Element(s3.mulByXi() + s0, s4.mulByXi() + s1, s1 + s2 + s3 - s0 - s4)
    }

    /// The product with `b0 + b1·v` (a line's sparse factor): five F products.
    @inline(__always)
    func mulBy01(_ b0: F, _ b1: F) -> Fp6Element {
        let v0 = c0 * b0
        let v1 = c1 * b1
        let r0 = ((c1 + c2) * b1 - v1).mulByXi() + v0
        let r1 = (c0 + c1) * (b0 + b1) - v0 - v1
        let r2 = (c0 + c2) * b0 - v0 + v1
        return Fp6Element(r0, r1, r2)
    }

    /// The product with an F element.
    @inline(__always)
    func scaled(by k: F) -> Fp6Element { Fp6Element(c0 * k, c1 * k, c2 * k) }

    /// `self · v = ξ·c2 + c0·v + c1·v²`.
    @inline(__always)
    func mulByV() -> Fp6Element { Fp6Element(c2.mulByXi(), c0, c1) }

    func inverse() -> Fp6Element {
        let t0 = c0.squared() - (c1 * c2).mulByXi()
        let t1 = c2.squared().mulByXi() - c0 * c1
        let t2 = c1.squared() - c0 * c2
        let det = c0 * t0 + (c2 * t1 + c1 * t2).mulByXi()
        let inv = det.inverse()
        return Fp6Element(t0 * inv, t1 * inv, t2 * inv)
    }
}

/// An element `c0 + c1·w` of Fp12 = Fp6[w]/(w² − v), where a pairing takes its values.
struct Fp12Element<F: SexticTowerBase>: Equatable, Sendable {
    var c0: Fp6Element<F>
    var c1: Fp6Element<F>

    @inline(__always)
    init(_ c0: Fp6Element<F>, _ c1: Fp6Element<F>) {
        self.c0 = c0
        self.c1 = c1
    }

    static var one: Fp12Element { Fp12Element(.one, .zero) }

    var isOne: Bool { self == .one }

    @inline(__always)
    static func * (a: Fp12Element, b: Fp12Element) -> Fp12Element {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        return Fp12Element(v0 + v1.mulByV(), (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1)
    }

    /// Complex squaring: two Fp6Element<F> products.
    @inline(__always)
    func squared() -> Fp12Element {
        let ab = c0 * c1
        let t = (c0 + c1) * (c0 + c1.mulByV())
        return Fp12Element(t - ab - ab.mulByV(), ab + ab)
    }

    /// The product with a line value `a0 + b0·w + b1·w³` (a0, b0, b1 in F).
    @inline(__always)
    func mulByLine(_ a0: F, _ b0: F, _ b1: F) -> Fp12Element {
        let t0 = c0.scaled(by: a0)
        let t1 = c1.mulBy01(b0, b1)
        let r1 = (c0 + c1).mulBy01(a0 + b0, b1) - t0 - t1
        return Fp12Element(t0 + t1.mulByV(), r1)
    }

    /// `c0 − c1·w`: the p⁶-power Frobenius, and the inverse on the cyclotomic subgroup.
    @inline(__always)
    var conjugate: Fp12Element { Fp12Element(c0, -c1) }

    func inverse() -> Fp12Element {
        let t = (c0.squared() - c1.squared().mulByV()).inverse()
        return Fp12Element(c0 * t, -(c1 * t))
    }

    /// The square of an element of the cyclotomic subgroup (order p⁴ − p² + 1, where the
    /// final exponentiation's hard part works), by Granger and Scott: viewing Fp12Element as
    /// Fp4[w]/(w³ − s) with Fp4 = F[s]/(s² − ξ) and self = A + B·w + C·w²,
    /// `A' = 3A² − 2Ā`, `B' = 3s·C² + 2B̄`, `C' = 3B² − 2C̄` (bar: conjugation over F).
    /// Nine F squarings instead of two Fp6Element<F> products. Wrong outside that subgroup.
    func cyclotomicSquared() -> Fp12Element {
        // Coefficient of w^k: k = 0, 2, 4 in c0; k = 1, 3, 5 in c1. A = (w⁰, w³), B = (w¹, w⁴), C = (w², w⁵).
        let (ax, ay) = (c0.c0, c1.c1)
        let (bx, by) = (c1.c0, c0.c2)
        let (cx, cy) = (c0.c1, c1.c2)
        let a2 = Fp12Element.fp4Squared(ax, ay)
        let b2 = Fp12Element.fp4Squared(bx, by)
        let c2 = Fp12Element.fp4Squared(cx, cy)
        // A' = 3A² − 2Ā
        let nax = Fp12Element.triple(a2.x) - ax.doubled()
        let nay = Fp12Element.triple(a2.y) + ay.doubled()
        // B' = 3s·C² + 2B̄, with s·(x + y·s) = ξy + x·s
        let nbx = Fp12Element.triple(c2.y.mulByXi()) + bx.doubled()
        let nby = Fp12Element.triple(c2.x) - by.doubled()
        // C' = 3B² − 2C̄
        let ncx = Fp12Element.triple(b2.x) - cx.doubled()
        let ncy = Fp12Element.triple(b2.y) + cy.doubled()
        return Fp12Element(Fp6Element<F>(nax, ncx, nby), Fp6Element<F>(nbx, nay, ncy))
    }

    /// `(x + y·s)² = (x² + ξy²) + 2xy·s` in Fp4, with three F squarings.
    @inline(__always)
    private static func fp4Squared(_ x: F, _ y: F) -> (x: F, y: F) {
        let x2 = x.squared()
        let y2 = y.squared()
        return (x2 + y2.mulByXi(), (x + y).squared() - x2 - y2)
    }

    @inline(__always)
    private static func triple(_ a: F) -> F { a.doubled() + a }

    /// `self^e` in the cyclotomic subgroup (cyclotomic squarings).
    func cyclotomicPower(_ e: UInt64) -> Fp12Element {
        var result = Fp12Element.one
        var started = false
        for i in stride(from: 63, through: 0, by: -1) {
            if started { result = result.cyclotomicSquared() }
            if (e >> UInt64(i)) & 1 == 1 {
                result = started ? result * self : self
                started = true
            }
        }
        return result
    }

    /// `self^e` for a 64-bit exponent, square and multiply.
    func power(_ e: UInt64) -> Fp12Element {
        var result = Fp12Element.one
        var started = false
        for i in stride(from: 63, through: 0, by: -1) {
            if started { result = result.squared() }
            if (e >> UInt64(i)) & 1 == 1 {
                result = result * self
                started = true
            }
        }
        return result
    }

    /// `self^e` for an exponent given as limbs, least significant first, with a fixed window
    /// of four bits (15 precomputed powers, then one product every four squarings).
    func power(limbs e: [UInt64]) -> Fp12Element {
        var table = [Fp12Element](repeating: .one, count: 16)
        for i in 1..<16 { table[i] = table[i - 1] * self }
        var result = Fp12Element.one
        for limb in e.reversed() {
            for nibble in stride(from: 15, through: 0, by: -1) {
                result = result.squared().squared().squared().squared()
                let digit = Int((limb >> UInt64(4 * nibble)) & 0xf)
                if digit != 0 { result = result * table[digit] }
            }
        }
        return result
    }

    /// `self^e` for a big-endian exponent of any length (used by tests as a slow reference).
    func power(bigEndian e: [UInt8]) -> Fp12Element {
        var result = Fp12Element.one
        for byte in e {
            for bit in stride(from: 7, through: 0, by: -1) {
                result = result.squared()
                if (byte >> UInt8(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }
}
