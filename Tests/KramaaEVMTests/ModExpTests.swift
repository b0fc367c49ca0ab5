import BigInt
import Foundation
import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// 0x05 modexp: known answers with EIP-2565 prices, pricing of absurd lengths, and the
/// bignum exponentiation against two independent references.
@Suite struct ModExpPrecompileTests {
    @Test(arguments: ModExpVectors.all)
    func knownAnswers(vector: ModExpVector) throws {
        let input = bytes(vector.input)
        #expect(Precompiles.modexpGas(input) == UInt64(vector.gas))
        let result = try #require(Precompiles.modexp(input, vector.gas))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == vector.gas)
        #expect(Precompiles.modexp(input, vector.gas - 1) == nil)
    }

    /// A header with the three given lengths, followed by `body`.
    static func header(_ base: UInt256, _ exp: UInt256, _ mod: UInt256, body: [UInt8] = []) -> [UInt8] {
        base.bigEndianBytes + exp.bigEndianBytes + mod.bigEndianBytes + body
    }

    @Test func hugeLengthsArePricedWithoutAllocating() {
        // 2²⁵⁵-byte modulus or base: unaffordable, failing fast.
        let huge = UInt256.one << 255
        #expect(Precompiles.modexpGas(Self.header(huge, 1, 1)) == .max)
        #expect(Precompiles.modexpGas(Self.header(1, 1, huge)) == .max)
        #expect(Precompiles.modexp(Self.header(1, 1, huge), .max) == nil)
        #expect(Precompiles.modexp(Self.header(.max, .max, .max), .max) == nil)
        // A huge exponent with a one-byte modulus: 8·(2²⁵⁵ − 32) iterations.
        #expect(Precompiles.modexpGas(Self.header(1, huge, 1)) == .max)
        #expect(Precompiles.modexp(Self.header(1, huge, 1), 30_000_000) == nil)
        // With base and modulus empty the exponent's length costs nothing (the minimum
        // 200) and nothing is read: the output is empty.
        #expect(Precompiles.modexpGas(Self.header(0, huge, 0)) == 200)
        let free = Precompiles.modexp(Self.header(0, .max, 0), 200)
        #expect(free?.output == [] && free?.gasUsed == 200)
        // Lengths just past what 64-bit arithmetic could square.
        #expect(Precompiles.modexpGas(Self.header(UInt256(1) << 64, 0, 0)) == .max)
        #expect(Precompiles.modexpGas(Self.header(UInt256(1) << 40, 0, 0)) == .max)
        // 2³⁴ bytes: ⌈x/8⌉² / 3 = 2⁶² / 3 still fits, and is priced exactly.
        #expect(Precompiles.modexpGas(Self.header(UInt256(1) << 34, 0, 0)) == (1 << 62) / 3)
    }

    @Test func priceFollowsEIP2565() {
        // mult_complexity = ⌈max(base, mod)/8⌉², iterations from the exponent head.
        // 64-byte operands, exponent 0x10001 (bit length 17): 64 · 16 / 3 = 341.
        let body = [UInt8](repeating: 0xff, count: 64) + [1, 0, 1] + [UInt8](repeating: 0xff, count: 64)
        #expect(Precompiles.modexpGas(Self.header(64, 3, 64, body: body)) == 341)
        // Exponent of 40 bytes whose head is 1: 8·8 + 0 iterations, 1-byte operands → 200.
        #expect(Precompiles.modexpGas(Self.header(1, 40, 1, body: [2] + [UInt8](repeating: 0, count: 31) + [1])) == 200)
        // 256-byte operands: 32² = 1024; exponent of 64 bytes with head 2²⁵⁵:
        // 8·32 + 255 = 511 iterations → 1024 · 511 / 3 = 174421.
        let head = [0x80] + [UInt8](repeating: 0, count: 31)
        let input = Self.header(256, 64, 256, body: [UInt8](repeating: 1, count: 256) + head)
        #expect(Precompiles.modexpGas(input) == 174_421)
        // The exponent head read past the end of the input is zero.
        #expect(Precompiles.modexpGas(Self.header(256, 64, 256)) == 1024 * 256 / 3)
        // Base length beyond the input: the head is zero, whatever follows.
        #expect(Precompiles.modexpGas(Self.header(UInt256(1) << 200, 1, 0)) == .max)
    }

    @Test func largeOperandsWork() throws {
        // 512-byte base and modulus (odd and even) with a 32-byte exponent, against BigInt.
        var rng = SplitMix64(seed: 11)
        for even in [false, true] {
            var mod = (0..<512).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            mod[0] |= 0x80
            mod[511] = even ? mod[511] & 0xfe : mod[511] | 1
            let base = (0..<512).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let exp = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let input = Self.header(512, 32, 512, body: base + exp + mod)
            let result = try #require(Precompiles.modexp(input, .max))
            let expected = BigUInt(Data(base)).power(BigUInt(Data(exp)), modulus: BigUInt(Data(mod)))
            #expect(BigUInt(Data(result.output)) == expected)
            #expect(result.output.count == 512)
        }
    }
}

