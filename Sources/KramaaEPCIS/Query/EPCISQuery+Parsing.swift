import KramaaJSON

extension EPCISQuery {
    /// Reads the query string of the REST binding (`GET /events?EQ_bizStep=shipping|receiving&…`):
    /// `items` are the decoded name/value pairs; lists are `|`-separated.
    public init(queryItems items: [(name: String, value: String?)]) throws(QueryParameterException) {
        var builder = QueryBuilder(context: .epcis)
        var seen: Set<String> = []
        for (name, value) in items {
            guard seen.insert(name).inserted else { throw .duplicateParameter(name) }
            let text = value ?? ""
            try builder.apply(name, values: text.isEmpty ? [] : text.split(separator: "|", omittingEmptySubsequences: false).map(String.init), raw: text)
        }
        self = try builder.finish()
    }

    /// Reads a query body of the REST `/queries` interface (the object the EPCIS query schema
    /// describes): lists are JSON arrays, times strings, numbers numbers; an `@context` there
    /// defines the prefixes of CURIEs in field names and values.
    public init(json: JSONObject) throws(QueryParameterException) {
        var builder = QueryBuilder(context: JSONLDContext.epcis.merging(json["@context"]))
        for (name, value) in json where name != "@context" {
            let values: [String]
            switch value {
            case .array(let items): values = items.map(Self.text)
            case .null: values = []
            default: values = [Self.text(value)]
            }
            try builder.apply(name, values: values, raw: value.description)
        }
        self = try builder.finish()
    }

    private static func text(_ value: JSON) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): number.text
        case .bool(let flag): flag ? "true" : "false"
        default: value.description
        }
    }
}

/// Turns parameters into an ``EPCISQuery`` one by one.
private struct QueryBuilder {
    let context: JSONLDContext
    var query = EPCISQuery()

    init(context: JSONLDContext) { self.context = context }

    private static let timeParameters: [String: (EPCISTimeField, EPCISComparison)] = [
        "GE_eventTime": (.eventTime, .greaterOrEqual), "LT_eventTime": (.eventTime, .less),
        "GE_recordTime": (.recordTime, .greaterOrEqual), "LT_recordTime": (.recordTime, .less),
        "GE_errorDeclarationTime": (.errorDeclarationTime, .greaterOrEqual), "LT_errorDeclarationTime": (.errorDeclarationTime, .less),
        // The query schema spells these with an underscore.
        "GE_errorDeclaration_Time": (.errorDeclarationTime, .greaterOrEqual), "LT_errorDeclaration_Time": (.errorDeclarationTime, .less),
        "GE_time": (.sensorTime, .greaterOrEqual), "LT_time": (.sensorTime, .less),
        "GE_startTime": (.sensorStartTime, .greaterOrEqual), "LT_startTime": (.sensorStartTime, .less),
        "GE_endTime": (.sensorEndTime, .greaterOrEqual), "LT_endTime": (.sensorEndTime, .less),
    ]
    private static let vocabularyParameters: [String: (EPCISVocabularyField, CBVVocabulary)] = [
        "EQ_bizStep": (.bizStep, .bizStep), "EQ_disposition": (.disposition, .disposition),
        "EQ_persistentDisposition_set": (.persistentDispositionSet, .disposition),
        "EQ_persistentDisposition_unset": (.persistentDispositionUnset, .disposition),
        "EQ_errorReason": (.errorReason, .errorReason),
    ]
    private static let sensorStringFields: Set<String> = [
        "deviceID", "dataProcessingMethod", "microorganism", "chemicalSubstance", "bizRules", "stringValue", "hexBinaryValue", "uriValue",
    ]
    private static let sensorNumberFields: Set<String> = ["value", "minValue", "maxValue", "meanValue", "sDev", "percValue"]

