/// Multibase: a one-character prefix naming the base of the text after it. Encodes base32
/// (lower, `b`), base58btc (`z`) and base16 (`f`); decodes those, upper-case base32 (`B`) and
/// base16 (`F`), and the four base64 variants (`m`, `M`, `u`, `U`).
public enum Multibase: Character, Sendable, CaseIterable {
    case base16 = "f"
    case base16Upper = "F"
    case base32 = "b"
    case base32Upper = "B"
    case base58btc = "z"
    case base64 = "m"
    case base64Pad = "M"
    case base64URL = "u"
    case base64URLPad = "U"

    /// `prefix` + the text of `bytes` in this base.
    public func encode(_ bytes: [UInt8]) -> String {
        String(rawValue) + Self.encodeBare(bytes, base: self)
    }

    /// The bytes of multibase text (prefix included).
    public static func decode(_ text: String) throws(FilesError) -> (base: Multibase, bytes: [UInt8]) {
        guard let first = text.first else { throw .malformedMultibase("empty text") }
        guard let base = Multibase(rawValue: first) else {
            throw .malformedMultibase("unknown multibase prefix '\(first)'; use b (base32), z (base58btc), f (base16) or m/u (base64)")
        }
        return (base, try decodeBare(Array(text.utf8.dropFirst()), base: base))
    }

    /// The text of `bytes` in `base`, without the prefix.
    public static func encodeBare(_ bytes: [UInt8], base: Multibase) -> String {
        switch base {
        case .base16: return radix2(bytes, alphabet: hexLower, bits: 4, pad: false)
        case .base16Upper: return radix2(bytes, alphabet: hexUpper, bits: 4, pad: false)
        case .base32: return radix2(bytes, alphabet: base32Lower, bits: 5, pad: false)
        case .base32Upper: return radix2(bytes, alphabet: base32UpperAlphabet, bits: 5, pad: false)
        case .base58btc: return Base58.encode(bytes)
        case .base64: return radix2(bytes, alphabet: base64Std, bits: 6, pad: false)
        case .base64Pad: return radix2(bytes, alphabet: base64Std, bits: 6, pad: true)
        case .base64URL: return radix2(bytes, alphabet: base64Url, bits: 6, pad: false)
        case .base64URLPad: return radix2(bytes, alphabet: base64Url, bits: 6, pad: true)
        }
    }

    /// Decodes text without its prefix.
    public static func decodeBare(_ text: [UInt8], base: Multibase) throws(FilesError) -> [UInt8] {
        switch base {
        case .base16: return try unradix2(text, alphabet: hexLower, bits: 4)
        case .base16Upper: return try unradix2(text, alphabet: hexUpper, bits: 4)
        case .base32: return try unradix2(text, alphabet: base32Lower, bits: 5)
        case .base32Upper: return try unradix2(text, alphabet: base32UpperAlphabet, bits: 5)
        case .base58btc: return try Base58.decode(text)
        case .base64, .base64Pad: return try unradix2(text, alphabet: base64Std, bits: 6)
        case .base64URL, .base64URLPad: return try unradix2(text, alphabet: base64Url, bits: 6)
        }
    }

    static let hexLower = Array("0123456789abcdef".utf8)
    static let hexUpper = Array("0123456789ABCDEF".utf8)
    static let base32Lower = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let base32UpperAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    static let base64Std = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let base64Url = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648 encoding for power-of-two alphabets (bits per character 4, 5 or 6).
    static func radix2(_ bytes: [UInt8], alphabet: [UInt8], bits: Int, pad: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + bits - 1) / bits + 4)
        var buffer: UInt32 = 0
        var count = 0
        let mask = UInt32((1 << bits) - 1)
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            count += 8
            while count >= bits {
                count -= bits
                out.append(alphabet[Int((buffer >> UInt32(count)) & mask)])
            }
        }
        if count > 0 { out.append(alphabet[Int((buffer << UInt32(bits - count)) & mask)]) }
        if pad {
            let group = bits == 6 ? 4 : 8
            while out.count % group != 0 { out.append(UInt8(ascii: "=")) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The inverse of `radix2`; trailing `=` padding is accepted, leftover non-zero bits are not.
    static func unradix2(_ text: [UInt8], alphabet: [UInt8], bits: Int) throws(FilesError) -> [UInt8] {
        var table = [Int16](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int16(i) }
        var end = text.count
        while end > 0 && text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        var out: [UInt8] = []
        out.reserveCapacity(end * bits / 8)
        var buffer: UInt32 = 0
        var count = 0
        for c in text[..<end] {
            let v = table[Int(c)]
            guard v >= 0 else { throw .malformedMultibase("character '\(Character(Unicode.Scalar(c)))' is not in the alphabet") }
            buffer = (buffer << UInt32(bits)) | UInt32(v)
            count += bits
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(count)))
            }
        }
        guard count < bits, buffer & ((1 << UInt32(count)) - 1) == 0 else {
            throw .malformedMultibase("trailing bits are not zero (truncated text?)")
        }
        return out
    }
}

/// Bitcoin's base58 alphabet (CIDv0 strings and the `z` multibase).
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits: [UInt8] = []  // base58 digits, little-endian
        digits.reserveCapacity(bytes.count * 138 / 100 + 1)
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 { digits.append(UInt8(carry % 58)); carry /= 58 }
        }
        let text = [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: text, as: UTF8.self)
    }

    public static func decode(_ text: [UInt8]) throws(FilesError) -> [UInt8] {
        let zeros = text.prefix { $0 == alphabet[0] }.count
        var bytes: [UInt8] = []  // little-endian
        for c in text[zeros...] {
            let v = table[Int(c)]
            guard v >= 0 else { throw .malformedMultibase("character '\(Character(Unicode.Scalar(c)))' is not in base58btc") }
            var carry = Int(v)
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 { bytes.append(UInt8(carry & 0xff)); carry >>= 8 }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}
