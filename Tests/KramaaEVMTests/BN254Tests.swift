import BigInt
import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// The 0x06–0x08 precompiles against public and generated vectors, their prices, and
/// every way an input can be invalid.
@Suite struct BN254PrecompileTests {
    static let g1 = "0000000000000000000000000000000000000000000000000000000000000001"
        + "0000000000000000000000000000000000000000000000000000000000000002"
    static let g2 = "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
        + "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
        + "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
        + "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
    static let p = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"
    static let word1 = "0000000000000000000000000000000000000000000000000000000000000001"
    static let word3 = "0000000000000000000000000000000000000000000000000000000000000003"

    @Test(arguments: BN254Vectors.gethAdd + BN254Vectors.generatedAdd)
    func add(vector: PrecompileVector) throws {
        let result = try #require(Precompiles.bn254Add(bytes(vector.input), 150))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == 150)
    }

    @Test(arguments: BN254Vectors.gethMul + BN254Vectors.generatedMul)
    func mul(vector: PrecompileVector) throws {
        let result = try #require(Precompiles.bn254Mul(bytes(vector.input), 6000))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == 6000)
    }

    @Test(arguments: BN254Vectors.gethPairing + BN254Vectors.generatedPairing)
    func pairing(vector: PrecompileVector) throws {
        let input = bytes(vector.input)
        let price = Int64(45000 + 34000 * (input.count / 192))
        let result = try #require(Precompiles.bn254Pairing(input, price))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == price)
    }

    @Test func pricesAreIstanbul() {
        #expect(Precompiles.bn254Add([], 149) == nil)
        #expect(Precompiles.bn254Mul([], 5999) == nil)
        #expect(Precompiles.bn254Pairing([], 44999) == nil)
        let twoPairs = bytes(Self.g1 + Self.g2 + Self.g1 + Self.g2)
        #expect(Precompiles.bn254Pairing(twoPairs, 112_999) == nil)
        #expect(Precompiles.bn254Pairing(twoPairs, 113_000)?.gasUsed == 113_000)
        #expect(Precompiles.bn254Add([], 1_000_000)?.gasUsed == 150)
    }

    @Test func g1CoordinateAtLeastPIsRejected() {
        // (p, 2) is (0, 2) reduced: still invalid, coordinates must be below p.
        #expect(run(Precompiles.bn254Add, bytes(Self.p + String(Self.g1.suffix(64)))) == nil)
        #expect(run(Precompiles.bn254Add, bytes(Self.g1 + String(Self.g1.prefix(64)) + Self.p)) == nil)
        #expect(run(Precompiles.bn254Mul, bytes(Self.p + String(Self.g1.suffix(64)) + Self.word1)) == nil)
        #expect(run(Precompiles.bn254Pairing, bytes(Self.p + String(Self.g1.suffix(64)) + Self.g2)) == nil)
        // y + p for the generator fits in 256 bits and is the same point modulo p.
        let yPlusP = (try! UInt256(hex: "0x" + Self.p)) &+ UInt256(2)
        #expect(run(Precompiles.bn254Add, bytes(String(Self.g1.prefix(64)) + hex(yPlusP.bigEndianBytes))) == nil)
    }

    @Test func g1NotOnCurveIsRejected() {
        let offCurve = Self.word1 + Self.word3
        #expect(run(Precompiles.bn254Add, bytes(offCurve + Self.g1)) == nil)
        #expect(run(Precompiles.bn254Add, bytes(Self.g1 + offCurve)) == nil)
        #expect(run(Precompiles.bn254Mul, bytes(offCurve + Self.word1)) == nil)
        // Multiplying by zero does not excuse an invalid point.
        #expect(run(Precompiles.bn254Mul, bytes(offCurve)) == nil)
        #expect(run(Precompiles.bn254Pairing, bytes(offCurve + Self.g2)) == nil)
        // (0, y) with y ≠ 0 is not infinity and not on the curve.
        #expect(run(Precompiles.bn254Add, bytes(String(repeating: "0", count: 64) + Self.word1)) == nil)
    }

    @Test func g2NotOnTwistIsRejected() {
        #expect(run(Precompiles.bn254Pairing, bytes(Self.g1 + BN254Vectors.g2OffTwist)) == nil)
        // Even paired with G1's infinity.
        #expect(run(Precompiles.bn254Pairing, bytes(String(repeating: "0", count: 128) + BN254Vectors.g2OffTwist)) == nil)
    }

    @Test func g2OutsideSubgroupIsRejected() {
        #expect(run(Precompiles.bn254Pairing, bytes(Self.g1 + BN254Vectors.g2NotInSubgroup)) == nil)
        #expect(run(Precompiles.bn254Pairing, bytes(String(repeating: "0", count: 128) + BN254Vectors.g2NotInSubgroup)) == nil)
        #expect(run(Precompiles.bn254Pairing, bytes(Self.g1 + Self.g2 + Self.g1 + BN254Vectors.g2NotInSubgroup)) == nil)
    }

