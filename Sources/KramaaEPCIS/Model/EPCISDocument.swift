import KramaaJSON

/// An EPCISDocument or EPCISQueryDocument read into events.
///
/// The document JSON is kept verbatim (the chain stores what was captured); each event keeps
/// its own JSON and the `@context` that applies to it.
public struct EPCISDocument: Sendable, Equatable {
    public let json: JSON
    public var kind: EPCISDocumentKind
    /// The document's `@context` as written.
    public var contextJSON: JSON?
    public var schemaVersion: String?
    public var creationDate: EPCISTimestamp?
    /// For query documents: the query's name and, for subscription results, the subscription.
    public var queryName: String?
    public var subscriptionID: String?
    public var events: [EPCISEvent]

    /// Reads a document. Throws the first problem that prevents reading it as events; run the
    /// ``EPCISValidator`` first for the complete list.
    public init(json: JSON) throws(EPCISModelError) {
        guard case .object(let object) = json else { throw .notAnObject(pointer: "") }
        let type = object["type"]?.stringValue
        guard let type, let kind = EPCISDocumentKind(rawValue: type) else { throw .notADocument(type: type) }
        let reader = FieldReader(object: object, pointer: "")
        self.json = json
        self.kind = kind
        contextJSON = object["@context"]
        schemaVersion = object["schemaVersion"]?.stringValue
        creationDate = try reader.timestamp("creationDate")
        let results = kind == .queryDocument ? JSONPointer(tokens: ["epcisBody", "queryResults"]).resolve(in: json) : nil
        queryName = results?["queryName"]?.stringValue
        subscriptionID = results?["subscriptionID"]?.stringValue
        let listPointer = kind.eventListPointer
        guard let list = listPointer.resolve(in: json) else {
            throw .missingField("eventList", pointer: JSONPointer(tokens: Array(listPointer.tokens.dropLast())).description)
        }
        guard case .array(let items) = list else {
            throw .invalidField("eventList", pointer: JSONPointer(tokens: Array(listPointer.tokens.dropLast())).description, expected: "an array of events")
        }
        var events: [EPCISEvent] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            events.append(try EPCISEvent(json: item, documentContext: contextJSON, pointer: listPointer.appending(index)))
        }
        self.events = events
    }

    /// Parses and reads a document from its bytes.
    public init(bytes: some Collection<UInt8>) throws(EPCISDocumentReadError) {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw .malformedJSON(error) }
        do { try self.init(json: json) } catch { throw .notEPCIS(error) }
    }
}

/// Why bytes could not be read as an EPCIS document.
public enum EPCISDocumentReadError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedJSON(JSONParseError)
    case notEPCIS(EPCISModelError)

    public var description: String {
        switch self {
        case .malformedJSON(let error): "the document is not valid JSON: \(error)"
        case .notEPCIS(let error): "the document is not an EPCIS document: \(error)"
        }
    }
}
