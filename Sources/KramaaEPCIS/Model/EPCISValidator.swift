import KramaaJSON

/// Checks EPCIS 2.0 documents and events against the EPCIS JSON Schema
/// (`EPCIS-JSON-Schema.json`, `$id` https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json).
///
/// The schema is an input, so the node can load it from a file or carry a copy; it is compiled
/// once here and the validator is then shared by every capture.
public struct EPCISValidator: Sendable {
    /// The whole schema: an EPCISDocument, EPCISQueryDocument or a standalone event.
    public let documentSchema: JSONSchemaValidator
    /// One event inside a document's event list (`#/definitions/EPCIS-Document-Event`).
    public let eventSchema: JSONSchemaValidator

    /// Compiles the EPCIS JSON Schema. Formats are asserted (an EPC must be a URI, a time an
    /// RFC 3339 date-time); JSON-LD blank node identifiers (`"id": "_:document1"`, as GS1's
    /// examples write document ids) count as URIs, since `id` is JSON-LD's `@id`.
    public init(schema: JSON) throws(JSONSchemaError) {
        let options = JSONSchemaValidator.Options(blankNodeIdentifiersAsURIs: true)
        documentSchema = try JSONSchemaValidator(schema: schema, options: options)
        eventSchema = try JSONSchemaValidator(schema: schema, entry: "#/definitions/EPCIS-Document-Event", options: options)
    }

    /// Every violation in `json` (a document or a standalone event); empty when valid.
    public func validate(_ json: JSON) -> [JSONSchemaViolation] { documentSchema.validate(json) }

    /// Whether `json` is valid, stopping at the first problem.
    public func isValid(_ json: JSON) -> Bool { documentSchema.isValid(json) }

    /// Validates a document's header and each of its events separately, so that a capture can
    /// keep the valid events (`GS1-Capture-Error-Behaviour: proceed`). Event violations keep
    /// their location in the whole document (`/epcisBody/eventList/3/action`).
    public func validateByEvent(_ json: JSON) -> EPCISDocumentValidation {
        guard let listPointer = EPCISDocumentKind.eventListPointer(of: json),
              case .array(let events)? = listPointer.resolve(in: json)
        else {
            return EPCISDocumentValidation(documentViolations: validate(json), eventViolations: [:], eventCount: 0)
        }
        let header = json.replacing(at: listPointer.tokens[...], with: .array([]))
        var eventViolations: [Int: [JSONSchemaViolation]] = [:]
        for (index, event) in events.enumerated() {
            var found = eventSchema.validate(event)
            guard !found.isEmpty else { continue }
            let prefix = listPointer.appending(index)
            for i in found.indices { found[i].prefixLocations(with: prefix) }
            eventViolations[index] = found
        }
        return EPCISDocumentValidation(documentViolations: validate(header), eventViolations: eventViolations, eventCount: events.count)
    }
}

/// The outcome of ``EPCISValidator/validateByEvent(_:)``.
public struct EPCISDocumentValidation: Sendable, Equatable {
    /// Problems outside the event list (header, context, document type); these reject the whole document.
    public var documentViolations: [JSONSchemaViolation]
    /// Problems of each invalid event, by its index in the event list.
    public var eventViolations: [Int: [JSONSchemaViolation]]
    /// How many events the document holds.
    public var eventCount: Int

    public var isValid: Bool { documentViolations.isEmpty && eventViolations.isEmpty }

    /// All violations, document first, then events in order.
    public var allViolations: [JSONSchemaViolation] {
        documentViolations + eventViolations.keys.sorted().flatMap { eventViolations[$0]! }
    }
}

/// The two kinds of EPCIS document and where each keeps its events.
public enum EPCISDocumentKind: String, Sendable {
    case document = "EPCISDocument"
    case queryDocument = "EPCISQueryDocument"

    /// `/epcisBody/eventList` or `/epcisBody/queryResults/resultsBody/eventList`.
    public var eventListPointer: JSONPointer {
        switch self {
        case .document: JSONPointer(tokens: ["epcisBody", "eventList"])
        case .queryDocument: JSONPointer(tokens: ["epcisBody", "queryResults", "resultsBody", "eventList"])
        }
    }

    /// The event list pointer for `json` when it is a document; nil for anything else.
    static func eventListPointer(of json: JSON) -> JSONPointer? {
        guard let type = json["type"]?.stringValue, let kind = EPCISDocumentKind(rawValue: type) else { return nil }
        return kind.eventListPointer
    }
}

extension JSONSchemaViolation {
    /// Moves this violation (and its explanations) under `prefix`.
    mutating func prefixLocations(with prefix: JSONPointer) {
        instanceLocation = JSONPointer(tokens: prefix.tokens + instanceLocation.tokens)
        for i in alternatives.indices {
            for j in alternatives[i].indices { alternatives[i][j].prefixLocations(with: prefix) }
        }
    }
}

extension JSON {
    /// A copy with the value at `path` replaced (the path must exist through objects).
    func replacing(at path: ArraySlice<String>, with value: JSON) -> JSON {
        guard let first = path.first else { return value }
        guard case .object(var object) = self, let child = object[first] else { return self }
        object[first] = child.replacing(at: path.dropFirst(), with: value)
        return .object(object)
    }
}
