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

/// BN254's Fp6 and Fp12 (PairingTower.swift).
typealias Fp6 = Fp6Element<Fp2>
typealias Fp12 = Fp12Element<Fp2>

extension Fp2: SexticTowerBase {}

extension Fp12Element where F == Fp2 {
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
