import KramaaPrimitives

typealias BLSG1Affine = AffinePoint<BLSFp>
typealias BLSG2Affine = AffinePoint<BLSFp2>

/// The BLS12-381 groups and their compressed encodings (the ZCash serialisation that
/// EIP-4844 and the consensus specs use): G1 on `y² = x³ + 4` over Fp, G2 on the twist
/// `y² = x³ + 4(1 + u)` over Fp2, both of prime order r.
enum BLS12381 {
    /// The order r of G1 and G2 (the "BLS modulus" of EIP-4844's field elements).
    static let order = try! UInt256(hex: "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")

    /// The standard generator of G1, compressed.
    static let g1Generator = try! decodeG1(try! [UInt8](hex:
        "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb")[...])

    /// The standard generator of G2, compressed (also the first G2 point of the KZG setup).
    static let g2Generator = try! decodeG2(try! [UInt8](hex:
        "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        + "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8")[...])

    /// `[s]₂`, the one point of the KZG trusted setup that verifying a single proof needs:
    /// `KZG_SETUP_G2_MONOMIAL[1]` of the Ethereum KZG ceremony (the second G2 line of the
    /// consensus specs' `trusted_setup_4096`, as shipped in c-kzg-4844's `trusted_setup.txt`).
    /// A protocol constant; tests/python/test_point_evaluation.py compares it with the setup
    /// that the reference library bundles.
    static let setupG2 = try! decodeG2(try! [UInt8](hex:
        "b5bfd7dd8cdeb128843bc287230af38926187075cbfbefa81009a2ce615ac53d2914e5870cb452d2afaaab24f3499f72"
        + "185cbfee53492714734429b7b38608e23926c911cceceac9a36851477ba4c60b087041de621000edc98edada20c1def2")[...])

    /// Why a byte string is not a valid compressed point.
    enum DecodingError: Error, Equatable {
        /// Not 48 (G1) or 96 (G2) bytes.
        case wrongLength
        /// The compression flag (top bit) is clear: only compressed points are accepted.
        case notCompressed
        /// The infinity flag is set but the sign flag or some coordinate bit is not zero.
        case malformedInfinity
        /// A coordinate is p or more.
        case coordinateNotInField
        /// No y satisfies the curve equation for this x.
        case notOnCurve
        /// On the curve but outside the order-r subgroup.
        case notInSubgroup
    }

    private static let compressionFlag: UInt8 = 0x80
    private static let infinityFlag: UInt8 = 0x40
    private static let signFlag: UInt8 = 0x20

    /// The flags of a compressed encoding, and whether it is the (well-formed) point at infinity.
    private static func readFlags(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> (infinity: Bool, sign: Bool) {
        let first = bytes[bytes.startIndex]
        guard first & compressionFlag != 0 else { throw .notCompressed }
        let sign = first & signFlag != 0
        guard first & infinityFlag != 0 else { return (false, sign) }
        // Infinity is exactly 0xc0 followed by zeros.
        guard !sign, first & 0x1f == 0, bytes.dropFirst().allSatisfy({ $0 == 0 }) else { throw .malformedInfinity }
        return (true, false)
    }

    /// The 48 bytes of a coordinate with the three flag bits cleared.
    private static func withoutFlags(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var copy = Array(bytes)
        copy[0] &= 0x1f
        return copy[...]
    }

    /// Decodes a 48-byte compressed G1 point with every check the KZG precompile needs:
    /// compression flag, infinity encoding, x < p, on the curve, in the order-r subgroup.
    static func decodeG1(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> BLSG1Affine {
        guard bytes.count == 48 else { throw .wrongLength }
        let (infinity, sign) = try readFlags(bytes)
        if infinity { return .infinity }
        guard let x = BLSFp(bigEndian: withoutFlags(bytes)) else { throw .coordinateNotInField }
        guard var y = (x.squared() * x + BLSFp.curveB).squareRoot() else { throw .notOnCurve }
        if y.isLexicographicallyLargest != sign { y = -y }
        let point = BLSG1Affine(x: x, y: y)
        guard isInSubgroup(point) else { throw .notInSubgroup }
        return point
    }

    /// Decodes a 96-byte compressed G2 point (`x.c1 ‖ x.c0`, flags on the first byte) with the
    /// same checks as ``decodeG1(_:)``.
    static func decodeG2(_ bytes: ArraySlice<UInt8>) throws(DecodingError) -> BLSG2Affine {
        guard bytes.count == 96 else { throw .wrongLength }
        let (infinity, sign) = try readFlags(bytes)
        if infinity { return .infinity }
        let s = bytes.startIndex
        guard let x1 = BLSFp(bigEndian: withoutFlags(bytes[s ..< s + 48])),
              let x0 = BLSFp(bigEndian: bytes[s + 48 ..< s + 96])
        else { throw .coordinateNotInField }
        let x = BLSFp2(x0, x1)
        guard var y = (x.squared() * x + BLSFp2.curveB).squareRoot() else { throw .notOnCurve }
        if y.isLexicographicallyLargest != sign { y = -y }
        let point = BLSG2Affine(x: x, y: y)
        guard isInSubgroup(point) else { throw .notInSubgroup }
        return point
    }

    /// The 48-byte compressed encoding of a G1 point.
    static func encodeG1(_ point: BLSG1Affine) -> [UInt8] {
        if point.isInfinity { return [compressionFlag | infinityFlag] + [UInt8](repeating: 0, count: 47) }
        var bytes = point.x.bigEndianBytes
        bytes[0] |= compressionFlag | (point.y.isLexicographicallyLargest ? signFlag : 0)
        return bytes
    }

    /// The 96-byte compressed encoding of a G2 point.
    static func encodeG2(_ point: BLSG2Affine) -> [UInt8] {
        if point.isInfinity { return [compressionFlag | infinityFlag] + [UInt8](repeating: 0, count: 95) }
        var bytes = point.x.c1.bigEndianBytes + point.x.c0.bigEndianBytes
        bytes[0] |= compressionFlag | (point.y.isLexicographicallyLargest ? signFlag : 0)
        return bytes
    }

    /// Whether a point on the curve (G1 or the twist) has order dividing r, by the definition
    /// `r·P = O`: one 255-bit scalar multiplication, a fraction of a millisecond for G1.
    static func isInSubgroup<F>(_ point: AffinePoint<F>) -> Bool {
        point.isInfinity || JacobianPoint(point).multiplied(by: order).isInfinity
    }
}
