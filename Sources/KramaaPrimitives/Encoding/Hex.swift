/// Why a string is not valid hexadecimal.
public enum HexError: Error, Equatable, CustomStringConvertible {
    /// The digits (after any `0x`) have an odd count; bytes need two digits each.
    case oddLength(Int)
    /// A character that is not `0-9`, `a-f` or `A-F`, at a character offset of the input.
    case invalidCharacter(Character, offset: Int)
    /// The decoded value has a different byte length than the type requires.
    case wrongLength(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .oddLength(let n):
            return "hex string has an odd number of digits (\(n)); each byte needs two digits"
        case .invalidCharacter(let c, let offset):
            return "invalid hex character '\(c)' at offset \(offset); use only 0-9, a-f, A-F"
        case .wrongLength(let expected, let actual):
            return "expected \(expected) bytes of hex, got \(actual)"
        }
    }
}

/// Hexadecimal codec for byte strings. Accepts an optional `0x`/`0X` prefix and either case.
public enum Hex {
    @usableFromInline
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`, with a `0x` prefix unless `prefix` is false.
    @inlinable
    public static func encode<Bytes: Sequence>(_ bytes: Bytes, prefix: Bool = true) -> String
    where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2 + 2)
        if prefix { out.append(contentsOf: [0x30, 0x78]) }
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex, with or without `0x`. The empty string and `0x` decode to no bytes.
    public static func decode(_ string: some StringProtocol) throws(HexError) -> [UInt8] {
        let utf8 = Array(string.utf8)
        var start = 0
        if utf8.count >= 2, utf8[0] == 0x30, utf8[1] == 0x78 || utf8[1] == 0x58 { start = 2 }
        let count = utf8.count - start
        guard count % 2 == 0 else { throw .oddLength(count) }
        var out = [UInt8](repeating: 0, count: count / 2)
        var i = start
        var o = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]) else {
                throw .invalidCharacter(Character(Unicode.Scalar(utf8[i])), offset: i)
            }
            guard let lo = nibble(utf8[i + 1]) else {
                throw .invalidCharacter(Character(Unicode.Scalar(utf8[i + 1])), offset: i + 1)
            }
            out[o] = hi << 4 | lo
            i += 2
            o += 1
        }
        return out
    }

    /// Decodes hex that must be exactly `length` bytes long.
    public static func decode(_ string: some StringProtocol, length: Int) throws(HexError) -> [UInt8] {
        let bytes = try decode(string)
        guard bytes.count == length else { throw .wrongLength(expected: length, actual: bytes.count) }
        return bytes
    }

    /// The value of one hex digit (`0-9`, `a-f`, `A-F`), or nil.
    @inline(__always)
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c &- 0x30
        case 0x61...0x66: return c &- 0x61 &+ 10
        case 0x41...0x46: return c &- 0x41 &+ 10
        default: return nil
        }
    }
}

extension Array where Element == UInt8 {
    /// Decodes hex (optional `0x`) into bytes.
    public init(hex: some StringProtocol) throws(HexError) {
        self = try Hex.decode(hex)
    }

    /// `0x`-prefixed lower-case hex.
    public var hexString: String { Hex.encode(self) }
}

extension ArraySlice where Element == UInt8 {
    /// `0x`-prefixed lower-case hex.
    public var hexString: String { Hex.encode(self) }
}