    @Test func g2CoordinateAtLeastPIsRejected() {
        for index in 0..<4 {
            var words = (0..<4).map { i in String(Array(Self.g2)[(64 * i)..<(64 * i + 64)]) }
            words[index] = Self.p
            #expect(run(Precompiles.bn254Pairing, bytes(Self.g1 + words.joined())) == nil, "word \(index)")
        }
    }

    @Test func pairingLengthMustBeAMultipleOf192() {
        let pair = bytes(Self.g1 + Self.g2)
        #expect(run(Precompiles.bn254Pairing, Array(pair.dropLast())) == nil)
        #expect(run(Precompiles.bn254Pairing, pair + [0]) == nil)
        #expect(run(Precompiles.bn254Pairing, [0]) == nil)
    }

    @Test func shortAndLongInputsArePaddedOrCut() {
        // add: G + (nothing) = G; mul: G·(nothing) = infinity; extra bytes are ignored.
        #expect(run(Precompiles.bn254Add, bytes(Self.g1))?.output == bytes(Self.g1))
        #expect(run(Precompiles.bn254Mul, bytes(Self.g1))?.output == [UInt8](repeating: 0, count: 64))
        #expect(run(Precompiles.bn254Mul, bytes(Self.g1 + Self.word1) + [0xff, 0xff])?.output == bytes(Self.g1))
    }
}

/// The field tower and pairing internals, checked against independent arithmetic.
@Suite struct BN254InternalsTests {
    static let modulus = BigUInt("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", radix: 16)!
    static let order = BigUInt("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", radix: 16)!

    static func big(_ v: UInt256) -> BigUInt {
        BigUInt(words: [UInt(v[limb: 0]), UInt(v[limb: 1]), UInt(v[limb: 2]), UInt(v[limb: 3])])
    }

