import KramaaPrimitives

/// A point of `y² = x³ + b` over `F` in Jacobian coordinates: `(X, Y, Z)` stands for
/// `(X/Z², Y/Z³)`, and `Z = 0` is the point at infinity. Additions and doublings need no
/// inversion; one inversion at the end brings a result back to affine form.
struct JacobianPoint<F: CurveField>: Sendable {
    var x: F
    var y: F
    var z: F

    static var infinity: JacobianPoint { JacobianPoint(x: .one, y: .one, z: .zero) }

    init(x: F, y: F, z: F) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The affine point `(x, y)`.
    init(_ affine: AffinePoint<F>) {
        self = affine.isInfinity ? .infinity : JacobianPoint(x: affine.x, y: affine.y, z: .one)
    }

    var isInfinity: Bool { z.isZero }

    /// dbl-2009-l (a = 0): 2M + 5S.
    func doubled() -> JacobianPoint {
        if isInfinity { return self }
        let a = x.squared()
        let b = y.squared()
        let c = b.squared()
        let d = ((x + b).squared() - a - c).doubled()
        let e = a.doubled() + a
        let f = e.squared()
        let x3 = f - d.doubled()
        let y3 = e * (d - x3) - c.doubled().doubled().doubled()
        let z3 = (y * z).doubled()
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl, falling back to doubling for equal points.
    static func + (p: JacobianPoint, q: JacobianPoint) -> JacobianPoint {
        if p.isInfinity { return q }
        if q.isInfinity { return p }
        let z1z1 = p.z.squared()
        let z2z2 = q.z.squared()
        let u1 = p.x * z2z2
        let u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2
        let s2 = q.y * p.z * z1z1
        let h = u2 - u1
        let r = (s2 - s1).doubled()
        if h.isZero {
            return r.isZero ? p.doubled() : .infinity
        }
        let i = h.doubled().squared()
        let j = h * i
        let v = u1 * i
        let x3 = r.squared() - j - v.doubled()
        let y3 = r * (v - x3) - (s1 * j).doubled()
        let z3 = ((p.z + q.z).squared() - z1z1 - z2z2) * h
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    static prefix func - (p: JacobianPoint) -> JacobianPoint { JacobianPoint(x: p.x, y: -p.y, z: p.z) }

    /// `k·self` by double-and-add over the bits of a 256-bit scalar (inputs are public, so
    /// constant time is not needed).
    func multiplied(by k: UInt256) -> JacobianPoint {
        var result = JacobianPoint.infinity
        let bits = k.bitWidthUsed
        var i = bits - 1
        while i >= 0 {
            result = result.doubled()
            if (k[limb: i / 64] >> UInt64(i % 64)) & 1 == 1 { result = result + self }
            i -= 1
        }
        return result
    }

    /// The affine form, with one field inversion.
    var affine: AffinePoint<F> {
        if isInfinity { return .infinity }
        let zInv = z.inverse()
        let zInv2 = zInv.squared()
        return AffinePoint(x: x * zInv2, y: y * zInv2 * zInv)
    }

    /// Equality as points (not as coordinate triples).
    static func == (p: JacobianPoint, q: JacobianPoint) -> Bool {
        if p.isInfinity || q.isInfinity { return p.isInfinity && q.isInfinity }
        let z1z1 = p.z.squared()
        let z2z2 = q.z.squared()
        return p.x * z2z2 == q.x * z1z1 && p.y * q.z * z2z2 == q.y * p.z * z1z1
    }
}

/// An affine point; `(0, 0)` (not on the curve, since b ≠ 0) stands for infinity, as in
/// the EIP-196/197 encodings.
struct AffinePoint<F: CurveField>: Equatable, Sendable {
    var x: F
    var y: F

    static var infinity: AffinePoint { AffinePoint(x: .zero, y: .zero) }

    var isInfinity: Bool { x.isZero && y.isZero }

    /// True for infinity and for points that satisfy the curve equation.
    var isOnCurve: Bool {
        isInfinity || y.squared() == x.squared() * x + F.curveB
    }

    static prefix func - (p: AffinePoint) -> AffinePoint { p.isInfinity ? p : AffinePoint(x: p.x, y: -p.y) }
}

typealias G1Affine = AffinePoint<Fp>
typealias G2Affine = AffinePoint<Fp2>

/// The BN254 groups and their encodings as used by the 0x06–0x08 precompiles.
enum BN254 {
    /// The order r of G1 and G2.
    static let order = try! UInt256(hex: "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001")

    /// The standard generator of G1, (1, 2).
    static let g1Generator = G1Affine(x: Fp(1), y: Fp(2))

    /// The standard generator of G2 (as in EIP-197).
    static let g2Generator = G2Affine(
        x: Fp2(Fp(canonical: try! UInt256(hex: "0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"))!,
               Fp(canonical: try! UInt256(hex: "0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"))!),
        y: Fp2(Fp(canonical: try! UInt256(hex: "0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"))!,
               Fp(canonical: try! UInt256(hex: "0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"))!))

    /// Why a byte string is not a valid point.
    enum DecodingError: Error, Equatable {
        case coordinateNotInField
        case notOnCurve
        case notInSubgroup
    }

    /// Decodes `x ‖ y` (32 bytes each, big-endian); all zeros is infinity. Every point on
    /// the curve is in G1, whose cofactor is 1.
    static func decodeG1(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> G1Affine {
        let start = bytes.startIndex
        guard let x = Fp(bigEndian: bytes[start ..< start + 32]),
              let y = Fp(bigEndian: bytes[start + 32 ..< start + 64])
        else { throw .coordinateNotInField }
        let point = G1Affine(x: x, y: y)
        guard point.isOnCurve else { throw .notOnCurve }
        return point
    }

    /// `x ‖ y`, 64 bytes; infinity is all zeros.
    static func encodeG1(_ point: G1Affine) -> [UInt8] {
        point.x.bigEndianBytes + point.y.bigEndianBytes
    }

    /// Decodes EIP-197's `x.im ‖ x.re ‖ y.im ‖ y.re` (the coefficient of u comes first);
    /// all zeros is infinity. The point must be on the twist and in the order-r subgroup
    /// (the twist has a large cofactor, so being on the curve is not enough).
    static func decodeG2(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> G2Affine {
        let s = bytes.startIndex
        guard let xIm = Fp(bigEndian: bytes[s ..< s + 32]),
              let xRe = Fp(bigEndian: bytes[s + 32 ..< s + 64]),
              let yIm = Fp(bigEndian: bytes[s + 64 ..< s + 96]),
              let yRe = Fp(bigEndian: bytes[s + 96 ..< s + 128])
        else { throw .coordinateNotInField }
        let point = G2Affine(x: Fp2(xRe, xIm), y: Fp2(yRe, yIm))
        guard point.isOnCurve else { throw .notOnCurve }
        guard isInG2Subgroup(point) else { throw .notInSubgroup }
        return point
    }

    /// Whether a point of the twist is in G2, by the endomorphism test of El Housni,
    /// Guillevic and Piellard ("Co-factor clearing and subgroup membership testing on
    /// pairing-friendly curves", 2022, §5.1 for BN curves):
    /// `[u+1]Q + ψ([u]Q) + ψ²([u]Q) = ψ³([2u]Q)`, with ψ the untwist-Frobenius-twist map.
    /// One 63-bit scalar multiplication instead of a 254-bit one.
    static func isInG2Subgroup(_ point: G2Affine) -> Bool {
        if point.isInfinity { return true }
        let q = JacobianPoint(point)
        let uq = q.multiplied(by: UInt256(BN254Pairing.u))
        let psiUQ = psi(uq)
        let left = uq + q + psiUQ + psi(psiUQ)
        let right = psi(psi(psi(uq.doubled())))
        return left == right
    }

    /// The definition, `r·Q = O`: a 254-bit scalar multiplication (tests compare the two).
    static func isInG2SubgroupByOrder(_ point: G2Affine) -> Bool {
        point.isInfinity || JacobianPoint(point).multiplied(by: order).isInfinity
    }

    /// ψ on Jacobian coordinates: conjugating Z as well keeps `X/Z²` and `Y/Z³` consistent.
    static func psi(_ p: JacobianPoint<Fp2>) -> JacobianPoint<Fp2> {
        JacobianPoint(x: p.x.conjugate * BN254Constants.twistFrobeniusX,
                      y: p.y.conjugate * BN254Constants.twistFrobeniusY,
                      z: p.z.conjugate)
    }
}
