import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaTestSupport
import Testing

/// Every upstream example against the upstream EPCIS JSON Schema.
@Suite struct EPCISSchemaVectorTests {
    /// Upstream examples that the upstream schema itself rejects, with the violations expected.
    /// These are inconsistencies in GS1's simple-context examples, not validator faults. The
    /// vectors README lists the first three (found with format assertions off); asserting
    /// `format`, as this validator does, also makes `propertyNames` (URI-or-known-name) bite.
    static let knownInvalid: [String: [(pointer: String, keyword: String)]] = [
        // Omits schemaVersion and creationDate (both required); its sensorElement carries a
        // "type" member, which is neither a sensorElement field nor a URI.
        "json-simple-context/WithSensorData/SensorDataExample12.jsonld":
            [("", "required"), ("", "required"), ("/epcisBody/eventList/0/sensorElementList/0", "anyOf")],
        // sensorElement with a "type" member (not a field of sensorElement, not a URI).
        "json-simple-context/WithSensorData/SensorDataExample14.jsonld": [("/epcisBody/eventList/0/sensorElementList/0", "anyOf")],
        "json-simple-context/WithSensorData/SensorDataExample15.jsonld": [("/epcisBody/eventList/0/sensorElementList/0", "anyOf")],
        // schemaVersion is the number 2.0; the schema wants the string "2.0".
        "json-simple-context/WithSensorData/SensorDataExample17.jsonld": [("/schemaVersion", "type")],
        // sensorElement "type" member, and an OBSERVE ObjectEvent carrying ilmd (only ADD may).
        "json-simple-context/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld":
            [("/epcisBody/eventList/0/sensorElementList/0", "anyOf"), ("/epcisBody/eventList/0", "anyOf")],
        // sensorElement "type" member, and persistentDisposition, which only ObjectEvent and
        // TransformationEvent have.
        "json-simple-context/WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld":
            [("/epcisBody/eventList/0/sensorElementList/0", "anyOf"), ("/epcisBody/eventList/0", "anyOf")],
        "json-simple-context/WithFullCombinationOfFields/transaction_event_all_possible_fields.jsonld":
            [("/epcisBody/eventList/0/sensorElementList/0", "anyOf"), ("/epcisBody/eventList/0", "anyOf")],
    ]

    @Test func everyExampleValidatesExceptTheKnownUpstreamInconsistencies() throws {
        let validator = try EPCISVectors.validator()
        let files = try EPCISVectors.exampleFiles()
        #expect(files.count >= 65)
        var seenKnown: Set<String> = []
        for file in files {
            let name = String(Vectors.name(file).dropFirst("epcis/examples/".count))
            let document = try EPCISVectors.json(at: file)
            let violations = validator.validate(document)
            #expect(validator.isValid(document) == violations.isEmpty, "\(name): isValid disagrees with validate")
            if let expected = Self.knownInvalid[name] {
                seenKnown.insert(name)
                #expect(violations.map { "\($0.instanceLocation)|\($0.keyword)" } == expected.map { "\($0.pointer)|\($0.keyword)" },
                        "\(name): \(violations)")
            } else {
                #expect(violations.isEmpty, "\(name) should validate: \(violations)")
            }
            // Validating event by event finds the same problems as validating the whole document.
            let byEvent = validator.validateByEvent(document)
            #expect(byEvent.allViolations.map(\.description).sorted() == violations.map(\.description).sorted(), "\(name)")
        }
        #expect(seenKnown == Set(Self.knownInvalid.keys), "a known-invalid example is missing from the vectors")
    }

    @Test func theKnownInvalidExamplesSayWhy() throws {
        let validator = try EPCISVectors.validator()
        let folder = try Vectors.folder("epcis/examples/json-simple-context")
        func problems(_ file: String) throws -> [String] {
            validator.validate(try EPCISVectors.json(at: folder.appendingPathComponent(file))).map(\.description)
        }
        let twelve = try problems("WithSensorData/SensorDataExample12.jsonld")
        #expect(Array(twelve.prefix(2)) == [#"/: missing required property "schemaVersion""#, #"/: missing required property "creationDate""#])
        #expect(twelve.last?.hasPrefix(#"/epcisBody/eventList/0/sensorElementList/0: property name "type" is not allowed: does not match any of the allowed forms"#) == true)
        #expect(try problems("WithSensorData/SensorDataExample17.jsonld") == ["/schemaVersion: must be a string, not a number"])
        let object = try problems("WithFullCombinationOfFields/object_event_all_possible_fields.jsonld")
        #expect(object.last?.hasPrefix("/epcisBody/eventList/0: does not match any of the allowed forms (ilmd: must not be present here") == true, "\(object)")
        let aggregation = try problems("WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld")
        #expect(aggregation.last?.hasPrefix(#"/epcisBody/eventList/0: property name "persistentDisposition" is not allowed"#) == true, "\(aggregation)")
    }
}