    static func randomFp(_ rng: inout SplitMix64) -> Fp {
        var v = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next() >> 2))
        while !(v < Fp.modulus) { v = v &- Fp.modulus }
        return Fp(canonical: v)!
    }

    static func randomFp12(_ rng: inout SplitMix64) -> Fp12 {
        func fp2() -> Fp2 { Fp2(randomFp(&rng), randomFp(&rng)) }
        func fp6() -> Fp6 { Fp6(fp2(), fp2(), fp2()) }
        return Fp12(fp6(), fp6())
    }

    @Test func fieldArithmeticMatchesBigInt() {
        var rng = SplitMix64(seed: 7)
        let edge: [Fp] = [.zero, .one, -Fp.one, Fp(2), -Fp(2)]
        for i in 0..<3000 {
            let a = i < edge.count ? edge[i] : Self.randomFp(&rng)
            let b = Self.randomFp(&rng)
            let A = Self.big(a.canonical), B = Self.big(b.canonical), P = Self.modulus
            #expect(Self.big((a * b).canonical) == A * B % P)
            #expect(Self.big((a + b).canonical) == (A + B) % P)
            #expect(Self.big((a - b).canonical) == (A + P - B) % P)
            #expect(Self.big(a.halved().canonical) == A * ((P + 1) / 2) % P)
            if !a.isZero { #expect(a * a.inverse() == .one) }
        }
    }

    @Test func towerInversesAndFrobenius() {
        var rng = SplitMix64(seed: 8)
        for _ in 0..<5 {
            let f = Self.randomFp12(&rng)
            #expect(f * f.inverse() == .one)
            #expect(f.squared() == f * f)
            #expect(f.c0 * f.c0.inverse() == .one)
            #expect(f.c0.squared() == f.c0 * f.c0)
            // Frobenius is the p-th power, and has order 12.
            let pBytes = Array(Self.modulus.serialize())
            #expect(f.frobenius() == f.power(bigEndian: pBytes))
            #expect(f.frobenius(12) == f)
        }
    }

    @Test func finalExponentiationIsThePowerByP12Minus1OverR() {
        var rng = SplitMix64(seed: 9)
        let f = Self.randomFp12(&rng)
        let p = Self.modulus
        let exponent = (p.power(12) - 1) / Self.order
        let naive = f.power(bigEndian: Array(exponent.serialize()))
        #expect(BN254Pairing.finalExponentiation(f) == naive)
    }

    @Test func millerLoopEndsAtInfinity() {
        // The ate loop leaves T = (6u+2)Q + π(Q) − π²(Q), which is −π³(Q) for Q in G2
        // (6u + 2 + p − p² + p³ ≡ 0 mod r).
        let q = BN254.g2Generator
        var t = BN254Pairing.ProjectiveG2(x: q.x, y: q.y, z: .one)
        for digit in BN254Pairing.loopDigits.dropFirst() {
            _ = BN254Pairing.doublingStep(&t)
            if digit != 0 { _ = BN254Pairing.additionStep(&t, digit > 0 ? q : -q) }
        }
        // Compare with the plain scalar multiple before the Frobenius steps.
        let sixUPlus2 = UInt256(limbs: (0x9d79_7039_be76_3ba8, 1, 0, 0))
        let expected = JacobianPoint(q).multiplied(by: sixUPlus2).affine
        let zInv = t.z.inverse()
        #expect(G2Affine(x: t.x * zInv, y: t.y * zInv) == expected)
        let q1 = BN254Pairing.twistFrobenius(q)
        let q2 = BN254Pairing.twistFrobenius(q1)
        _ = BN254Pairing.additionStep(&t, q1)
        _ = BN254Pairing.additionStep(&t, -q2)
        let q3 = BN254Pairing.twistFrobenius(q2)
        let tInv = t.z.inverse()
        #expect(G2Affine(x: t.x * tInv, y: t.y * tInv) == -q3)
    }

    @Test func pairingIsBilinearAndNonDegenerate() {
        let p = BN254.g1Generator, q = BN254.g2Generator
        let a = UInt256(0x1234_5678_9abc), b = UInt256(0xfedc_ba98_7654_3210)
        let ap = JacobianPoint(p).multiplied(by: a).affine
        let bq = JacobianPoint(q).multiplied(by: b).affine
        let base = BN254Pairing.pairing(p, q)
        #expect(!base.isOne)
        let ab = a.multipliedFullWidth(by: b).low
        var expected = Fp12.one
        // base^(a·b), by the 128-bit exponent's bytes.
        expected = base.power(bigEndian: ab.minimalBigEndianBytes)
        #expect(BN254Pairing.pairing(ap, bq) == expected)
        // e(P, Q)^r = 1.
        #expect(base.power(bigEndian: BN254.order.bigEndianBytes).isOne)
    }

    @Test func cyclotomicSquaringMatchesSquaring() {
        var rng = SplitMix64(seed: 10)
        for _ in 0..<3 {
            let f = Self.randomFp12(&rng)
            // The easy part of the final exponentiation lands in the cyclotomic subgroup.
            var t = f.conjugate * f.inverse()
            t = t.frobenius(2) * t
            #expect(t.cyclotomicSquared() == t.squared())
            #expect(t.cyclotomicPower(BN254Pairing.u) == t.power(BN254Pairing.u))
            #expect(t.cyclotomicPower(1) == t)
        }
    }

    /// A square root in Fp2 through the norm (p ≡ 3 mod 4), for making twist points.
    static func squareRoot(_ a: Fp2) -> Fp2? {
        if a.c1.isZero {
            if let r = a.c0.squareRoot() { return Fp2(r, .zero) }
            if let r = (-a.c0).squareRoot() { return Fp2(.zero, r) }
            return nil
        }
        guard let alpha = (a.c0.squared() + a.c1.squared()).squareRoot() else { return nil }
        for root in [alpha, -alpha] {
            guard let x0 = (a.c0 + root).halved().squareRoot(), !x0.isZero else { continue }
            let candidate = Fp2(x0, a.c1 * x0.doubled().inverse())
            if candidate.squared() == a { return candidate }
        }
        return nil
    }

    /// A random point of the twist E'(Fp2), almost surely outside G2.
    static func randomTwistPoint(_ rng: inout SplitMix64) -> G2Affine {
        while true {
            let x = Fp2(randomFp(&rng), randomFp(&rng))
            if let y = squareRoot(x.squared() * x + Fp2.curveB) { return G2Affine(x: x, y: y) }
        }
    }

    @Test func g2SubgroupTestMatchesTheDefinition() {
        var rng = SplitMix64(seed: 12)
        let g = JacobianPoint(BN254.g2Generator)
        for i in 0..<6 {
            // In G2: multiples of the generator.
            let k = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next() >> 3))
            let q = g.multiplied(by: k).affine
            #expect(BN254.isInG2Subgroup(q) && BN254.isInG2SubgroupByOrder(q), "multiple \(i)")
            // Outside: a random twist point, its cofactor-torsion part [r]R, and G2 + torsion.
            let r = Self.randomTwistPoint(&rng)
            #expect(r.isOnCurve)
            let torsion = JacobianPoint(r).multiplied(by: BN254.order)
            #expect(!torsion.isInfinity)
            let mixed = (JacobianPoint(q) + torsion).affine
            for (name, point) in [("random", r), ("torsion", torsion.affine), ("mixed", mixed)] {
                #expect(BN254.isInG2Subgroup(point) == BN254.isInG2SubgroupByOrder(point), "\(name) \(i)")
                #expect(!BN254.isInG2Subgroup(point), "\(name) \(i)")
            }
        }
    }

    @Test func generatorsAreValid() {
        #expect(BN254.g1Generator.isOnCurve)
        #expect(BN254.g2Generator.isOnCurve)
        #expect(BN254.isInG2Subgroup(BN254.g2Generator))
        #expect(Fp2.curveB * Fp2.xi == Fp2(Fp(3), .zero))
    }
}
