/// A growing string of bits, written most significant bit first, as the Digital Link compression format
/// builds it before writing it as base64url characters.
struct BitWriter {
    private(set) var bits: [Bool] = []

    init() {
        bits.reserveCapacity(256)
    }

    /// Appends the low `count` bits of `value`, most significant first.
    mutating func write(_ value: Int, bits count: Int) {
        var shift = count - 1
        while shift >= 0 {
            bits.append(shift < Int.bitWidth && (value >> shift) & 1 == 1)
            shift -= 1
        }
    }

    mutating func append(_ other: [Bool]) {
        bits.append(contentsOf: other)
    }

    /// The bits as base64url characters, zero-padded to a whole number of characters.
    var base64URL: String {
        var out: [UInt8] = []
        out.reserveCapacity((bits.count + 5) / 6)
        var index = 0
        while index < bits.count {
            var value = 0
            for offset in 0..<6 {
                value <<= 1
                if index + offset < bits.count, bits[index + offset] { value |= 1 }
            }
            out.append(DigitalLinkCompressionTables.base64URL[value])
            index += 6
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Reads the bits of a base64url segment in order; every read checks that the bits are there.
struct BitReader {
    private let bits: [Bool]
    private(set) var position = 0

    /// Decodes `segment`; throws at the first character outside the base64url alphabet.
    init(base64URL segment: Substring) throws(GS1Error.CompressionProblem) {
        var bits: [Bool] = []
        bits.reserveCapacity(segment.utf8.count * 6)
        for character in segment.unicodeScalars {
            let value = character.isASCII ? Int(DigitalLinkCompressionTables.base64URLValues[Int(character.value)]) : -1
            guard value >= 0 else {
                throw .invalidCharacter(Character(character))
            }
            for shift in (0..<6).reversed() { bits.append((value >> shift) & 1 == 1) }
        }
        self.bits = bits
    }

    var remaining: Int { bits.count - position }

    /// Whether every bit not yet read is zero.
    var restIsZero: Bool { !bits[position...].contains(true) }

    /// Reads `count` (at most 62) bits as an unsigned number.
    mutating func read(bits count: Int) throws(GS1Error.CompressionProblem) -> Int {
        guard count <= remaining else { throw .truncated }
        var value = 0
        for bit in bits[position..<(position + count)] { value = value << 1 | (bit ? 1 : 0) }
        position += count
        return value
    }

    /// Reads `count` bits as they are.
    mutating func take(bits count: Int) throws(GS1Error.CompressionProblem) -> ArraySlice<Bool> {
        guard count <= remaining else { throw .truncated }
        defer { position += count }
        return bits[position..<(position + count)]
    }
}

/// Decimal digit strings of any length as binary numbers of a given width (values of up to 90 digits
/// exceed every fixed-width integer type), using 32-bit limbs, least significant first.
enum DecimalBits {
    /// The bits of the number written by `digits` (ASCII digits), `width` bits wide; nil if a byte is
    /// not a digit or the number does not fit.
    static func bits(ofDigits digits: some Collection<UInt8>, width: Int) -> [Bool]? {
        var limbs: [UInt32] = [0]
        for digit in digits {
            guard digit >= 0x30, digit <= 0x39 else { return nil }
            var carry = UInt64(digit - 0x30)
            for index in limbs.indices {
                let product = UInt64(limbs[index]) * 10 + carry
                limbs[index] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            if carry > 0 { limbs.append(UInt32(carry)) }
        }
        var out = [Bool](repeating: false, count: width)
        for bit in 0..<(limbs.count * 32) where limbs[bit / 32] >> UInt32(bit % 32) & 1 == 1 {
            guard bit < width else { return nil }
            out[width - 1 - bit] = true
        }
        return out
    }

    /// The number in `bits` as exactly `digitCount` decimal digits (leading zeros kept); nil if it has more.
    static func digits(of bits: ArraySlice<Bool>, digitCount: Int) -> String? {
        var limbs: [UInt32] = [0]
        for bit in bits {
            var carry: UInt64 = bit ? 1 : 0
            for index in limbs.indices {
                let doubled = UInt64(limbs[index]) << 1 | carry
                limbs[index] = UInt32(truncatingIfNeeded: doubled)
                carry = doubled >> 32
            }
            if carry > 0 { limbs.append(UInt32(carry)) }
        }
        var out = [UInt8](repeating: 0x30, count: digitCount)
        var position = digitCount
        while limbs.contains(where: { $0 != 0 }) {
            guard position > 0 else { return nil }
            var remainder: UInt64 = 0
            for index in limbs.indices.reversed() {
                let current = remainder << 32 | UInt64(limbs[index])
                limbs[index] = UInt32(current / 10)
                remainder = current % 10
            }
            position -= 1
            out[position] = 0x30 + UInt8(remainder)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
