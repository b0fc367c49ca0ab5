import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaPrimitives
import Testing

@Suite struct EPCISCaptureTests {
    let validator: EPCISValidator

    init() throws { validator = try EPCISVectors.validator() }

    private var mixedDocument: JSON {
        EPCISVectors.document(events: [
            EPCISVectors.objectEvent.setting("eventID", "urn:uuid:00000000-0000-4000-8000-000000000001"),
            EPCISVectors.objectEvent.setting("eventID", "urn:uuid:00000000-0000-4000-8000-000000000002").setting("action", nil),
            EPCISVectors.objectEvent.setting("eventID", "urn:uuid:00000000-0000-4000-8000-000000000003"),
            EPCISVectors.objectEvent.setting("eventTimeZoneOffset", "+25:00"),
        ])
    }

    @Test func rollbackRejectsEverythingAtTheFirstInvalidEvent() throws {
        let plan = try EPCISCapture.plan(json: mixedDocument, validator: validator, behaviour: .rollback)
        #expect(plan.acceptedEvents.isEmpty && !plan.success)
        #expect(plan.rejectedEvents.map(\.index) == [1])
        let job = plan.job(captureID: "id1", createdAt: EPCISTimestamp(rfc3339: "2024-01-01T00:00:00Z"), finishedAt: EPCISTimestamp(rfc3339: "2024-01-01T00:00:01Z"))
        #expect(job.json == [
            "captureID": "id1", "createdAt": "2024-01-01T00:00:00Z", "finishedAt": "2024-01-01T00:00:01Z",
            "running": false, "success": false, "captureErrorBehaviour": "rollback",
            "errors": [[
                "type": "epcisException:ValidationException", "title": "Invalid event at index 1", "status": 400,
                "detail": #"/epcisBody/eventList/1: missing required property "action""#,
                "instance": "urn:uuid:00000000-0000-4000-8000-000000000002",
            ]],
        ])
    }

    @Test func proceedKeepsTheValidEventsAndReportsEachInvalidOne() throws {
        let plan = try EPCISCapture.plan(json: mixedDocument, validator: validator, behaviour: .proceed)
        #expect(plan.acceptedEvents.map(\.eventID) == ["urn:uuid:00000000-0000-4000-8000-000000000001", "urn:uuid:00000000-0000-4000-8000-000000000003"])
        #expect(plan.rejectedEvents.map(\.index) == [1, 3])
        #expect(plan.rejectedEvents.last?.problem.detail?.hasPrefix("/epcisBody/eventList/3/eventTimeZoneOffset: \"+25:00\" does not match the pattern") == true)
        #expect(plan.rejectedEvents.last?.problem.instance == nil)
        let job = plan.job(captureID: "id2")
        #expect(!job.success && !job.running && job.captureErrorBehaviour == .proceed && job.errors.count == 2)
    }

    /// An eventID written as a hash ID must be the event's own CBV 2.0 hash: another one would
    /// make the event answer to a different event's ID. Checked per event, so `proceed` keeps the rest.
    @Test func hashEventIDsMustBeTheEventsOwnHash() throws {
        let plain = try EPCISCapture.plan(json: EPCISVectors.document(events: [EPCISVectors.objectEvent]), validator: validator, behaviour: .rollback)
        let own = EPCISEventHash.hashID(of: try #require(plain.acceptedEvents.first))
        let other = EPCISEventHash.hashID(digest: SHA256Digest.hash(utf8: "another event"))
        let document = EPCISVectors.document(events: [
            EPCISVectors.objectEvent.setting("eventID", .string(own)),
            EPCISVectors.objectEvent.setting("eventID", .string(own.uppercased().replacingOccurrences(of: "NI:///SHA-256;", with: "ni:///sha-256;"))),
            EPCISVectors.objectEvent.setting("eventID", .string(other)),
            EPCISVectors.objectEvent.setting("eventID", "ni:///sha-256;xyz?ver=CBV2.0"),
        ])
        let plan = try EPCISCapture.plan(json: document, validator: validator, behaviour: .proceed)
        #expect(plan.acceptedEvents.count == 2)
        #expect(plan.rejectedEvents.map(\.index) == [2, 3])
        #expect(plan.rejectedEvents.first?.problem.detail == "eventID \(other) is not this event's hash: the event's hash ID is \(own); give that, or a UUID URN")
        #expect(plan.rejectedEvents.last?.problem.detail?.hasSuffix("is a hash ID but not a SHA-256 CBV 2.0 one: use \(own) or a UUID URN") == true)
    }

    @Test func aValidDocumentIsCapturedWhole() throws {
        let body = EPCISVectors.document(events: [EPCISVectors.objectEvent, EPCISVectors.objectEvent.setting("bizStep", "receiving")]).serialized()
        let plan = try EPCISCapture.plan(body: body, validator: validator, behaviour: .rollback)
        #expect(plan.success && plan.acceptedEvents.count == 2 && plan.rejectedEvents.isEmpty)
        #expect(plan.job(captureID: "id3").json["errors"] == [])
        #expect(plan.job(captureID: "id3").json["success"] == true)
    }

    @Test func requestsThatCannotStartAJobAreRejected() throws {
        #expect(throws: CaptureRejection.self) { try EPCISCapture.plan(body: Array("{\"type\":".utf8), validator: validator, behaviour: .rollback) }
        do {
            _ = try EPCISCapture.plan(json: EPCISVectors.document(events: []).setting("schemaVersion", nil), validator: validator, behaviour: .proceed)
            Issue.record("a document without schemaVersion must be rejected")
        } catch {
            #expect(error.status == 400)
            #expect(error.problem.type == "epcisException:ValidationException")
            #expect(error.description == #"the body is not a valid EPCIS document: /: missing required property "schemaVersion""#)
        }
        #expect(throws: CaptureRejection.tooManyEvents(count: 4, limit: 3)) {
            try EPCISCapture.plan(json: mixedDocument, validator: validator, behaviour: .proceed, captureLimit: 3)
        }
        #expect(CaptureRejection.tooManyEvents(count: 4, limit: 3).status == 413)
        #expect(throws: CaptureRejection.self) { try EPCISCapture.plan(json: EPCISVectors.objectEvent, validator: validator, behaviour: .proceed) }
    }

    @Test func theErrorBehaviourHeader() throws {
        #expect(try CaptureErrorBehaviour(header: nil) == .rollback)
        #expect(try CaptureErrorBehaviour(header: " proceed ") == .proceed)
        #expect(throws: CaptureRejection.invalidHeader(name: "GS1-Capture-Error-Behaviour", value: "greedy", expected: "rollback or proceed")) {
            try CaptureErrorBehaviour(header: "greedy")
        }
    }
}
