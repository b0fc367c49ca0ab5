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
            r.get("\(resource)/{value}/events") { [unowned self] q in try queryDocument([(parameter, q.path("value"))] + q.request.query, for: q.request) }
        }
    }

    static let context: JSON = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

    /// The distinct values of a resource among the recorded events, in first-seen order.
    private func members(of resource: String) throws -> [String] {
        switch resource {
        case "eventTypes":
            let recorded = try index.distinctValues("type")
            return Self.standardEventTypes + recorded.filter { !Self.standardEventTypes.contains($0) }
        case "epcs": return try index.distinctValues("epc")
        case "bizSteps": return try index.distinctValues("biz_step")
        case "bizLocations": return try index.distinctValues("biz_location")
        case "readPoints": return try index.distinctValues("read_point")
        case "dispositions": return try index.distinctValues("disposition")
        default: return []
        }
    }
}
