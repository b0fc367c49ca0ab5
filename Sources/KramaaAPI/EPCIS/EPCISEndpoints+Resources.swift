import KramaaJSON
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaRPC

/// The EPCIS 2.0 REST binding's top-level resources: the event types, EPCs, business steps,
/// business locations, read points and dispositions present in the repository, each with its
/// `events` sub-resource (the query with that one condition, plus any other query parameters).
extension EPCISEndpoints {
    /// Resource name → the query parameter its `{value}/events` stands for.
    static let topLevel: [(resource: String, parameter: String)] = [
        ("eventTypes", "eventType"), ("epcs", "MATCH_anyEPC"), ("bizSteps", "EQ_bizStep"),
        ("bizLocations", "EQ_bizLocation"), ("readPoints", "EQ_readPoint"), ("dispositions", "EQ_disposition"),
    ]
    static let standardEventTypes = ["AggregationEvent", "AssociationEvent", "ObjectEvent", "TransactionEvent", "TransformationEvent"]

    /// `GET /{resource}`, `/{resource}/{value}` and `/{resource}/{value}/events`.
    func addTopLevelResources(to r: inout HTTPRouter) {
        for (resource, parameter) in Self.topLevel {
            r.get(resource) { [unowned self] _ in
                .json(["@context": Self.context, "type": "Collection", "member": .array(try members(of: resource).map(JSON.string))])
            }
            r.get("\(resource)/{value}") { [unowned self] _ in .json(["@context": Self.context, "type": "Collection", "member": ["events"]]) }
            r.get("\(resource)/{value}/events") { [unowned self] q in queryDocument(try matching([(parameter, q.path("value"))] + q.request.query), for: q.request) }
        }
    }

    static let context: JSON = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

    /// The distinct values of a resource among the recorded events, in first-seen order.
    private func members(of resource: String) throws -> [String] {
        let events = (try index.all()).map(\.event)
        var seen = Set<String>(), out: [String] = []
        func add(_ value: String?) { if let value, seen.insert(value).inserted { out.append(value) } }
        switch resource {
        case "eventTypes":
            Self.standardEventTypes.forEach(add)
            events.forEach { add($0.type.name) }
        case "epcs":
            for e in events { (e.epcList + e.childEPCs + e.inputEPCList + e.outputEPCList + (e.parentID.map { [$0] } ?? [])).forEach(add) }
        case "bizSteps": events.forEach { add($0.bizStep) }
        case "bizLocations": events.forEach { add($0.bizLocation) }
        case "readPoints": events.forEach { add($0.readPoint) }
        case "dispositions": events.forEach { add($0.disposition) }
        default: break
        }
        return out
    }
}
