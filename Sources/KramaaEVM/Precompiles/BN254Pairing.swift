import KramaaPrimitives

/// The optimal Ate pairing on BN254, as needed by the EIP-197 pairing check.
///
/// Miller loop over `6u + 2` (u = 0x44e992b44a6909f1) in signed binary form with two extra
/// Frobenius steps, lines evaluated straight into a sparse Fp12 element, then the final
/// exponentiation to the power `(p¹² − 1)/r`: the easy part by conjugation, inversion and
/// Frobenius, the hard part as in Devegili, Scott and Dahab (three powers of u).
enum BN254Pairing {
    /// The curve parameter u.
    static let u: UInt64 = 0x44e9_92b4_4a69_09f1

    /// 6u + 2 in non-adjacent form, most significant digit first (66 digits).
    static let loopDigits: [Int8] = [
        1, 0, -1, 0, 1, 0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, 1, 0, -1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0,
        1, 0, 0, -1, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0, -1, 0, -1, 0, 0, 1, 0, 0, 0, -1, 0, 0, -1, 0, 1, 0, 1, 0,
        0, 0,
    ]

    /// True when `∏ e(Pᵢ, Qᵢ) = 1`. Pairs with a point at infinity contribute 1.
    static func check(_ pairs: [(G1Affine, G2Affine)]) -> Bool {
        let active = pairs.filter { !$0.0.isInfinity && !$0.1.isInfinity }
        if active.isEmpty { return true }
        return finalExponentiation(millerLoop(active)).isOne
    }

    /// The pairing value `e(P, Q)` itself (tests use it to check bilinearity).
    static func pairing(_ p: G1Affine, _ q: G2Affine) -> Fp12 {
        if p.isInfinity || q.isInfinity { return .one }
        return finalExponentiation(millerLoop([(p, q)]))
    }

    // MARK: - Miller loop

    /// A point of the twist in homogeneous projective coordinates: `(X/Z, Y/Z)`.
    struct ProjectiveG2 {
        var x: Fp2
        var y: Fp2
        var z: Fp2
    }

    /// A line through points of the twist, to be evaluated at P = (xP, yP) as
    /// `yCoefficient·yP + xCoefficient·xP·w + constant·w³` (up to an Fp2 factor, which the
    /// final exponentiation removes).
    struct Line {
        var yCoefficient: Fp2
        var xCoefficient: Fp2
        var constant: Fp2
    }

    /// The product of the Miller functions `f_{6u+2,Q}(P)` with the two Frobenius lines, for
    /// every pair, sharing the squarings.
    static func millerLoop(_ pairs: [(G1Affine, G2Affine)]) -> Fp12 {
        var ts = pairs.map { ProjectiveG2(x: $0.1.x, y: $0.1.y, z: .one) }
        let negatedQ = pairs.map { -$0.1 }
        var f = Fp12.one
        for digit in loopDigits.dropFirst() {
            f = f.squared()
            for k in pairs.indices {
                f = multiply(f, by: doublingStep(&ts[k]), at: pairs[k].0)
            }
            if digit != 0 {
                for k in pairs.indices {
                    let q = digit > 0 ? pairs[k].1 : negatedQ[k]
                    f = multiply(f, by: additionStep(&ts[k], q), at: pairs[k].0)
                }
            }
        }
        for k in pairs.indices {
            let q1 = twistFrobenius(pairs[k].1)
            let q2 = twistFrobenius(q1)
            f = multiply(f, by: additionStep(&ts[k], q1), at: pairs[k].0)
            f = multiply(f, by: additionStep(&ts[k], -q2), at: pairs[k].0)
        }
        return f
    }

    @inline(__always)
    static func multiply(_ f: Fp12, by line: Line, at p: G1Affine) -> Fp12 {
        f.mulByLine(line.yCoefficient.scaled(by: p.y), line.xCoefficient.scaled(by: p.x), line.constant)
    }

