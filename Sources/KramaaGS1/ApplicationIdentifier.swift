/// One GS1 Application Identifier: its format, the checks on its value and its role in GS1 Digital Link.
///
/// Immutable and shared: a class, so a table lookup hands out one reference instead of copying
/// the ten references of its fields (every identifier check looks its AIs up several times).
public final class ApplicationIdentifier: Sendable, Equatable {
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
    /// Requisite AIs: every group must be satisfied by one of its alternatives, an alternative being
    /// AIs (or patterns) that must all be present, e.g. `[[["01"], ["02"]], [["21"]]]` for "(01) or (02),
    /// and (21)".
    public let requisites: [[[String]]]
    /// The Digital Link convenience alpha (short name), e.g. "gtin" for 01.
    public let shortName: String?
    /// Whether the AI is not in the GS1 table but was accepted because unknown AIs were permitted.
    public let isUnknown: Bool

    /// The shortest and longest values (optional components left out of the shortest).
    public let minimumLength: Int
    public let maximumLength: Int

    init(code: String, title: String, components: [Component], requiresFNC1: Bool, keyQualifierSequences: [[String]]?,
         isDataAttribute: Bool, excludes: [String], requisites: [[[String]]], shortName: String?, isUnknown: Bool) {
        self.code = code
        self.title = title
        self.components = components
        self.requiresFNC1 = requiresFNC1
        self.keyQualifierSequences = keyQualifierSequences
        self.isDataAttribute = isDataAttribute
        self.excludes = excludes
        self.requisites = requisites
        self.shortName = shortName
        self.isUnknown = isUnknown
        minimumLength = components.reduce(0) { $0 + ($1.isOptional ? 0 : $1.minimumLength) }
        maximumLength = components.reduce(0) { $0 + $1.maximumLength }
    }

    /// Equal when every field is (the same table entry, or an equal stand-in).
    public static func == (lhs: ApplicationIdentifier, rhs: ApplicationIdentifier) -> Bool {
        lhs === rhs
            || (lhs.code == rhs.code && lhs.title == rhs.title && lhs.components == rhs.components && lhs.requiresFNC1 == rhs.requiresFNC1
                && lhs.keyQualifierSequences == rhs.keyQualifierSequences && lhs.isDataAttribute == rhs.isDataAttribute
                && lhs.excludes == rhs.excludes && lhs.requisites == rhs.requisites && lhs.shortName == rhs.shortName
                && lhs.isUnknown == rhs.isUnknown)
    }

    public var isPrimaryKey: Bool { keyQualifierSequences != nil }

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
        return excludes.contains { Self.pattern($0, matches: other) }
    }

    /// The first requisite group that none of `present`'s AIs satisfies, written as the General
    /// Specifications do (`01,02` for either, `01+21` for both); nil when all are satisfied.
    public func unsatisfiedRequisite(among present: some Collection<String>) -> String? {
        for group in requisites {
            let satisfied = group.contains { alternative in
                alternative.allSatisfy { pattern in present.contains { Self.pattern(pattern, matches: $0) } }
            }
            if !satisfied { return group.map { $0.joined(separator: "+") }.joined(separator: ",") }
        }
        return nil
    }

    /// Whether AI `code` matches `pattern`, where `n` stands for any digit (`310n`).
    static func pattern(_ pattern: String, matches code: String) -> Bool {
        pattern.utf8.count == code.utf8.count
            && zip(pattern.utf8, code.utf8).allSatisfy { $0 == $1 || $0 == UInt8(ascii: "n") }
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
            let part = length == bytes.count ? value : String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
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
            requiresFNC1: true, keyQualifierSequences: nil, isDataAttribute: false, excludes: [], requisites: [],
            shortName: nil, isUnknown: true)
    }

    /// Looks up `code`, falling back to an unknown-AI stand-in when `permitUnknown` and the code is 2-4 digits.
    static func resolve(_ code: String, permitUnknown: Bool) throws(GS1Error) -> ApplicationIdentifier {
        if let known = lookup(code) { return known }
        if permitUnknown, (2...4).contains(code.utf8.count), code.isAllDigits { return unknown(code) }
        throw .unknownAI(code)
    }
}
