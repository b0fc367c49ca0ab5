import KramaaJSON

/// The location hierarchy of master data, for `WD_readPoint` / `WD_bizLocation`: a location
/// matches a `WD_` value that is itself or one of its ancestors.
public struct EPCISLocationHierarchy: Sendable, Equatable {
    /// Child → its parents.
    private var parents: [String: Set<String>] = [:]

    public init() {}

    /// A hierarchy from parent → children lists, as master data's `children` gives them.
    public init(children: [String: [String]]) {
        for (parent, list) in children {
            for child in list { parents[child, default: []].insert(parent) }
        }
    }

    /// Reads the `children` of every vocabulary element of an EPCIS header's `vocabularyList`.
    public init(vocabularyList: JSON) {
        var children: [String: [String]] = [:]
        for vocabulary in vocabularyList.arrayValue ?? [] {
            for element in vocabulary["vocabularyElementList"]?.arrayValue ?? [] {
                guard let id = element["id"]?.stringValue else { continue }
                children[id, default: []] += (element["children"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
        }
        self.init(children: children)
    }

    /// Whether `location` is one of `ancestors` or lies below one of them.
    public func location(_ location: String, isWithin ancestors: Set<String>) -> Bool {
        var pending = [location]
        var visited: Set<String> = []
        while let next = pending.popLast() {
            if ancestors.contains(next) { return true }
            guard visited.insert(next).inserted else { continue }
            pending.append(contentsOf: parents[next] ?? [])
        }
        return false
    }
}

extension EPCISQuery {
    /// Whether `event` meets every condition.
    public func matches(_ event: EPCISEvent, hierarchy: EPCISLocationHierarchy = EPCISLocationHierarchy()) -> Bool {
        conditions.allSatisfy { $0.matches(event, hierarchy: hierarchy) }
    }

    /// The query's result over `events`: those that match, ordered by `orderBy`, cut to
    /// `eventCountLimit`; throws when more than `maxEventCount` match.
    public func execute(_ events: some Sequence<EPCISEvent>, hierarchy: EPCISLocationHierarchy = EPCISLocationHierarchy()) throws(QueryTooLargeException) -> [EPCISEvent] {
        var result = events.filter { matches($0, hierarchy: hierarchy) }
        if let orderBy {
            result = Self.sorted(result, by: orderBy, descending: orderDescending)
        }
        if let limit = eventCountLimit, result.count > limit { result.removeSubrange(limit...) }
        if let limit = maxEventCount, result.count > limit { throw QueryTooLargeException(limit: limit, matching: result.count) }
        return result
    }

    /// One page of a result: `perPage` events (default 30) from `offset`, and the offset of the
    /// next page when there is one. The HTTP layer turns offsets into `nextPageToken`s.
    public func page<T>(of results: [T], from offset: Int) -> (items: ArraySlice<T>, nextOffset: Int?) {
        let start = min(max(offset, 0), results.count)
        let end = min(start + (perPage ?? Self.defaultPerPage), results.count)
        return (results[start..<end], end < results.count ? end : nil)
    }

    /// Stable sort on the key; events without it go last whatever the direction.
    private static func sorted(_ events: [EPCISEvent], by key: EPCISOrderKey, descending: Bool) -> [EPCISEvent] {
        let keyed = events.enumerated().map { (index: $0.offset, key: SortKey(event: $0.element, key: key), event: $0.element) }
        return keyed.sorted { lhs, rhs in
            switch (lhs.key, rhs.key) {
            case (nil, nil): return lhs.index < rhs.index
            case (nil, _): return false
            case (_, nil): return true
            case (let l?, let r?):
                if l == r { return lhs.index < rhs.index }
                return descending ? r < l : l < r
            }
        }.map(\.event)
    }
}

/// A value `orderBy` compares: times by instant, numbers by value, strings by code points.
private enum SortKey: Comparable {
    case time(EPCISTimestamp)
    case number(Double)
    case text(String)

    init?(event: EPCISEvent, key: EPCISOrderKey) {
        switch key {
        case .eventTime: self = .time(event.eventTime)
        case .recordTime:
            guard let time = event.recordTime else { return nil }
            self = .time(time)
        case .field(let name):
            guard let value = event.extensionValue(name).map(FieldValue.unwrap) else { return nil }
            switch value {
            case .number(let number): self = .number(number.double)
            case .string(let text): self = EPCISTimestamp(rfc3339: text).map(SortKey.time) ?? .text(text)
            default: return nil
            }
        }
    }

    static func < (lhs: SortKey, rhs: SortKey) -> Bool {
        switch (lhs, rhs) {
        case (.time(let a), .time(let b)): a < b
        case (.number(let a), .number(let b)): a < b
        case (.text(let a), .text(let b)): Array(a.unicodeScalars.map(\.value)).lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
        default: lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .time: 0
        case .number: 1
        case .text: 2
        }
    }
}

extension EPCISQueryCondition {
    /// Whether `event` meets this condition.
    public func matches(_ event: EPCISEvent, hierarchy: EPCISLocationHierarchy = EPCISLocationHierarchy()) -> Bool {
        switch self {
        case .eventType(let names):
            return names.contains(event.type.name)
        case .time(let field, let comparison, let bound):
            return Self.times(field, of: event).contains { comparison.holds($0, bound) }
        case .action(let actions):
            return event.action.map(actions.contains) ?? false
        case .vocabulary(let field, let values):
            switch field {
            case .bizStep: return event.bizStep.map(values.contains) ?? false
            case .disposition: return event.disposition.map(values.contains) ?? false
            case .persistentDispositionSet: return event.persistentDispositionSet.contains(where: values.contains)
            case .persistentDispositionUnset: return event.persistentDispositionUnset.contains(where: values.contains)
            case .errorReason: return event.errorDeclaration?.reason.map(values.contains) ?? false
            }
        case .location(let field, let values, let withDescendants):
            guard let location = field == .readPoint ? event.readPoint : event.bizLocation else { return false }
            return withDescendants ? hierarchy.location(location, isWithin: values) : values.contains(location)
        case .identifier(let field, let values):
            switch field {
            case .eventID: return event.eventID.map(values.contains) ?? false
            case .transformationID: return event.transformationID.map(values.contains) ?? false
            case .correctiveEventID: return event.errorDeclaration?.correctiveEventIDs.contains(where: values.contains) ?? false
            }
        case .match(let field, let patterns):
            return Self.matchValues(field, of: event).contains { value in patterns.contains { $0.matches(value) } }
        case .quantity(let comparison, let bounds, let uom):
            return event.allQuantities.contains { element in
                guard let amount = element.quantity?.double, uom == nil || element.uom == uom else { return false }
                return bounds.contains { comparison.holds(amount, $0) }
            }
        case .exists(.errorDeclaration):
            return event.errorDeclaration != nil
        case .exists(.sensorElementList):
            return !event.sensorElementList.isEmpty
        case .typedReference(let list, let type, let values):
            let references = switch list {
            case .bizTransaction: event.bizTransactionList
            case .source: event.sourceList
            case .destination: event.destinationList
            }
            return references.contains { $0.type == type && values.contains($0.value) }
        case .sensorType(let types):
            return event.sensorElementList.contains { $0.reports.contains { $0.type.map(types.contains) ?? false } }
        case .sensorString(let field, let values):
            let normalise: (String) -> String = field == "hexBinaryValue" ? { $0.uppercased() } : { $0 }
            return event.sensorElementList.contains { element in
                if let value = element.metadata?[field]?.stringValue, values.contains(normalise(value)) { return true }
                return element.reports.contains { $0.string(field).map { values.contains(normalise($0)) } ?? false }
            }
        case .sensorBoolean(let flag):
            return event.sensorElementList.contains { $0.reports.contains { $0.json["booleanValue"]?.boolValue == flag } }
        case .sensorNumber(let field, let comparison, let bounds, let uom):
            return event.sensorElementList.contains { element in
                element.reports.contains { report in
                    guard let value = report.number(field), uom == nil || report.string("uom") == uom else { return false }
                    return bounds.contains { comparison.holds(value, $0) }
                }
            }
        case .field(let condition):
            return condition.matches(event)
        }
    }

    private static func times(_ field: EPCISTimeField, of event: EPCISEvent) -> [EPCISTimestamp] {
        switch field {
        case .eventTime: return [event.eventTime]
        case .recordTime: return event.recordTime.map { [$0] } ?? []
        case .errorDeclarationTime: return event.errorDeclaration.map { [$0.declarationTime] } ?? []
        case .sensorTime, .sensorStartTime, .sensorEndTime:
            return event.sensorElementList.flatMap { element in
                let fromMetadata = element.metadata?[field.rawValue]?.stringValue.flatMap(EPCISTimestamp.init(rfc3339:))
                let fromReports = field == .sensorTime ? element.reports.compactMap { $0.string("time").flatMap(EPCISTimestamp.init(rfc3339:)) } : []
                return (fromMetadata.map { [$0] } ?? []) + fromReports
            }
        }
    }

    private static func matchValues(_ field: EPCISMatchField, of event: EPCISEvent) -> [String] {
        switch field {
        case .epc: event.epcList + event.childEPCs
        case .parentID: event.parentID.map { [$0] } ?? []
        case .inputEPC: event.inputEPCList
        case .outputEPC: event.outputEPCList
        case .anyEPC: event.allEPCs
        case .epcClass: (event.quantityList + event.childQuantityList).map(\.epcClass)
        case .inputEPCClass: event.inputQuantityList.map(\.epcClass)
        case .outputEPCClass: event.outputQuantityList.map(\.epcClass)
        case .anyEPCClass: event.allQuantities.map(\.epcClass)
        }
    }
}

extension EPCISFieldCondition {
    /// Whether `event` has the field in this condition's scope and its value passes the test.
    public func matches(_ event: EPCISEvent) -> Bool {
        let iri = event.context.expand(name)
        var found = false
        for container in containers(of: event) {
            FieldValue.visit(container, inner: inner, standard: standardMembers) { key, value in
                guard !found, key == name || event.context.expand(key) == iri else { return }
                if passes(FieldValue.unwrap(value)) { found = true }
            }
            if found { return true }
        }
        return false
    }

    /// The objects whose members are this scope's fields.
    private func containers(of event: EPCISEvent) -> [JSONObject] {
        switch scope {
        case .event: return event.json.objectValue.map { [$0] } ?? []
        case .ilmd: return event.ilmd.map { [$0] } ?? []
        case .errorDeclaration: return event.errorDeclaration.map { [$0.json] } ?? []
        case .sensorElement: return (event.json["sensorElementList"]?.arrayValue ?? []).compactMap(\.objectValue)
        case .sensorMetadata: return event.sensorElementList.compactMap(\.metadata)
        case .sensorReport: return event.sensorElementList.flatMap { $0.reports.map(\.json) }
        case .readPoint: return event.json["readPoint"]?.objectValue.map { [$0] } ?? []
        case .bizLocation: return event.json["bizLocation"]?.objectValue.map { [$0] } ?? []
        }
    }

    /// Members of the scope that are standard fields, not extensions.
    private var standardMembers: Set<String> {
        switch scope {
        case .event: EPCISEvent.standardFields
        case .errorDeclaration: ["declarationTime", "reason", "correctiveEventIDs"]
        case .sensorElement: ["sensorMetadata", "sensorReport"]
        case .readPoint, .bizLocation: ["id"]
        case .ilmd, .sensorMetadata, .sensorReport: []
        }
    }

    private func passes(_ value: JSON) -> Bool {
        switch test {
        case .exists: return true
        case .equals(let candidates): return candidates.contains { FieldValue.compare(value, $0) == .orderedSame }
        case .compare(let comparison, let bound):
            guard let order = FieldValue.compare(value, bound) else { return false }
            switch comparison {
            case .greater: return order == .orderedDescending
            case .greaterOrEqual: return order != .orderedAscending
            case .less: return order == .orderedAscending
            case .lessOrEqual: return order != .orderedDescending
            case .equal: return order == .orderedSame
            }
        }
    }
}

/// Reading extension field values: JSON-LD value objects, nesting, typed comparison.
enum FieldValue {
    /// `{"@value": x, "@type": t}` → x.
    static func unwrap(_ value: JSON) -> JSON {
        if case .object(let object) = value, let inner = object["@value"] { return inner }
        return value
    }

    /// Calls `body` for each member of `container` (skipping `standard` ones); with `inner`,
    /// for the members nested anywhere inside the extension members instead.
    static func visit(_ container: JSONObject, inner: Bool, standard: Set<String>, _ body: (String, JSON) -> Void) {
        for (key, value) in container where !standard.contains(key) && !key.hasPrefix("@") {
            if inner { visitNested(value, body) } else { body(key, value) }
        }
    }

    private static func visitNested(_ value: JSON, _ body: (String, JSON) -> Void) {
        switch value {
        case .object(let object):
            for (key, member) in object where !key.hasPrefix("@") {
                body(key, member)
                visitNested(member, body)
            }
        case .array(let items):
            for item in items { visitNested(item, body) }
        default: break
        }
    }

    /// How `value` orders against the query text `bound`: as instants when both are times, as
    /// numbers when both are numbers, as strings for equality; nil when they do not compare.
    static func compare(_ value: JSON, _ bound: String) -> FieldOrder? {
        switch value {
        case .number(let number):
            guard let other = Double(bound) else { return nil }
            return order(number.double, other)
        case .string(let text):
            if let time = EPCISTimestamp(rfc3339: text), let other = EPCISTimestamp(rfc3339: bound) { return order(time, other) }
            if let number = Double(text), let other = Double(bound) { return order(number, other) }
            return text == bound ? .orderedSame : nil
        case .bool(let flag):
            return bound == (flag ? "true" : "false") ? .orderedSame : nil
        default:
            return nil
        }
    }

    private static func order<T: Comparable>(_ lhs: T, _ rhs: T) -> FieldOrder {
        lhs < rhs ? .orderedAscending : lhs > rhs ? .orderedDescending : .orderedSame
    }
}

/// How a field value orders against a query value.
enum FieldOrder { case orderedAscending, orderedSame, orderedDescending }
