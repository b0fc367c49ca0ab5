import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaTestSupport
import Testing

/// Every upstream example against the upstream EPCIS JSON Schema.
@Suite struct EPCISSchemaVectorTests {
    /// The violations GS1's own examples are known to have against GS1's own schema, recognised by
    /// what a document contains (not by its file name), as `pointer|keyword`. These are upstream
    /// inconsistencies, not validator faults; the vectors README lists them (found with format
    /// assertions off; asserting `format`, as this validator does, also makes `propertyNames` bite):
    /// - schemaVersion or creationDate missing (both required);
    /// - schemaVersion written as the number 2.0 instead of the string "2.0";
    /// - a sensorElement with a "type" member, which is neither a sensorElement field nor a URI;
    /// - an OBSERVE ObjectEvent carrying ilmd (only ADD may);
    /// - persistentDisposition on an AggregationEvent or TransactionEvent (only ObjectEvent and
    ///   TransformationEvent have it).
    /// Any other violation, or one of these that the validator does not report, fails the test.
    static func upstreamInconsistencies(in document: JSON) -> [String] {
        var found: [String] = []
        if document["schemaVersion"] == nil { found.append("|required") }
        if document["creationDate"] == nil { found.append("|required") }
        if case .number? = document["schemaVersion"] { found.append("/schemaVersion|type") }
        for (i, event) in (document["epcisBody"]?["eventList"]?.arrayValue ?? []).enumerated() {
            for (j, element) in (event["sensorElementList"]?.arrayValue ?? []).enumerated() where element["type"] != nil {
                found.append("/epcisBody/eventList/\(i)/sensorElementList/\(j)|anyOf")
            }
            let type = event["type"]?.stringValue
            let observeWithILMD = type == "ObjectEvent" && event["action"]?.stringValue == "OBSERVE" && event["ilmd"] != nil
            let misplacedDisposition = ["AggregationEvent", "TransactionEvent"].contains(type) && event["persistentDisposition"] != nil
            if observeWithILMD || misplacedDisposition { found.append("/epcisBody/eventList/\(i)|anyOf") }
        }
        return found.sorted()
    }

    @Test func everyExampleValidatesExceptTheKnownUpstreamInconsistencies() throws {
        let validator = try EPCISVectors.validator()
        let files = try EPCISVectors.exampleFiles()
        #expect(!files.isEmpty, "no EPCIS examples found")
        var inconsistent = 0
        for file in files {
            let name = String(Vectors.name(file).dropFirst("epcis/examples/".count))
            let document = try EPCISVectors.json(at: file)
            let violations = validator.validate(document)
            #expect(validator.isValid(document) == violations.isEmpty, "\(name): isValid disagrees with validate")
            let expected = Self.upstreamInconsistencies(in: document)
            if !expected.isEmpty { inconsistent += 1 }
            #expect(violations.map { "\($0.instanceLocation)|\($0.keyword)" }.sorted() == expected, "\(name): \(violations)")
            // Validating event by event finds the same problems as validating the whole document.
            let byEvent = validator.validateByEvent(document)
            #expect(byEvent.allViolations.map(\.description).sorted() == violations.map(\.description).sorted(), "\(name)")
        }
        print("EPCIS examples: \(files.count) documents, \(inconsistent) with known upstream inconsistencies")
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
