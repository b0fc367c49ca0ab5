/// One GS1 Application Identifier: its format, the checks on its value and its role in GS1 Digital Link.
public struct ApplicationIdentifier: Sendable, Equatable {
    /// A rule on a component's content beyond its character set and length.
    public enum Check: String, Sendable, Equatable {
        /// The component ends in a GS1 mod-10 check digit.
        case checkDigit = "csum"
        /// The component starts with a GS1 Company Prefix (at least four digits).
        case companyPrefix = "key"
        /// The component is the digit 0 (the GRAI filler digit).
        case zero
        /// Two digits of piece number followed by two of total, 1 ≤ piece ≤ total.
        case pieceOfTotal = "pieceoftotal"
        /// The component ends in two GMN check characters.
        case checkCharacterPair = "csumalpha"
        /// A number without leading zeros (CPID serial).
        case noZeroPrefix = "nozeroprefix"
        /// A date YYMMDD where DD may be 00.
        case dateWithOptionalDay = "yymmd0"
        /// A date YYMMDD.
        case date = "yymmdd"
        /// A time HHMM.
        case time = "hhmm"
        /// 0 or 1.
        case yesNo = "yesno"
        /// Not all zeros.
        case nonZero = "nonzero"
    }

    /// One part of an AI's format, such as `N13` or `[X..17]`.
    public struct Component: Sendable, Equatable {
        public let characterSet: GS1CharacterSet
        public let minimumLength: Int
        public let maximumLength: Int
        /// An optional final component (written `[...]` in the General Specifications).
        public let isOptional: Bool
        public let checks: [Check]
    }

    /// The AI digits, e.g. "01".
    public let code: String
    /// The data title, e.g. "GTIN".
    public let title: String
    public let components: [Component]
    /// Whether a variable-length AI: in an FNC1 element string a separator follows its value unless it is last.
    public let requiresFNC1: Bool
    /// For GS1 Digital Link primary keys, the allowed ordered key-qualifier sequences (alternatives);
    /// each qualifier is optional but the order is fixed. Nil for AIs that are not primary keys.
    public let keyQualifierSequences: [[String]]?
    /// Whether the AI may be a Digital Link query-string data attribute.
    public let isDataAttribute: Bool
    /// AIs or patterns (`n` = any digit) that must not appear together with this AI.
    public let excludes: [String]
    /// The Digital Link convenience alpha (short name), e.g. "gtin" for 01.
    public let shortName: String?
    /// Whether the AI is not in the GS1 table but was accepted because unknown AIs were permitted.
    public let isUnknown: Bool

    public var isPrimaryKey: Bool { keyQualifierSequences != nil }
    public var minimumLength: Int { components.reduce(0) { $0 + ($1.isOptional ? 0 : $1.minimumLength) } }
    public var maximumLength: Int { components.reduce(0) { $0 + $1.maximumLength } }

    /// Whether `qualifiers` (AIs following this primary key in a Digital Link path) are a valid sequence.
    public func acceptsKeyQualifiers(_ qualifiers: [String]) -> Bool {
        guard let alternatives = keyQualifierSequences else { return false }
        if qualifiers.isEmpty { return true }
        return alternatives.contains { sequence in
            var position = 0
            for qualifier in qualifiers {
                guard let found = sequence[position...].firstIndex(of: qualifier) else { return false }
                position = found + 1
            }
            return true
        }
    }

    /// Whether this AI and `other` must not be used together.
    public func excludes(_ other: String) -> Bool {
        guard other != code else { return false }
        return excludes.contains { pattern in
            pattern.count == other.count && zip(pattern.utf8, other.utf8).allSatisfy { $0 == $1 || $0 == UInt8(ascii: "n") }
        }
    }

    /// Checks `value` against the AI's format and content rules.
    /// - Parameter verifyCheckDigits: false skips check digits and check characters (only for lenient normalisation).
    public func validate(_ value: String, verifyCheckDigits: Bool = true) throws(GS1Error) {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { throw .emptyValue(ai: code) }
        if bytes.count < minimumLength { throw .valueTooShort(ai: code, value: value, minimum: minimumLength) }
        if bytes.count > maximumLength { throw .valueTooLong(ai: code, value: value, maximum: maximumLength) }
        var offset = 0
        for (index, component) in components.enumerated() {
            let remaining = bytes.count - offset
            if remaining == 0, component.isOptional { break }
            let laterMinimum = components[(index + 1)...].reduce(0) { $0 + ($1.isOptional ? 0 : $1.minimumLength) }
            let length = min(component.maximumLength, remaining - laterMinimum)
            guard length >= component.minimumLength else {
                throw .valueTooShort(ai: code, value: value, minimum: minimumLength)
            }
            let part = String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
            if let bad = component.characterSet.firstInvalidCharacter(in: part) {
                throw .invalidCharacter(ai: code, value: value, character: bad, characterSet: component.characterSet)
            }
            for check in component.checks {
                try apply(check, to: part, value: value, verifyCheckDigits: verifyCheckDigits)
            }
            offset += length
        }
        if offset != bytes.count { throw .valueTooLong(ai: code, value: value, maximum: maximumLength) }
    }

