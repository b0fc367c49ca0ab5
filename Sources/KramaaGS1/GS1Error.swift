/// Why a GS1 identifier, element string, Digital Link URI or EPC URI was rejected.
///
/// Every case names the offending part so that an API user can correct the input; `description`
/// is the sentence shown to users.
public enum GS1Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// A digit string whose GS1 mod-10 check digit does not match.
    case invalidCheckDigit(ai: String?, value: String, expected: Character)
    /// A GMN (AI 8013) whose two check characters do not match.
    case invalidCheckCharacters(ai: String, value: String, expected: String)
    /// A character outside the character set of an AI component (numeric, CSET 82, 39 or 64).
    case invalidCharacter(ai: String, value: String, character: Character, characterSet: GS1CharacterSet)
    /// A value shorter than the AI's format allows.
    case valueTooShort(ai: String, value: String, minimum: Int)
    /// A value longer than the AI's format allows.
    case valueTooLong(ai: String, value: String, maximum: Int)
    /// An AI without a value.
    case emptyValue(ai: String)
    /// A value that has the right characters and length but breaks a rule of its AI.
    case invalidValue(ai: String, value: String, reason: String)
    /// An AI that is not in the GS1 General Specifications table.
    case unknownAI(String)
    /// The same AI given twice (with different values, or twice in one Digital Link).
    case duplicateAI(String)
    /// Two AIs that must not be used together.
    case exclusiveAIs(String, String)
    /// A bracketed or FNC1 element string that does not parse.
    case malformedElementString(String, reason: String)
    /// A string that is not an http(s) GS1 Digital Link URI at all.
    case notADigitalLink(String, reason: String)
    /// A Digital Link whose path holds no GS1 primary key.
    case noPrimaryKey(String)
    /// Path AIs that are not a valid key / key-qualifier sequence (wrong order or not a qualifier of the key).
    case invalidKeyQualifierSequence(primaryKey: String, qualifiers: [String])
    /// A query-string AI that is a key qualifier and belongs in the path.
    case attributeBelongsInPath(String)
    /// An AI that may not be a Digital Link data attribute.
    case notADataAttribute(String)
    /// AIs from which no Digital Link can be built (no primary key among them).
    case missingPrimaryKey
    /// A malformed EPC URI (pure identity, class or pattern URN).
    case malformedEPCURI(String, reason: String)
    /// A GS1 Company Prefix length outside 6...12 or not fitting the key.
    case invalidCompanyPrefixLength(Int, reason: String)
    /// AIs that no EPC URI scheme represents.
    case noEPCScheme(primaryKey: String)
    /// A compressed Digital Link that cannot be decompressed, or a URI that cannot be compressed.
    case compression(String)

    public var description: String {
        switch self {
        case .invalidCheckDigit(let ai, let value, let expected):
            return "\(Self.subject(ai)) '\(value)' has a wrong check digit: expected \(expected)"
        case .invalidCheckCharacters(let ai, let value, let expected):
            return "AI (\(ai)) value '\(value)' has wrong check characters: expected '\(expected)'"
        case .invalidCharacter(let ai, let value, let character, let set):
            return "AI (\(ai)) value '\(value)' contains '\(character)', which is not allowed (\(set))"
        case .valueTooShort(let ai, let value, let minimum):
            return "AI (\(ai)) value '\(value)' is too short: at least \(minimum) characters are required"
        case .valueTooLong(let ai, let value, let maximum):
            return "AI (\(ai)) value '\(value)' is too long: at most \(maximum) characters are allowed"
        case .emptyValue(let ai):
            return "AI (\(ai)) has an empty value"
        case .invalidValue(let ai, let value, let reason):
            return "AI (\(ai)) value '\(value)' is invalid: \(reason)"
        case .unknownAI(let ai):
            return "AI (\(ai)) is not a known GS1 Application Identifier"
        case .duplicateAI(let ai):
            return "AI (\(ai)) is given more than once"
        case .exclusiveAIs(let a, let b):
            return "AI (\(a)) and AI (\(b)) must not be used together"
        case .malformedElementString(let input, let reason):
            return "element string '\(input)' is malformed: \(reason)"
        case .notADigitalLink(let input, let reason):
            return "'\(input)' is not a GS1 Digital Link URI: \(reason)"
        case .noPrimaryKey(let input):
            return "'\(input)' has no GS1 primary key (such as /01/<GTIN> or /00/<SSCC>) in its path"
        case .invalidKeyQualifierSequence(let key, let qualifiers):
            return "AIs \(qualifiers.map { "(\($0))" }.joined(separator: " ")) are not valid key qualifiers of primary key (\(key)) in this order"
        case .attributeBelongsInPath(let ai):
            return "AI (\(ai)) is a key qualifier and must be in the URI path, not the query string"
        case .notADataAttribute(let ai):
            return "AI (\(ai)) is not permitted as a GS1 Digital Link data attribute"
        case .missingPrimaryKey:
            return "no GS1 primary key AI (such as 01, 00, 414, 8003, 8004) is present, so no Digital Link can be built"
        case .malformedEPCURI(let input, let reason):
            return "'\(input)' is not a valid EPC URI: \(reason)"
        case .invalidCompanyPrefixLength(let length, let reason):
            return "GS1 Company Prefix length \(length) is invalid: \(reason)"
        case .noEPCScheme(let key):
            return "no EPC URI scheme represents primary key AI (\(key)) with these qualifiers"
        case .compression(let reason):
            return "Digital Link compression failed: \(reason)"
        }
    }

    private static func subject(_ ai: String?) -> String {
        ai.map { "AI (\($0)) value" } ?? "digit string"
    }
}
