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
    /// The AI needs others with it (GS1 General Specifications "mandatory associations"): one of the
    /// comma-separated alternatives, `+` joining AIs that must all be present.
    case missingRequisiteAIs(String, requires: String)
    /// A key whose serial component is optional lacks it although a digital signature (8030) is present.
    case serialRequiredWithSignature(String)
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
    /// A URI that is not a compressed GS1 Digital Link, or whose compressed path segment does not decode.
    case malformedCompressedDigitalLink(String, reason: CompressionProblem)
    /// An AI value or query parameter that the Digital Link compression format cannot represent.
    case notCompressible(String, reason: String)

    /// What is wrong with a compressed Digital Link segment (GS1 Digital Link compression format).
    public enum CompressionProblem: Error, Equatable, Sendable, CustomStringConvertible {
        /// The URI is an uncompressed Digital Link, or its last path segment is not base64url.
        case notCompressed
        /// The segment holds no data.
        case empty
        /// A character outside the base64url alphabet `A-Z a-z 0-9 - _`.
        case invalidCharacter(Character)
        /// The bits end in the middle of an entry.
        case truncated
        /// Two digits that no AI starts with.
        case unknownAIPrefix(String)
        /// An AI whose later digits are not decimal digits.
        case nonDigitInAI(String)
        /// An AI that is not in the GS1 table.
        case unknownAI(String)
        /// A two-hex-digit code outside 00-99 that is not in the optimisation table and is not `F` (non-GS1 pair).
        case unknownOptimisation(String)
        /// An encoding indicator other than 0-4 (digits, lower hex, upper hex, base64url, 7-bit ASCII).
        case invalidEncoding(Int)
        /// A non-GS1 query parameter with an empty name.
        case emptyParameterName
        /// A binary number with more decimal digits than the value's stated length.
        case numberTooLarge(digits: Int)
        /// Bits left after the last entry that are not zero padding.
        case trailingData

        public var description: String {
            switch self {
            case .notCompressed: return "it is not a compressed Digital Link (its last path segment must be the base64url data)"
            case .empty: return "the compressed segment holds no data"
            case .invalidCharacter(let character): return "'\(character)' is not a base64url character (A-Z a-z 0-9 - _)"
            case .truncated: return "the data ends in the middle of an entry"
            case .unknownAIPrefix(let digits): return "no GS1 AI starts with \(digits)"
            case .nonDigitInAI(let digits): return "AI digits \(digits) contain a hexadecimal letter"
            case .unknownAI(let code): return "(\(code)) is not a known GS1 AI"
            case .unknownOptimisation(let code): return "\(code) is not a defined optimisation code"
            case .invalidEncoding(let value): return "encoding indicator \(value) is undefined (0-4 are)"
            case .emptyParameterName: return "a non-GS1 query parameter has an empty name"
            case .numberTooLarge(let digits): return "a number has more than its \(digits) digits"
            case .trailingData: return "bits after the last entry are not zero padding"
            }
        }
    }

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
        case .serialRequiredWithSignature(let ai):
            return "AI (\(ai)) must carry its serial component when a digital signature, AI (8030), is present"
        case .missingRequisiteAIs(let ai, let requires):
            let alternatives = requires.split(separator: ",").map { $0.split(separator: "+").map { "(\($0))" }.joined(separator: " with ") }
            return "AI (\(ai)) needs \(alternatives.count == 1 ? alternatives[0] : "one of " + alternatives.joined(separator: ", ")) in the same data"
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
        case .malformedCompressedDigitalLink(let input, let problem):
            return "'\(input)' cannot be decompressed: \(problem)"
        case .notCompressible(let input, let reason):
            return "'\(input)' cannot be compressed: \(reason)"
        }
    }

    private static func subject(_ ai: String?) -> String {
        ai.map { "AI (\($0)) value" } ?? "digit string"
    }
}