    mutating func apply(_ name: String, values: [String], raw: String) throws(QueryParameterException) {
        func invalid(_ expected: String) -> QueryParameterException {
            .invalidValue(parameter: name, value: raw, expected: expected)
        }
        func list() throws(QueryParameterException) -> [String] {
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else { throw invalid("one or more values separated by |") }
            return values
        }
        func single() throws(QueryParameterException) -> String {
            guard values.count == 1, let value = values.first, !value.isEmpty else { throw invalid("one value") }
            return value
        }
        func timestamp() throws(QueryParameterException) -> EPCISTimestamp {
            guard let time = EPCISTimestamp(rfc3339: try single()) else { throw invalid("an RFC 3339 date-time such as 2024-05-01T00:00:00Z") }
            return time
        }
        func number() throws(QueryParameterException) -> Double {
            guard let value = Double(try single()), value.isFinite else { throw invalid("a number") }
            return value
        }
        func numbers() throws(QueryParameterException) -> [Double] {
            var result: [Double] = []
            for text in try list() {
                guard let value = Double(text), value.isFinite else { throw invalid("numbers separated by |") }
                result.append(value)
            }
            return result
        }
        func count(positive: Bool) throws(QueryParameterException) -> Int {
            guard let value = Int(try single()), value >= (positive ? 1 : 0) else {
                throw invalid(positive ? "a positive integer" : "a non-negative integer")
            }
            return value
        }
        func flag() throws(QueryParameterException) -> Bool {
            switch values.first ?? "" {
            case "", "true", "1": return true
            case "false", "0": return false
            default: throw invalid("true or false")
            }
        }

        if let (field, comparison) = Self.timeParameters[name] {
            query.conditions.append(.time(field, comparison, try timestamp()))
            return
        }
        if let (field, vocabulary) = Self.vocabularyParameters[name] {
            query.conditions.append(.vocabulary(field, Set(try list().map { vocabulary.canonical($0, context: context) })))
            return
        }
        switch name {
        case "eventType": query.conditions.append(.eventType(Set(try list())))
        case "EQ_action":
            var actions: Set<EPCISAction> = []
            for value in try list() {
                guard let action = EPCISAction(rawValue: value) else { throw invalid("ADD, OBSERVE or DELETE") }
                actions.insert(action)
            }
            query.conditions.append(.action(actions))
        case "EQ_readPoint", "WD_readPoint", "EQ_bizLocation", "WD_bizLocation":
            let field: EPCISLocationField = name.hasSuffix("readPoint") ? .readPoint : .bizLocation
            query.conditions.append(.location(field, Set(try list()), withDescendants: name.hasPrefix("WD_")))
        case "EQ_eventID": query.conditions.append(.identifier(.eventID, Set(try list())))
        case "EQ_transformationID": query.conditions.append(.identifier(.transformationID, Set(try list())))
        case "EQ_correctiveEventID": query.conditions.append(.identifier(.correctiveEventID, Set(try list())))
        case "EXISTS_errorDeclaration": if try flag() { query.conditions.append(.exists(.errorDeclaration)) }
        case "EXISTS_sensorElementList": if try flag() { query.conditions.append(.exists(.sensorElementList)) }
        case "EQ_type":
            query.conditions.append(.sensorType(Set(try list().map { CBVVocabulary.measurementType.canonical($0, context: context) })))
        case "EQ_booleanValue": query.conditions.append(.sensorBoolean(try flag()))
        case "orderBy":
            let key = try single()
            switch key {
            case "eventTime": query.orderBy = .eventTime
            case "recordTime": query.orderBy = .recordTime
            default:
                guard key.contains(":") else { throw invalid("eventTime, recordTime or the qualified name of an extension field") }
                query.orderBy = .field(key)
            }
        case "orderDirection":
            switch try single() {
            case "ASC": query.orderDescending = false
            case "DESC": query.orderDescending = true
            default: throw invalid("ASC or DESC")
            }
        case "eventCountLimit": query.eventCountLimit = try count(positive: false)
        case "maxEventCount": query.maxEventCount = try count(positive: false)
        case "perPage": query.perPage = try count(positive: true)
        case "nextPageToken": query.nextPageToken = try single()
        default:
            try applyPatterned(name, invalid: invalid, list: list, numbers: numbers, number: number)
        }
    }