    private func apply(_ check: Check, to part: String, value: String, verifyCheckDigits: Bool) throws(GS1Error) {
        let digits = Array(part.utf8).map { Int($0) - 0x30 }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        switch check {
        case .checkDigit:
            guard verifyCheckDigits, !GS1CheckDigit.isValid(part), let expected = GS1CheckDigit.compute(part.dropLast()) else { return }
            throw .invalidCheckDigit(ai: code, value: value, expected: expected)
        case .checkCharacterPair:
            guard verifyCheckDigits else { return }
            guard part.utf8.count >= 3, let expected = GS1CheckDigit.checkCharacterPair(part.dropLast(2)) else {
                throw .invalidValue(ai: code, value: value, reason: "too short for its two check characters")
            }
            if !part.hasSuffix(expected) { throw .invalidCheckCharacters(ai: code, value: value, expected: expected) }
        case .companyPrefix:
            guard part.utf8.count >= 4, part.utf8.prefix(4).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .invalidValue(ai: code, value: value, reason: "it must start with a GS1 Company Prefix (at least four digits)")
            }
        case .zero:
            if part != "0" { throw .invalidValue(ai: code, value: value, reason: "the first digit must be 0") }
        case .pieceOfTotal:
            let piece = number(0..<2), total = number(2..<4)
            if piece == 0 || total == 0 || piece > total {
                throw .invalidValue(ai: code, value: value, reason: "piece number \(piece) of total \(total) is impossible")
            }
        case .noZeroPrefix:
            if part.count > 1, part.hasPrefix("0") { throw .invalidValue(ai: code, value: value, reason: "leading zeros are not allowed") }
        case .dateWithOptionalDay, .date:
            let month = number(2..<4), day = number(4..<6)
            let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            let minimumDay = check == .date ? 1 : 0
            if month < 1 || month > 12 || day < minimumDay || day > days[month - 1] || (month == 2 && day == 29 && number(0..<2) % 4 != 0) {
                throw .invalidValue(ai: code, value: value, reason: "'\(part)' is not a valid date YYMMDD")
            }
        case .time:
            if number(0..<2) > 23 || number(2..<4) > 59 {
                throw .invalidValue(ai: code, value: value, reason: "'\(part)' is not a valid time HHMM")
            }
        case .yesNo:
            if part != "0" && part != "1" { throw .invalidValue(ai: code, value: value, reason: "it must be 0 or 1") }
        case .nonZero:
            if digits.allSatisfy({ $0 == 0 }) { throw .invalidValue(ai: code, value: value, reason: "it must not be zero") }
        }
    }
}

extension ApplicationIdentifier {
    /// The AI for `code`, or nil if it is not in the GS1 table.
    public static func lookup(_ code: some StringProtocol) -> ApplicationIdentifier? {
        ApplicationIdentifierTable.byCode[String(code)]
    }

    /// The AI whose Digital Link convenience alpha is `shortName` (e.g. "gtin", "ser").
    public static func lookup(shortName: some StringProtocol) -> ApplicationIdentifier? {
        ApplicationIdentifierTable.byShortName[String(shortName)]
    }

    /// Every AI in the table, in AI order.
    public static var all: [ApplicationIdentifier] { ApplicationIdentifierTable.entries }

    /// A stand-in for an AI missing from the table (2-4 digits, X..90), used only when unknown AIs are permitted.
    static func unknown(_ code: String) -> ApplicationIdentifier {
        ApplicationIdentifier(
            code: code, title: "UNKNOWN",
            components: [Component(characterSet: .cset82, minimumLength: 1, maximumLength: 90, isOptional: false, checks: [])],
            requiresFNC1: true, keyQualifierSequences: nil, isDataAttribute: false, excludes: [], shortName: nil, isUnknown: true)
    }

    /// Looks up `code`, falling back to an unknown-AI stand-in when `permitUnknown` and the code is 2-4 digits.
    static func resolve(_ code: String, permitUnknown: Bool) throws(GS1Error) -> ApplicationIdentifier {
        if let known = lookup(code) { return known }
        if permitUnknown, (2...4).contains(code.utf8.count), code.isAllDigits { return unknown(code) }
        throw .unknownAI(code)
    }
}
