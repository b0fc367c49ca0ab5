/// The character sets of GS1 AI values (GS1 General Specifications §7.11).
public enum GS1CharacterSet: Sendable, Equatable, CustomStringConvertible {
    /// Digits 0-9 ("N" in AI formats).
    case numeric
    /// GS1 AI encodable character set 82 ("X"): the invariant subset of ISO 646.
    case cset82
    /// GS1 AI encodable character set 39 ("Y"): digits, upper case, `#`, `-`, `/` (CPID, AI 8010).
    case cset39
    /// GS1 AI encodable character set 64 ("Z"): file-safe base64 with `=` padding (AI 8030).
    case cset64

    /// The characters of CSET 82 in the order that gives their values for check character pairs.
    static let cset82Ordered: [UInt8] = Array("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".utf8)

    /// CSET 32, the alphabet of GMN check characters.
    static let cset32: [UInt8] = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZ".utf8)

    private static let cset82Table: [Bool] = table(cset82Ordered)
    private static let cset39Table: [Bool] = table(Array("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
    private static let cset64Table: [Bool] = table(Array("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz=".utf8))

    private static func table(_ members: [UInt8]) -> [Bool] {
        var result = [Bool](repeating: false, count: 256)
        for byte in members { result[Int(byte)] = true }
        return result
    }

    /// Whether `byte` belongs to this character set.
    public func contains(_ byte: UInt8) -> Bool {
        switch self {
        case .numeric: return byte >= 0x30 && byte <= 0x39
        case .cset82: return Self.cset82Table[Int(byte)]
        case .cset39: return Self.cset39Table[Int(byte)]
        case .cset64: return Self.cset64Table[Int(byte)]
        }
    }

    /// The first character of `value` outside this set, if any.
    public func firstInvalidCharacter(in value: String) -> Character? {
        // Every set is ASCII: when every byte belongs, every character is one byte and belongs.
        if value.utf8.allSatisfy(contains) { return nil }
        for character in value where !character.utf8.allSatisfy(contains) || character.utf8.count != 1 {
            return character
        }
        return nil
    }

    public var description: String {
        switch self {
        case .numeric: return "digits only"
        case .cset82: return "GS1 AI encodable character set 82"
        case .cset39: return "GS1 AI encodable character set 39"
        case .cset64: return "GS1 AI encodable character set 64"
        }
    }
}

extension String {
    /// Whether the string is non-empty and all ASCII digits.
    var isAllDigits: Bool {
        !isEmpty && utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
