import BigInt
import Foundation
import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// BLS12-381 as the KZG point evaluation precompile (0x0a) uses it: the field against BigInt,
/// the encodings, the pairing's bilinearity, and the precompile on proofs that can be made
/// without the ceremony's secret (constant polynomials) and on every kind of invalid input.
/// tests/python/test_point_evaluation.py checks it against c-kzg with the real setup.
@Suite struct BLS12381Tests {
    static let p = BigUInt("1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", radix: 16)!
    static let r = BigUInt("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", radix: 16)!

    static func bigEndian48(_ value: BigUInt) -> [UInt8] {
        let bytes = [UInt8](value.serialize())
        return [UInt8](repeating: 0, count: 48 - bytes.count) + bytes
    }

    static func element(_ value: BigUInt) -> BLSFp { BLSFp(bigEndian: bigEndian48(value)[...])! }
    static func integer(_ element: BLSFp) -> BigUInt { BigUInt(Data(element.bigEndianBytes)) }

    static func scalar(_ rng: inout SplitMix64) -> UInt256 {
        UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next() & 0x3fff_ffff_ffff_ffff))
    }

    static func g1(_ k: UInt256) -> BLSG1Affine { JacobianPoint(BLS12381.g1Generator).multiplied(by: k).affine }
    static func g2(_ k: UInt256) -> BLSG2Affine { JacobianPoint(BLS12381.g2Generator).multiplied(by: k).affine }

    @Test func fieldArithmeticAgreesWithBigIntegers() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let a = BigUInt(Data((0..<48).map { _ in UInt8.random(in: 0...255, using: &rng) })) % Self.p
            let b = BigUInt(Data((0..<48).map { _ in UInt8.random(in: 0...255, using: &rng) })) % Self.p
            let x = Self.element(a), y = Self.element(b)
            #expect(Self.integer(x * y) == a * b % Self.p)
            #expect(Self.integer(x + y) == (a + b) % Self.p)
            #expect(Self.integer(x - y) == (a + Self.p - b) % Self.p)
            if a != 0 { #expect(Self.integer(x.inverse()) == a.inverse(Self.p)) }
            let square = x.squared()
            let root = square.squareRoot()
            #expect(root.map { $0 == x || $0 == -x } == true)
        }
        #expect(BLSFp(bigEndian: Self.bigEndian48(Self.p)[...]) == nil, "p itself is not a field element")
    }

    @Test func generatorsDecodeOntoTheCurveAndEncodeBack() throws {
        let g1 = BLS12381.g1Generator, g2 = BLS12381.g2Generator
        #expect(g1.isOnCurve && g2.isOnCurve && BLS12381.setupG2.isOnCurve)
        #expect(hex(BLS12381.encodeG1(g1)) == "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb")
        #expect(hex(BLS12381.encodeG2(g2)).hasPrefix("93e02b6052719f607dacd3a088274f65"))
        var rng = SplitMix64(seed: 11)
        for _ in 0..<8 {
            let p = Self.g1(Self.scalar(&rng)), q = Self.g2(Self.scalar(&rng))
            #expect(try BLS12381.decodeG1(BLS12381.encodeG1(p)[...]) == p)
            #expect(try BLS12381.decodeG2(BLS12381.encodeG2(q)[...]) == q)
            #expect(try BLS12381.decodeG1(BLS12381.encodeG1(-p)[...]) == -p, "the sign bit picks y or −y")
        }
        #expect(JacobianPoint(g1).multiplied(by: BLS12381.order).isInfinity)
    }

    @Test func thePairingIsBilinearAndNonDegenerate() {
        var rng = SplitMix64(seed: 5)
        let base = BLS12381Pairing.pairing(BLS12381.g1Generator, BLS12381.g2Generator)
        #expect(!base.isOne)
        for _ in 0..<2 {
            let a = Self.scalar(&rng), b = Self.scalar(&rng)
            let product = try! UInt256(bigEndianBytes: (BigUInt(Data(a.bigEndianBytes)) * BigUInt(Data(b.bigEndianBytes)) % Self.r).serialize())
            let left = BLS12381Pairing.pairing(Self.g1(a), Self.g2(b))
            #expect(left == BLS12381Pairing.pairing(Self.g1(product), BLS12381.g2Generator))
            #expect(left == BLS12381Pairing.pairing(BLS12381.g1Generator, Self.g2(product)))
            #expect(BLS12381Pairing.check([(Self.g1(a), Self.g2(b)), (-Self.g1(product), BLS12381.g2Generator)]))
            #expect(!BLS12381Pairing.check([(Self.g1(a), Self.g2(b)), (Self.g1(product), BLS12381.g2Generator)]))
        }
    }

    // MARK: - The precompile

    /// `versioned_hash ‖ z ‖ y ‖ commitment ‖ proof`.
    static func input(commitment: [UInt8], z: UInt256, y: UInt256, proof: [UInt8], hash: [UInt8]? = nil) -> [UInt8] {
        (hash ?? Precompiles.kzgVersionedHash(commitment[...])) + z.bigEndianBytes + y.bigEndianBytes + commitment + proof
    }

    static let infinity: [UInt8] = [0xc0] + [UInt8](repeating: 0, count: 47)

    /// A constant polynomial c: its commitment is [c]G1, its value c everywhere, its quotient
    /// zero (the proof is the point at infinity), whatever the setup.
    @Test func aConstantPolynomialsProofVerifiesAtEveryPoint() throws {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<3 {
            let c = Self.scalar(&rng), z = Self.scalar(&rng)
            let commitment = BLS12381.encodeG1(Self.g1(c))
            let valid = Self.input(commitment: commitment, z: z, y: c, proof: Self.infinity)
            let result = try #require(Precompiles.pointEvaluation(valid, 60_000))
            #expect(result.gasUsed == 50_000)
            #expect(hex(result.output) == "0000000000000000000000000000000000000000000000000000000000001000"
                    + "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
            #expect(Precompiles.pointEvaluation(valid, 49_999) == nil, "50,000 gas")
            #expect(throws: PointEvaluationError.proofRejected) {
                try Precompiles.verifyPointEvaluation(Self.input(commitment: commitment, z: z, y: c &+ UInt256(1), proof: Self.infinity))
            }
            #expect(throws: PointEvaluationError.proofRejected) {
                try Precompiles.verifyPointEvaluation(Self.input(commitment: commitment, z: z, y: c, proof: BLS12381.encodeG1(BLS12381.g1Generator)))
            }
        }
    }

    @Test func everyMalformedInputIsRefused() throws {
        let c = UInt256(42)
        let commitment = BLS12381.encodeG1(Self.g1(c))
        let valid = Self.input(commitment: commitment, z: UInt256(9), y: c, proof: Self.infinity)
        #expect(throws: Never.self) { try Precompiles.verifyPointEvaluation(valid) }
        #expect(throws: PointEvaluationError.wrongInputLength(191)) { try Precompiles.verifyPointEvaluation(Array(valid.dropLast())) }
        #expect(throws: PointEvaluationError.wrongInputLength(193)) { try Precompiles.verifyPointEvaluation(valid + [0]) }
        var hash = valid
        hash[0] = 0x02
        #expect(throws: PointEvaluationError.versionedHashMismatch) { try Precompiles.verifyPointEvaluation(hash) }
        let order = BLS12381.order
        #expect(throws: PointEvaluationError.fieldElementOutOfRange) {
            try Precompiles.verifyPointEvaluation(Self.input(commitment: commitment, z: order, y: c, proof: Self.infinity))
        }
        #expect(throws: PointEvaluationError.fieldElementOutOfRange) {
            try Precompiles.verifyPointEvaluation(Self.input(commitment: commitment, z: UInt256(9), y: c &+ order, proof: Self.infinity))
        }
        // The same commitment uncompressed-flagged, with a stray infinity, an x of p, an x off the curve.
        func refusal(_ bytes: [UInt8]) -> PointEvaluationError? {
            do { try Precompiles.verifyPointEvaluation(Self.input(commitment: bytes, z: UInt256(9), y: c, proof: Self.infinity)); return nil } catch { return error }
        }
        var flag = commitment
        flag[0] &= 0x7f
        #expect(refusal(flag) == .invalidCommitment(.notCompressed))
        #expect(refusal([0xc0] + [UInt8](repeating: 0, count: 46) + [1]) == .invalidCommitment(.malformedInfinity))
        #expect(refusal([0xe0] + [UInt8](repeating: 0, count: 47)) == .invalidCommitment(.malformedInfinity))
        var atP = Self.bigEndian48(Self.p)
        atP[0] |= 0x80
        #expect(refusal(atP) == .invalidCommitment(.coordinateNotInField))
        // x values whose x³ + 4 is not a square, and x values on the curve outside the subgroup.
        var offCurve: [UInt8]?, outsideSubgroup: [UInt8]?
        for x in 1..<200 where offCurve == nil || outsideSubgroup == nil {
            let fx = BLSFp(UInt64(x))
            var bytes = Self.bigEndian48(BigUInt(x))
            bytes[0] |= 0x80
            if (fx.squared() * fx + BLSFp.curveB).squareRoot() == nil { offCurve = offCurve ?? bytes } else { outsideSubgroup = outsideSubgroup ?? bytes }
        }
        #expect(refusal(try #require(offCurve)) == .invalidCommitment(.notOnCurve))
        #expect(refusal(try #require(outsideSubgroup)) == .invalidCommitment(.notInSubgroup))
        // The same checks apply to the proof.
        #expect(throws: PointEvaluationError.invalidProof(.notInSubgroup)) {
            try Precompiles.verifyPointEvaluation(Self.input(commitment: commitment, z: UInt256(9), y: c, proof: outsideSubgroup!))
        }
    }
}
