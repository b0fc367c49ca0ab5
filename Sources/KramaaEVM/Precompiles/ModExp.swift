import KramaaPrimitives

extension Precompiles {
    /// 0x05 (EIP-198, priced by EIP-2565): `base^exp mod mod` on big-endian integers of any
    /// length. Input: `baseLength ‖ expLength ‖ modLength` (32-byte words) then the three
    /// numbers, zero-padded past the end of the input. Output: the result left-padded to
    /// `modLength` bytes (zeros for a zero modulus, empty for `modLength = 0`).
    ///
    /// The price is computed from the declared lengths without reading or allocating the
    /// numbers, so absurd lengths cost (and fail) before any work.
    @Sendable
    public static func modexp(_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])? {
        let price = modexpGas(input)
        guard price <= UInt64(max(gas, 0)) else { return nil }
        let used = Int64(price)

        let header = lengthWords(input)
        // Paying the price bounds the lengths (a 2³⁴-byte operand alone costs 2⁶²/3 gas),
        // except when base and modulus are both empty: then the exponent's length is free,
        // and nothing is read.
        if header.base.isZero && header.modulus.isZero { return (used, []) }
        guard let baseLength = header.base.uint64Value.flatMap(Int.init(exactly:)),
              let expLength = header.exponent.uint64Value.flatMap(Int.init(exactly:)),
              let modLength = header.modulus.uint64Value.flatMap(Int.init(exactly:)),
              baseLength <= 1 << 34, modLength <= 1 << 34, expLength <= Int.max / 2
        else {
            // Only reachable with more than 2⁶¹ gas (a 2³⁴-byte operand costs 2⁶²/3):
            // refuse rather than allocate that much.
            return nil
        }
        if modLength == 0 { return (used, []) }

        let baseStart = 96
        let expStart = baseStart + baseLength
        let modStart = expStart + expLength
        let base = paddedSlice(input, from: baseStart, length: baseLength)
        let modulus = paddedSlice(input, from: modStart, length: modLength)
        // The exponent's bytes past the input are zeros: pass only their count.
        let presentEnd = min(max(input.count, expStart), expStart + expLength)
        let exponent = expStart < input.count ? input[expStart ..< presentEnd] : []
        let output = ModularExponentiation.power(
            base: base, exponent: exponent, exponentTrailingZeroBytes: expLength - exponent.count, modulus: modulus)
        return (used, output)
    }

    /// The EIP-2565 price: `max(200, ⌈max(baseLength, modLength)/8⌉² · max(iterations, 1) / 3)`,
    /// where `iterations` is the bit length of the exponent's first 32 bytes minus one,
    /// plus 8 for every exponent byte beyond 32. Saturates at `UInt64.max`.
    public static func modexpGas(_ input: [UInt8]) -> UInt64 {
        let header = lengthWords(input)
        let longest = max(header.base, header.modulus)
        if longest.isZero { return 200 }
        // A length beyond 64 bits gives a complexity of at least 2¹²² / 3: unaffordable.
        guard let x = longest.uint64Value else { return .max }
        let words = UInt256(x / 8 + (x % 8 == 0 ? 0 : 1))
        let complexity = words &* words

        // The exponent's first min(32, expLength) bytes, as a number.
        var head = UInt256.zero
        let expHeadLength = header.exponent < UInt256(32) ? Int(header.exponent.low64) : 32
        if let baseLength = header.base.uint64Value, baseLength < UInt64(Int.max - 96 - 32) {
            let start = 96 + Int(baseLength)
            let bytes = paddedSlice(input, from: start, length: expHeadLength)
            head = bytes.withUnsafeBytes { UInt256(bigEndian: $0) }
        }
        let headBits = UInt256(UInt64(max(head.bitWidthUsed - 1, 0)))
        var iterations = headBits
        if header.exponent > UInt256(32) {
            let extra = header.exponent &- UInt256(32)
            // 8·extra overflows only for lengths no input could pay for.
            guard extra.bitWidthUsed <= 64 else { return .max }
            iterations = UInt256(8).multipliedFullWidth(by: extra).low &+ headBits
        }
        if iterations.isZero { iterations = UInt256(1) }
        let product = complexity.multipliedFullWidth(by: iterations)
        guard product.high.isZero else { return .max }
        let gas = product.low / UInt256(3)
        guard let price = gas.uint64Value else { return .max }
        return max(price, 200)
    }

    /// The three length words of a modexp input.
    static func lengthWords(_ input: [UInt8]) -> (base: UInt256, exponent: UInt256, modulus: UInt256) {
        let header = paddedSlice(input, from: 0, length: 96)
        return header.withUnsafeBytes { raw in
            (UInt256(bigEndian: UnsafeRawBufferPointer(rebasing: raw[0..<32])),
             UInt256(bigEndian: UnsafeRawBufferPointer(rebasing: raw[32..<64])),
             UInt256(bigEndian: UnsafeRawBufferPointer(rebasing: raw[64..<96])))
        }
    }

    /// `length` bytes of `input` from `start`, with zeros where the input has ended.
    static func paddedSlice(_ input: [UInt8], from start: Int, length: Int) -> ArraySlice<UInt8> {
        if start + length <= input.count { return input[start ..< start + length] }
        var out = [UInt8](repeating: 0, count: length)
        if start < input.count {
            for i in start ..< input.count { out[i - start] = input[i] }
        }
        return out[...]
    }
}
