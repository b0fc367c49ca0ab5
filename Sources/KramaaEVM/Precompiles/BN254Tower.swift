import KramaaPrimitives

// The extension tower the pairing lives in:
//   Fp2  = Fp[u]  / (u² + 1)
//   Fp6  = Fp2[v] / (v³ − ξ),  ξ = 9 + u
//   Fp12 = Fp6[w] / (w² − v),  so w⁶ = ξ
// G2 points are on the sextic twist y² = x³ + 3/ξ over Fp2, mapped into E(Fp12) by
// (x, y) ↦ (x·w², y·w³).

/// An element `c0 + c1·u` of Fp2.
struct Fp2: CurveField, CustomStringConvertible {
    var c0: Fp
    var c1: Fp

    @inline(__always)
    init(_ c0: Fp, _ c1: Fp) {
        self.c0 = c0
        self.c1 = c1
    }

    static let zero = Fp2(.zero, .zero)
    static let one = Fp2(.one, .zero)
    /// ξ = 9 + u, the non-residue that defines Fp6 and the twist.
    static let xi = Fp2(Fp(9), Fp(1))
    /// b' = 3/ξ, the constant of the twist curve.
    static let curveB = Fp2(Fp(3), .zero) * xi.inverse()

    var isZero: Bool { c0.isZero && c1.isZero }
    var description: String { "(\(c0) + \(c1)·u)" }

    @inline(__always)
    static func + (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 + b.c0, a.c1 + b.c1) }
    @inline(__always)
    static func - (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 - b.c0, a.c1 - b.c1) }
    @inline(__always)
    static prefix func - (a: Fp2) -> Fp2 { Fp2(-a.c0, -a.c1) }
    @inline(__always)
    func doubled() -> Fp2 { Fp2(c0.doubled(), c1.doubled()) }
    @inline(__always)
    func halved() -> Fp2 { Fp2(c0.halved(), c1.halved()) }

    /// Karatsuba: three base-field products.
    @inline(__always)
    static func * (a: Fp2, b: Fp2) -> Fp2 {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        return Fp2(v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1)
    }

    /// Scales both coefficients by a base-field element.
    @inline(__always)
    func scaled(by k: Fp) -> Fp2 { Fp2(c0 * k, c1 * k) }

    /// `(c0 + c1)(c0 − c1) + 2·c0·c1·u`: two base-field products.
    @inline(__always)
    func squared() -> Fp2 {
        let m = c0 * c1
        return Fp2((c0 + c1) * (c0 - c1), m.doubled())
    }

    /// `self · ξ = (9c0 − c1) + (c0 + 9c1)·u`, with additions only.
    @inline(__always)
    func mulByXi() -> Fp2 {
        let e0 = c0.doubled().doubled().doubled() + c0
        let e1 = c1.doubled().doubled().doubled() + c1
        return Fp2(e0 - c1, c0 + e1)
    }

    /// The conjugate `c0 − c1·u`, which is also the p-power Frobenius.
    @inline(__always)
    var conjugate: Fp2 { Fp2(c0, -c1) }

    func inverse() -> Fp2 {
        let t = (c0.squared() + c1.squared()).inverse()
        return Fp2(c0 * t, -(c1 * t))
    }

    /// `self^e` for a plain 256-bit exponent.
    func power(_ e: UInt256) -> Fp2 {
        var result = Fp2.one
        for i in stride(from: 255, through: 0, by: -1) {
            result = result.squared()
            if (e[limb: i / 64] >> UInt64(i % 64)) & 1 == 1 { result = result * self }
        }
        return result
    }
}

/// An element `c0 + c1·v + c2·v²` of Fp6.
struct Fp6: Equatable, Sendable {
    var c0: Fp2
    var c1: Fp2
    var c2: Fp2

    @inline(__always)
    init(_ c0: Fp2, _ c1: Fp2, _ c2: Fp2) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    static let zero = Fp6(.zero, .zero, .zero)
    static let one = Fp6(.one, .zero, .zero)

    var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    @inline(__always)
    static func + (a: Fp6, b: Fp6) -> Fp6 { Fp6(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2) }
    @inline(__always)
    static func - (a: Fp6, b: Fp6) -> Fp6 { Fp6(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2) }
    @inline(__always)
    static prefix func - (a: Fp6) -> Fp6 { Fp6(-a.c0, -a.c1, -a.c2) }

