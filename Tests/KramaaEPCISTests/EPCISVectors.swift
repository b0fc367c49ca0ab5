import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaTestSupport

/// The EPCIS test material under `$KRAMAA_VECTORS/epcis`, read at run time.
enum EPCISVectors {
    /// The EPCIS 2.0 JSON Schema document.
    static func schema() throws -> JSON {
        try json(at: try Vectors.folder("epcis/schema").appendingPathComponent("EPCIS-JSON-Schema.json"))
    }

    /// The compiled EPCIS validator (compiled once per test process).
    static func validator() throws -> EPCISValidator {
        try EPCISValidator(schema: try schema())
    }

    /// Every JSON-LD example document (full and simple context), in a stable order.
    static func exampleFiles() throws -> [URL] {
        try Vectors.files(in: "epcis/examples/json", ext: "jsonld")
            + Vectors.files(in: "epcis/examples/json-simple-context", ext: "jsonld")
    }

    static func json(at url: URL) throws -> JSON {
        let data = try Data(contentsOf: url)
        return try JSON.parse(Array(data))
    }

    /// A well-formed EPCIS document with the given events (full context).
    static func document(events: [JSON]) -> JSON {
        [
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2024-01-01T00:00:00Z",
            "epcisBody": ["eventList": .array(events)],
        ]
    }

    /// A valid ObjectEvent to break in tests.
    static let objectEvent: JSON = [
        "type": "ObjectEvent",
        "eventTime": "2005-04-03T20:33:31.116-06:00",
        "eventTimeZoneOffset": "-06:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": ["id": "urn:epc:id:sgln:0614141.07346.1234"],
        "bizTransactionList": [["type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"]],
    ]
}

extension JSON {
    /// A copy with `key` set (or removed with nil), for objects.
    func setting(_ key: String, _ value: JSON?) -> JSON {
        guard case .object(var object) = self else { return self }
        object[key] = value
        return .object(object)
    }
}