    /// Parameters whose names carry a value: `MATCH_x`, `EQ_bizTransaction_type`,
    /// `GE_value_CEL`, `EQ_quantity_KGM`, `EQ_deviceID`, and extension fields `EQ_ns:field`.
    private mutating func applyPatterned(
        _ name: String, invalid: (String) -> QueryParameterException,
        list: () throws(QueryParameterException) -> [String], numbers: () throws(QueryParameterException) -> [Double],
        number: () throws(QueryParameterException) -> Double
    ) throws(QueryParameterException) {
        guard let underscore = name.firstIndex(of: "_") else { throw .unknownParameter(name) }
        let prefix = String(name[..<underscore])
        let rest = String(name[name.index(after: underscore)...])

        if prefix == "MATCH", let field = EPCISMatchField(rawValue: rest) {
            var patterns: [EPCPattern] = []
            for value in try list() {
                guard let pattern = EPCPattern(value) else { throw invalid("EPC URIs or EPC pattern URIs such as urn:epc:idpat:sgtin:0614141.*.*") }
                patterns.append(pattern)
            }
            query.conditions.append(.match(field, patterns))
            return
        }
        if prefix == "EQ", !rest.contains(":") {
            for (referenceList, vocabulary) in [(EPCISReferenceList.bizTransaction, CBVVocabulary.bizTransactionType), (.source, .sourceDestinationType), (.destination, .sourceDestinationType)] {
                let head = referenceList.rawValue + "_"
                if rest.hasPrefix(head), rest.count > head.count {
                    let type = vocabulary.canonical(String(rest.dropFirst(head.count)), context: context)
                    query.conditions.append(.typedReference(referenceList, type: type, values: Set(try list())))
                    return
                }
            }
            if Self.sensorStringFields.contains(rest) {
                var values = try list()
                if rest == "hexBinaryValue" { values = values.map { $0.uppercased() } }
                query.conditions.append(.sensorString(rest, Set(values)))
                return
            }
        }
        if let comparison = EPCISComparison(rawValue: prefix), !rest.contains(":") {
            let (field, uom) = Self.splitUnit(rest)
            if field == "quantity" {
                query.conditions.append(.quantity(comparison, comparison == .equal ? try numbers() : [try number()], uom: uom))
                return
            }
            if Self.sensorNumberFields.contains(field), uom != nil {
                query.conditions.append(.sensorNumber(field, comparison, comparison == .equal ? try numbers() : [try number()], uom: uom))
                return
            }
            if rest == "percRank", comparison != .equal {
                query.conditions.append(.sensorNumber("percRank", comparison, [try number()], uom: nil))
                return
            }
        }
        if let condition = try fieldCondition(prefix: prefix, rest: rest, list: list) {
            query.conditions.append(.field(condition))
            return
        }
        throw .unknownParameter(name)
    }

    /// `value_CEL` → ("value", "CEL"); a unit is 2 to 4 upper-case letters or digits.
    private static func splitUnit(_ text: String) -> (String, String?) {
        guard let underscore = text.lastIndex(of: "_") else { return (text, nil) }
        let unit = text[text.index(after: underscore)...]
        guard (2...4).contains(unit.count), unit.allSatisfy({ ($0.isUppercase || $0.isNumber) && $0.isASCII }) else { return (text, nil) }
        return (String(text[..<underscore]), String(unit))
    }

    /// `EQ_[INNER_][ILMD_|ERROR_DECLARATION_|…]ns:field` and the `GT/GE/LT/LE/EXISTS` forms.
    private func fieldCondition(prefix: String, rest: String, list: () throws(QueryParameterException) -> [String]) throws(QueryParameterException) -> EPCISFieldCondition? {
        var remainder = Substring(rest)
        let inner = remainder.hasPrefix("INNER_")
        if inner { remainder = remainder.dropFirst("INNER_".count) }
        var scope = EPCISFieldCondition.Scope.event
        for candidate in EPCISFieldCondition.Scope.allCases where !candidate.rawValue.isEmpty && remainder.hasPrefix(candidate.rawValue) {
            scope = candidate
            remainder = remainder.dropFirst(candidate.rawValue.count)
            break
        }
        let field = String(remainder)
        guard field.contains(":"), !field.hasPrefix(":"), !field.hasSuffix(":") else { return nil }
        let test: EPCISFieldCondition.Test
        switch prefix {
        case "EXISTS": test = .exists
        case "EQ": test = .equals(try list())
        default:
            guard let comparison = EPCISComparison(rawValue: prefix) else { return nil }
            let values = try list()
            guard values.count == 1 else {
                throw .invalidValue(parameter: prefix + "_" + rest, value: values.joined(separator: "|"), expected: "one value")
            }
            test = .compare(comparison, values[0])
        }
        return EPCISFieldCondition(scope: scope, inner: inner, name: context.expand(field), test: test)
    }

    func finish() throws(QueryParameterException) -> EPCISQuery {
        if query.eventCountLimit != nil && query.maxEventCount != nil {
            throw .conflictingParameters("eventCountLimit", "maxEventCount", reason: "give only one of them")
        }
        if query.eventCountLimit != nil && query.orderBy == nil {
            throw .conflictingParameters("eventCountLimit", "orderBy", reason: "eventCountLimit needs orderBy to say which events come first")
        }
        return query
    }
}