    /// `T ← 2T`, returning the tangent at T.
    ///
    /// With λ = 3X²/(2YZ) the tangent, scaled by 2YZ, is `2YZ·yP − 3X²·xP·w + (Y² − 3b'Z²)·w³`
    /// (using the curve equation to replace X³); the doubling formulas are those of
    /// Costello, Lange and Naehrig for homogeneous coordinates.
    @inline(__always)
    static func doublingStep(_ t: inout ProjectiveG2) -> Line {
        let a = (t.x * t.y).halved()
        let b = t.y.squared()
        let c = t.z.squared()
        let e = (c.doubled() + c) * Fp2.curveB
        let f = e.doubled() + e
        let g = (b + f).halved()
        let h = (t.y + t.z).squared() - (b + c)
        let j = t.x.squared()
        let e2 = e.squared()
        t.x = a * (b - f)
        t.y = g.squared() - (e2.doubled() + e2)
        t.z = b * h
        return Line(yCoefficient: h, xCoefficient: -(j.doubled() + j), constant: b - e)
    }

    /// `T ← T + Q` for an affine Q, returning the line through T and Q.
    ///
    /// With θ = Y − yQ·Z and λ = X − xQ·Z the slope is θ/λ; scaled by λ the line is
    /// `λ·yP − θ·xP·w + (θ·xQ − λ·yQ)·w³`.
    @inline(__always)
    static func additionStep(_ t: inout ProjectiveG2, _ q: G2Affine) -> Line {
        let theta = t.y - q.y * t.z
        let lambda = t.x - q.x * t.z
        let c = theta.squared()
        let d = lambda.squared()
        let e = lambda * d
        let f = t.z * c
        let g = t.x * d
        let h = e + f - g.doubled()
        t.x = lambda * h
        t.y = theta * (g - h) - e * t.y
        t.z = t.z * e
        return Line(yCoefficient: lambda, xCoefficient: -theta, constant: theta * q.x - lambda * q.y)
    }

    /// The p-power Frobenius on the twist: `(x̄·ξ^((p−1)/3), ȳ·ξ^((p−1)/2))`.
    static func twistFrobenius(_ q: G2Affine) -> G2Affine {
        G2Affine(x: q.x.conjugate * BN254Constants.twistFrobeniusX, y: q.y.conjugate * BN254Constants.twistFrobeniusY)
    }

    // MARK: - Final exponentiation

    /// `f^((p¹² − 1)/r)`.
    static func finalExponentiation(_ f: Fp12) -> Fp12 {
        // Easy part: f^((p⁶ − 1)(p² + 1)). The result is in the cyclotomic subgroup, where
        // the inverse is the conjugate.
        var t = f.conjugate * f.inverse()
        t = t.frobenius(2) * t
        return hardPart(t)
    }

    /// `t^((p⁴ − p² + 1)/r)` for t in the cyclotomic subgroup, with the exponent written in
    /// base p with coefficients that are polynomials in u (Devegili, Scott and Dahab, 2007).
    static func hardPart(_ t: Fp12) -> Fp12 {
        let fp = t.frobenius()
        let fp2 = t.frobenius(2)
        let fp3 = fp2.frobenius()

        let fu = t.cyclotomicPower(u)
        let fu2 = fu.cyclotomicPower(u)
        let fu3 = fu2.cyclotomicPower(u)

        let y0 = fp * fp2 * fp3
        let y1 = t.conjugate
        let y2 = fu2.frobenius(2)
        let y3 = fu.frobenius().conjugate
        let y4 = (fu * fu2.frobenius()).conjugate
        let y5 = fu2.conjugate
        let y6 = (fu3 * fu3.frobenius()).conjugate

        var t0 = y6.cyclotomicSquared() * y4 * y5
        var t1 = y3 * y5 * t0
        t0 = t0 * y2
        t1 = (t1.cyclotomicSquared() * t0).cyclotomicSquared()
        t0 = t1 * y1
        t1 = t1 * y0
        return t0.cyclotomicSquared() * t1
    }
}
