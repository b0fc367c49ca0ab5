import BigInt
import Testing
import KramaaPrimitives

/// Differential tests of UInt256 against attaswift/BigInt as an oracle.
@Suite struct UInt256PropertyTests {
    static let modulus = BigUInt(1) << 256
    static let iterations = 20_000

    /// A deterministic generator, so a failure replays from its seed.
    typealias SplitMix = SplitMix64

    /// Values built from limbs that exercise carries, normalisation and the rare correction
    /// steps of long division: zeros, ones, all-ones, top-bit patterns and random limbs,
    /// with a random number of significant limbs.
    static func value(_ rng: inout SplitMix) -> UInt256 {
        let special: [UInt64] = [0, 1, 2, .max, .max - 1, 1 << 63, (1 << 63) - 1, 1 << 32, 0xFFFF_FFFF]
        var v = UInt256.zero
        let significant = Int(rng.next() % 5)
        for i in 0..<significant {
            v[limb: i] = rng.next() % 3 == 0 ? special[Int(rng.next() % UInt64(special.count))] : rng.next()
        }
        if rng.next() % 8 == 0 { v = v << Int(rng.next() % 256) }
        return v
    }

    static func big(_ v: UInt256) -> BigUInt {
        BigUInt(words: [UInt(v[limb: 0]), UInt(v[limb: 1]), UInt(v[limb: 2]), UInt(v[limb: 3])])
    }

    static func signed(_ v: UInt256) -> BigInt {
        v.isNegative ? BigInt(big(v)) - BigInt(modulus) : BigInt(big(v))
    }

    static func word(_ b: BigUInt) -> UInt256 {
        let r = b % modulus
        var v = UInt256.zero
        for (i, w) in r.words.prefix(4).enumerated() { v[limb: i] = UInt64(w) }
        return v
    }

