/// Why a string is not base58btc.
public enum Base58Error: Error, Hashable, CustomStringConvertible {
    /// A character outside the Bitcoin alphabet (which leaves out `0`, `O`, `I` and `l`),
    /// at a UTF-8 byte offset of the input.
    case invalidCharacter(Character, offset: Int)

    public var description: String {
        switch self {
        case .invalidCharacter(let c, let offset):
            return "invalid base58 character '\(c)' at offset \(offset); base58btc uses 1-9, A-Z and a-z without 0, O, I and l"
        }
    }
}

/// Base58 with the Bitcoin alphabet (multibase `z`), as in did:key and IPFS CIDv0.
///
/// Each leading zero byte is written as a leading `1`, so encoding is one-to-one.
public enum Base58 {
    static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    /// Character (ASCII) → digit value, or 0xff.
    static let digitValues: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 128)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// The base58btc text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        let zeros = input.prefix { $0 == 0 }.count
        // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
        var digits = [UInt8]()
        digits.reserveCapacity(input.count * 137 / 100 + 1)
        for byte in input[zeros...] {
            var carry = UInt32(byte)
            for i in digits.indices {
                carry += UInt32(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        out.append(contentsOf: digits.reversed().map { alphabet[Int($0)] })
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of base58btc `text`. The empty string decodes to no bytes.
    public static func decode(_ text: some StringProtocol) throws(Base58Error) -> [UInt8] {
        let chars = Array(text.utf8)
        var zeros = 0
        var bytes = [UInt8]()  // least significant first
        bytes.reserveCapacity(chars.count * 733 / 1000 + 1)
        var leading = true
        for (offset, c) in chars.enumerated() {
            let value = c < 128 ? digitValues[Int(c)] : 0xff
            guard value != 0xff else {
                let character = String(decoding: chars[offset...].prefix(4), as: UTF8.self).first ?? "?"
                throw .invalidCharacter(character, offset: offset)
            }
            if leading && value == 0 {
                zeros += 1
                continue
            }
            leading = false
            var carry = UInt32(value)
            for i in bytes.indices {
                carry += UInt32(bytes[i]) * 58
                bytes[i] = UInt8(truncatingIfNeeded: carry)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(truncatingIfNeeded: carry))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}