    /// Karatsuba over three coefficients: six Fp2 products.
    @inline(__always)
    static func * (a: Fp6, b: Fp6) -> Fp6 {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        let v2 = a.c2 * b.c2
        let c0 = ((a.c1 + a.c2) * (b.c1 + b.c2) - v1 - v2).mulByXi() + v0
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1 + v2.mulByXi()
        let c2 = (a.c0 + a.c2) * (b.c0 + b.c2) - v0 - v2 + v1
        return Fp6(c0, c1, c2)
    }

    /// Chung–Hasan squaring (SQR2): two squarings and three products in Fp2.
    @inline(__always)
    func squared() -> Fp6 {
        let s0 = c0.squared()
        let ab = c0 * c1
        let s1 = ab.doubled()
        let s2 = (c0 - c1 + c2).squared()
        let bc = c1 * c2
        let s3 = bc.doubled()
        let s4 = c2.squared()
        return Fp6(s3.mulByXi() + s0, s4.mulByXi() + s1, s1 + s2 + s3 - s0 - s4)
    }

    /// The product with `b0 + b1·v` (a line's sparse factor): five Fp2 products.
    @inline(__always)
    func mulBy01(_ b0: Fp2, _ b1: Fp2) -> Fp6 {
        let v0 = c0 * b0
        let v1 = c1 * b1
        let r0 = ((c1 + c2) * b1 - v1).mulByXi() + v0
        let r1 = (c0 + c1) * (b0 + b1) - v0 - v1
        let r2 = (c0 + c2) * b0 - v0 + v1
        return Fp6(r0, r1, r2)
    }

    /// The product with an Fp2 element.
    @inline(__always)
    func scaled(by k: Fp2) -> Fp6 { Fp6(c0 * k, c1 * k, c2 * k) }

    /// `self · v = ξ·c2 + c0·v + c1·v²`.
    @inline(__always)
    func mulByV() -> Fp6 { Fp6(c2.mulByXi(), c0, c1) }

    func inverse() -> Fp6 {
        let t0 = c0.squared() - (c1 * c2).mulByXi()
        let t1 = c2.squared().mulByXi() - c0 * c1
        let t2 = c1.squared() - c0 * c2
        let det = c0 * t0 + (c2 * t1 + c1 * t2).mulByXi()
        let inv = det.inverse()
        return Fp6(t0 * inv, t1 * inv, t2 * inv)
    }
}

/// An element `c0 + c1·w` of Fp12, the target group of the pairing.
struct Fp12: Equatable, Sendable {
    var c0: Fp6
    var c1: Fp6

    @inline(__always)
    init(_ c0: Fp6, _ c1: Fp6) {
        self.c0 = c0
        self.c1 = c1
    }

    static let one = Fp12(.one, .zero)

    var isOne: Bool { self == .one }