/// The bignum exponentiation: random operands against UInt256 (up to 256 bits) and BigInt.
@Suite struct ModularExponentiationPropertyTests {
    static func bytes(_ value: UInt256, length: Int) -> ArraySlice<UInt8> {
        value.bigEndianBytes.suffix(length)[...]
    }

    /// Square-and-multiply with UInt256 mulmod: a simple, independent reference.
    static func reference(_ base: UInt256, _ exp: UInt256, _ mod: UInt256) -> UInt256 {
        if mod.isZero { return .zero }
        var result = UInt256.one.mod(mod)
        var b = base.mod(mod)
        for i in 0..<exp.bitWidthUsed {
            if (exp[limb: i / 64] >> UInt64(i % 64)) & 1 == 1 { result = result.mulmod(b, mod) }
            b = b.mulmod(b, mod)
        }
        return result
    }

    static func random(_ rng: inout SplitMix64) -> UInt256 {
        var v = UInt256(limbs: (rng.next(), rng.next(), rng.next(), rng.next()))
        // Vary the size, and sometimes use special limbs.
        v = v >> Int(rng.next() % 256)
        if rng.next() % 8 == 0 { v = UInt256(rng.next() % 4) }
        return v
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func matchesUInt256Reference(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<1500 {
            let b = Self.random(&rng), e = Self.random(&rng), m = Self.random(&rng)
            let out = ModularExponentiation.power(base: Self.bytes(b, length: 32), exponent: Self.bytes(e, length: 32),
                                                  modulus: Self.bytes(m, length: 32))
            let got = out.withUnsafeBytes { UInt256(bigEndian: $0) }
            #expect(got == Self.reference(b, e, m), "\(b)^\(e) mod \(m)")
        }
    }

    @Test func singleLimbModuliNearTwoToThe64() {
        // The one-limb Montgomery path needs a 65th bit for moduli of 2⁶³ and above.
        var rng = SplitMix64(seed: 6)
        let moduli: [UInt64] = [.max, .max - 58, (1 << 63) + 1, (1 << 63) - 1, 3, 0xffff_ffff_0000_0001]
        for m in moduli {
            for _ in 0..<200 {
                let b = UInt256(rng.next()), e = UInt256(limbs: (rng.next(), rng.next() % 4, 0, 0))
                let out = ModularExponentiation.power(base: Self.bytes(b, length: 8), exponent: Self.bytes(e, length: 16),
                                                      modulus: Self.bytes(UInt256(m), length: 8))
                let got = out.withUnsafeBytes { UInt256(bigEndian: $0) }
                #expect(got == Self.reference(b, e, UInt256(m)), "\(b)^\(e) mod \(m)")
            }
        }
    }

    @Test func smallValues() {
        // Every base, exponent and modulus below 12, one byte each.
        for m in 0..<12 {
            for b in 0..<12 {
                for e in 0..<12 {
                    let out = ModularExponentiation.power(base: [UInt8(b)], exponent: [UInt8(e)], modulus: [UInt8(m)])
                    var expected = 0
                    if m > 0 {
                        expected = 1 % m
                        for _ in 0..<e { expected = expected * b % m }
                    }
                    #expect(out == [UInt8(expected)], "\(b)^\(e) mod \(m)")
                }
            }
        }
    }

    @Test func trailingZeroBytesOfTheExponent() {
        // b^(e·256^k) = (b^e)^(256^k): missing input bytes are exponent zeros.
        let b: [UInt8] = [7], e: [UInt8] = [3], m: [UInt8] = [0, 0xfb]  // 251, with a leading zero
        let implicit = ModularExponentiation.power(base: b[...], exponent: e[...], exponentTrailingZeroBytes: 2, modulus: m[...])
        let explicit = ModularExponentiation.power(base: b[...], exponent: [3, 0, 0], modulus: m[...])
        #expect(implicit == explicit)
        #expect(implicit.count == 2)
    }

    @Test(arguments: [UInt64(4), 5])
    func matchesBigIntOnLongOperands(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<40 {
            let lengths = [Int(rng.next() % 160) + 1, Int(rng.next() % 40) + 1, Int(rng.next() % 160) + 1]
            let operands = lengths.map { n in (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            var mod = operands[2]
            if rng.next() % 2 == 0 { mod[mod.count - 1] |= 1 } else { mod[mod.count - 1] &= 0xfe }
            // Some moduli with zero top bytes, some a single limb.
            if rng.next() % 4 == 0 { for i in 0..<min(mod.count - 1, 9) { mod[i] = 0 } }
            let out = ModularExponentiation.power(base: operands[0][...], exponent: operands[1][...], modulus: mod[...])
            let M = BigUInt(Data(mod))
            let expected = M.isZero ? BigUInt(0) : BigUInt(Data(operands[0])).power(BigUInt(Data(operands[1])), modulus: M)
            #expect(out.count == mod.count)
            #expect(BigUInt(Data(out)) == expected, "lengths \(lengths)")
        }
    }
}