    static func word(_ b: BigInt) -> UInt256 {
        b.sign == .minus ? word(modulus - (b.magnitude % modulus)) : word(b.magnitude)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func arithmeticMatchesBigInt(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        for _ in 0..<Self.iterations {
            let a = Self.value(&rng), b = Self.value(&rng), m = Self.value(&rng)
            let A = Self.big(a), B = Self.big(b), M = Self.big(m)
            #expect(a &+ b == Self.word(A + B), "add \(a) \(b)")
            #expect(a &- b == Self.word(A + Self.modulus - B), "sub \(a) \(b)")
            #expect(a &* b == Self.word(A * B), "mul \(a) \(b)")
            let full = a.multipliedFullWidth(by: b)
            #expect(Self.big(full.high) * Self.modulus + Self.big(full.low) == A * B, "mulFull \(a) \(b)")
            #expect(a.div(b) == (b.isZero ? .zero : Self.word(A / B)), "div \(a) \(b)")
            #expect(a.mod(b) == (b.isZero ? .zero : Self.word(A % B)), "mod \(a) \(b)")
            #expect(a.addmod(b, m) == (m.isZero ? .zero : Self.word((A + B) % M)), "addmod \(a) \(b) \(m)")
            #expect(a.mulmod(b, m) == (m.isZero ? .zero : Self.word((A * B) % M)), "mulmod \(a) \(b) \(m)")
            #expect((a < b) == (A < B))
            #expect((a == b) == (A == B))
        }
    }

    @Test(arguments: [UInt64(5), 6])
    func signedArithmeticMatchesBigInt(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        for _ in 0..<Self.iterations {
            let a = Self.value(&rng), b = Self.value(&rng)
            let A = Self.signed(a), B = Self.signed(b)
            // BigInt's / and % truncate toward zero, as SDIV and SMOD do.
            #expect(a.sdiv(b) == (b.isZero ? .zero : Self.word(A / B)), "sdiv \(a) \(b)")
            #expect(a.smod(b) == (b.isZero ? .zero : Self.word(A % B)), "smod \(a) \(b)")
            #expect(a.signedLessThan(b) == (A < B), "slt \(a) \(b)")
            #expect(a.signedGreaterThan(b) == (A > B), "sgt \(a) \(b)")
        }
    }

    @Test func signedDivisionEdgeCases() {
        let minusOne = UInt256.max
        #expect(UInt256.signBit.sdiv(minusOne) == .signBit)
        #expect(UInt256.signBit.smod(minusOne) == .zero)
        #expect(UInt256(7).sdiv(minusOne) == UInt256(7).negated)
        #expect(UInt256(7).negated.smod(3) == UInt256(1).negated)
    }

    @Test(arguments: [UInt64(7), 8])
    func shiftsBytesAndExtensionMatchBigInt(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        for _ in 0..<Self.iterations {
            let a = Self.value(&rng)
            let A = Self.big(a)
            let n = Int(rng.next() % 300)
            let shift = rng.next() % 16 == 0 ? Self.value(&rng) : UInt256(UInt64(n))
            let s = Self.big(shift)
            let sInt = s < 300 ? Int(s) : 300
            #expect(shift.shl(a) == (sInt >= 256 ? .zero : Self.word(A << sInt)), "shl \(a) \(shift)")
            #expect(shift.shr(a) == (sInt >= 256 ? .zero : Self.word(A >> sInt)), "shr \(a) \(shift)")
            // Arithmetic shift rounds toward minus infinity; BigInt's >> truncates the
            // magnitude, so shift the one's complement for negative values.
            let signedA = Self.signed(a), k256 = Swift.min(sInt, 256)
            let sar = signedA.sign == .minus ? -((-signedA - 1) >> k256) - 1 : signedA >> k256
            #expect(shift.sar(a) == Self.word(sar), "sar \(a) \(shift)")
            let i = UInt256(UInt64(n % 40))
            let expectedByte = n % 40 < 32 ? Self.word((A >> ((31 - n % 40) * 8)) & 0xff) : .zero
            #expect(i.byte(of: a) == expectedByte, "byte \(n % 40) of \(a)")
            // SIGNEXTEND, from its definition: bit t = 8k+7 decides the bits above it.
            let k = n % 40
            let expectedExt: UInt256
            if k >= 31 {
                expectedExt = a
            } else {
                let t = 8 * k + 7
                let low = A & ((BigUInt(1) << (t + 1)) - 1)
                expectedExt = (A >> t) & 1 == 1 ? Self.word(low + (Self.modulus - (BigUInt(1) << (t + 1)))) : Self.word(low)
            }
            #expect(UInt256(UInt64(k)).signExtend(a) == expectedExt, "signextend \(k) \(a)")
        }
    }

    @Test(arguments: [UInt64(9)])
    func exponentiationMatchesBigInt(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        for _ in 0..<2_000 {
            let a = Self.value(&rng)
            let e = rng.next() % 4 == 0 ? UInt256(rng.next() % 300) : Self.value(&rng)
            #expect(a.power(e) == Self.word(Self.big(a).power(Self.big(e), modulus: Self.modulus)), "exp \(a) \(e)")
        }
    }

    @Test(arguments: [UInt64(10)])
    func conversionsRoundTrip(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        for _ in 0..<5_000 {
            let a = Self.value(&rng)
            let A = Self.big(a)
            #expect(a.description == String(A))
            #expect(try UInt256(decimal: a.description) == a)
            #expect(a.hexQuantity == "0x" + String(A, radix: 16))
            #expect(try UInt256(hex: a.hexQuantity) == a)
            #expect(try UInt256(bigEndianBytes: a.bigEndianBytes) == a)
            #expect(try UInt256(bigEndianBytes: a.minimalBigEndianBytes) == a)
            #expect(a.minimalBigEndianBytes.count == a.byteWidthUsed)
            #expect(UInt256(a.bytes32) == a)
        }
    }
}
