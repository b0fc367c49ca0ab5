/// A query the EPCIS Query Language rejects: `QueryParameterException` of EPCIS 2.0 section
/// 8.2.7 (the REST binding answers it with HTTP 400 and the problem type below).
public enum QueryParameterException: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter name the query language does not define.
    case unknownParameter(String)
    /// A parameter given twice.
    case duplicateParameter(String)
    /// A parameter whose value is malformed; `expected` says what it must be.
    case invalidValue(parameter: String, value: String, expected: String)
    /// Parameters that cannot be combined (e.g. `eventCountLimit` with `maxEventCount`).
    case conflictingParameters(String, String, reason: String)

    /// The RFC 7807 `type` the REST binding uses for this exception.
    public static let problemType = "epcisException:QueryParameterException"

    public var description: String {
        switch self {
        case .unknownParameter(let name):
            "unknown query parameter \"\(name)\"; see the EPCIS 2.0 query parameters (eventType, GE_eventTime, EQ_bizStep, MATCH_epc, ...)"
        case .duplicateParameter(let name):
            "query parameter \"\(name)\" is given more than once; give it once with values separated by |"
        case .invalidValue(let parameter, let value, let expected):
            "query parameter \(parameter)=\(value) is invalid: expected \(expected)"
        case .conflictingParameters(let first, let second, let reason):
            "query parameters \(first) and \(second) conflict: \(reason)"
        }
    }
}

/// The query would return more events than `maxEventCount` allows (EPCIS 2.0 section 8.2.7).
public struct QueryTooLargeException: Error, Sendable, Equatable, CustomStringConvertible {
    public var limit: Int
    public var matching: Int

    public init(limit: Int, matching: Int) {
        self.limit = limit
        self.matching = matching
    }

    public static let problemType = "epcisException:QueryTooLargeException"

    public var description: String {
        "the query matches \(matching) events, more than maxEventCount=\(limit); narrow the query or use eventCountLimit"
    }
}
