/// Why bytes are not canonical RLP, with the byte offset where decoding stopped.
public enum RLPError: Error, Equatable, CustomStringConvertible {
    /// The input is empty where an item was expected.
    case emptyInput
    /// An item's length runs past the end of its input (or its enclosing list).
    case unexpectedEnd(at: Int)
    /// A single byte below 0x80 written as a one-byte string (`0x81 0x05`); it must stand alone.
    case nonCanonicalSingleByte(at: Int)
    /// A long-form length (0xb8.., 0xf8..) for a payload under 56 bytes.
    case nonCanonicalLength(at: Int)
    /// A long-form length with a leading zero byte.
    case leadingZeroInLength(at: Int)
    /// A length that does not fit in memory.
    case lengthOverflow(at: Int)
    /// Bytes left over after the item (or after a list's last element).
    case trailingBytes(at: Int)
    /// A string where a list was required.
    case expectedList(at: Int)
    /// A list where a string was required.
    case expectedString(at: Int)
    /// An integer with a leading zero byte (integers are minimal big-endian).
    case leadingZeroInInteger(at: Int)
    /// An integer longer than its type allows.
    case integerTooLarge(at: Int, maxBytes: Int)
    /// A string of the wrong fixed length (addresses are 20 bytes, hashes 32).
    case wrongLength(at: Int, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .emptyInput: return "RLP: empty input where an item was expected"
        case .unexpectedEnd(let at): return "RLP: item at byte \(at) runs past the end of the input"
        case .nonCanonicalSingleByte(let at): return "RLP: single byte below 0x80 at byte \(at) must not carry a length prefix"
        case .nonCanonicalLength(let at): return "RLP: long-form length at byte \(at) for a payload under 56 bytes"
        case .leadingZeroInLength(let at): return "RLP: length at byte \(at) has a leading zero"
        case .lengthOverflow(let at): return "RLP: length at byte \(at) is too large"
        case .trailingBytes(let at): return "RLP: unexpected bytes after the item, from byte \(at)"
        case .expectedList(let at): return "RLP: expected a list at byte \(at), found a string"
        case .expectedString(let at): return "RLP: expected a string at byte \(at), found a list"
        case .leadingZeroInInteger(let at): return "RLP: integer at byte \(at) has a leading zero byte"
        case .integerTooLarge(let at, let max): return "RLP: integer at byte \(at) is longer than \(max) bytes"
        case .wrongLength(let at, let expected, let actual):
            return "RLP: string at byte \(at) is \(actual) bytes, expected \(expected)"
        }
    }
}