    @inline(__always)
    static func * (a: Fp12, b: Fp12) -> Fp12 {
        let v0 = a.c0 * b.c0
        let v1 = a.c1 * b.c1
        return Fp12(v0 + v1.mulByV(), (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1)
    }

    /// Complex squaring: two Fp6 products.
    @inline(__always)
    func squared() -> Fp12 {
        let ab = c0 * c1
        let t = (c0 + c1) * (c0 + c1.mulByV())
        return Fp12(t - ab - ab.mulByV(), ab + ab)
    }

    /// The product with a line value `a0 + b0·w + b1·w³` (a0, b0, b1 in Fp2).
    @inline(__always)
    func mulByLine(_ a0: Fp2, _ b0: Fp2, _ b1: Fp2) -> Fp12 {
        let t0 = c0.scaled(by: a0)
        let t1 = c1.mulBy01(b0, b1)
        let r1 = (c0 + c1).mulBy01(a0 + b0, b1) - t0 - t1
        return Fp12(t0 + t1.mulByV(), r1)
    }

    /// `c0 − c1·w`: the p⁶-power Frobenius, and the inverse on the cyclotomic subgroup.
    @inline(__always)
    var conjugate: Fp12 { Fp12(c0, -c1) }

    func inverse() -> Fp12 {
        let t = (c0.squared() - c1.squared().mulByV()).inverse()
        return Fp12(c0 * t, -(c1 * t))
    }

    /// `self^p`. Writing `self = Σ c_k·w^k` (c_k in Fp2), `w^(kp) = w^k·ξ^(k(p−1)/6)`, so each
    /// coefficient is conjugated and scaled by a constant.
    func frobenius() -> Fp12 {
        let g = BN254Constants.frobeniusW
        return Fp12(
            Fp6(c0.c0.conjugate, c0.c1.conjugate * g[2], c0.c2.conjugate * g[4]),
            Fp6(c1.c0.conjugate * g[1], c1.c1.conjugate * g[3], c1.c2.conjugate * g[5]))
    }

    /// `self^(p^n)`.
    func frobenius(_ n: Int) -> Fp12 {
        var r = self
        for _ in 0..<n { r = r.frobenius() }
        return r
    }

    /// The square of an element of the cyclotomic subgroup (order p⁴ − p² + 1, where the
    /// final exponentiation's hard part works), by Granger and Scott: viewing Fp12 as
    /// Fp4[w]/(w³ − s) with Fp4 = Fp2[s]/(s² − ξ) and self = A + B·w + C·w²,
    /// `A' = 3A² − 2Ā`, `B' = 3s·C² + 2B̄`, `C' = 3B² − 2C̄` (bar: conjugation over Fp2).
    /// Nine Fp2 squarings instead of two Fp6 products. Wrong outside that subgroup.
    func cyclotomicSquared() -> Fp12 {
        // Coefficient of w^k: k = 0, 2, 4 in c0; k = 1, 3, 5 in c1. A = (w⁰, w³), B = (w¹, w⁴), C = (w², w⁵).
        let (ax, ay) = (c0.c0, c1.c1)
        let (bx, by) = (c1.c0, c0.c2)
        let (cx, cy) = (c0.c1, c1.c2)
        let a2 = Fp12.fp4Squared(ax, ay)
        let b2 = Fp12.fp4Squared(bx, by)
        let c2 = Fp12.fp4Squared(cx, cy)
        // A' = 3A² − 2Ā
        let nax = Fp12.triple(a2.x) - ax.doubled()
        let nay = Fp12.triple(a2.y) + ay.doubled()
        // B' = 3s·C² + 2B̄, with s·(x + y·s) = ξy + x·s
        let nbx = Fp12.triple(c2.y.mulByXi()) + bx.doubled()
        let nby = Fp12.triple(c2.x) - by.doubled()
        // C' = 3B² − 2C̄
        let ncx = Fp12.triple(b2.x) - cx.doubled()
        let ncy = Fp12.triple(b2.y) + cy.doubled()
        return Fp12(Fp6(nax, ncx, nby), Fp6(nbx, nay, ncy))
    }

    /// `(x + y·s)² = (x² + ξy²) + 2xy·s` in Fp4, with three Fp2 squarings.
    @inline(__always)
    private static func fp4Squared(_ x: Fp2, _ y: Fp2) -> (x: Fp2, y: Fp2) {
        let x2 = x.squared()
        let y2 = y.squared()
        return (x2 + y2.mulByXi(), (x + y).squared() - x2 - y2)
    }

    @inline(__always)
    private static func triple(_ a: Fp2) -> Fp2 { a.doubled() + a }

    /// `self^e` in the cyclotomic subgroup (cyclotomic squarings).
    func cyclotomicPower(_ e: UInt64) -> Fp12 {
        var result = Fp12.one
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
    func power(_ e: UInt64) -> Fp12 {
        var result = Fp12.one
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

    /// `self^e` for a big-endian exponent of any length (used by tests as a slow reference).
    func power(bigEndian e: [UInt8]) -> Fp12 {
        var result = Fp12.one
        for byte in e {
            for bit in stride(from: 7, through: 0, by: -1) {
                result = result.squared()
                if (byte >> UInt8(bit)) & 1 == 1 { result = result * self }
            }
        }
        return result
    }
}

/// Constants derived once from ξ.
enum BN254Constants {
    /// `ξ^(k(p−1)/6)` for k = 0...5: the Frobenius factors of `w^k`.
    static let frobeniusW: [Fp2] = {
        let step = Fp2.xi.power((Fp.modulus &- UInt256(1)) / UInt256(6))
        var out = [Fp2.one]
        for _ in 1...5 { out.append(out[out.count - 1] * step) }
        return out
    }()

    /// Frobenius on the twist, `π(x, y) = (x̄·ξ^((p−1)/3), ȳ·ξ^((p−1)/2))`.
    static var twistFrobeniusX: Fp2 { frobeniusW[2] }
    static var twistFrobeniusY: Fp2 { frobeniusW[3] }
}
