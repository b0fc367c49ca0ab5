import Foundation
import KramaaEPCIS
import KramaaGS1
import KramaaJSON
import KramaaTestSupport
import Testing

@Suite struct EPCISModelTests {
    @Test func everyExampleReadsIntoEventsOfEveryType() throws {
        var types: Set<String> = []
        for file in try Vectors.files(in: "epcis/examples/json", ext: "jsonld") {
            let document = try EPCISDocument(json: try EPCISVectors.json(at: file))
            #expect(!document.events.isEmpty, "\(Vectors.name(file))")
            for event in document.events { types.insert(event.type.name) }
        }
        // The examples cover all five event types (how many of each is the suite's business).
        #expect(types == ["ObjectEvent", "AssociationEvent", "TransformationEvent", "AggregationEvent", "TransactionEvent"])
        for file in try Vectors.files(in: "epcis/examples/json-simple-context", ext: "jsonld") {
            #expect(try !EPCISDocument(json: try EPCISVectors.json(at: file)).events.isEmpty, "\(Vectors.name(file))")
        }
    }

    /// The full-context and simple-context twins write values differently (`gs1:Temperature` vs
    /// `Temperature`, CURIEs vs bare words); the canonical fields must agree. Where upstream twins
    /// differ in content, not notation, the difference is recognised by what it is, never by file:
    /// - the simple twin drops the errorDeclaration;
    /// - the simple twin is an OBSERVE ObjectEvent carrying ilmd (invalid against the schema, see
    ///   `EPCISSchemaVectorTests`) where the full twin says ADD;
    /// - one twin names the GTIN without the serial the other has.
    static func sameIgnoringSerials(_ a: [String], _ b: [String]) -> Bool {
        func classes(_ epcs: [String]) -> Set<String> {
            Set(epcs.map { epc in
                let link = CanonicalDigitalLink.normalise(epc) ?? epc
                return link.range(of: "/21/").map { String(link[..<$0.lowerBound]) } ?? link
            })
        }
        return classes(a) == classes(b)
    }

    @Test func fullAndSimpleContextTwinsGiveTheSameCanonicalFields() throws {
        let simpleFolder = try Vectors.folder("epcis/examples/json-simple-context")
        var compared = 0
        for file in try Vectors.files(in: "epcis/examples/json", ext: "jsonld") {
            let relative = String(Vectors.name(file).dropFirst("epcis/examples/json/".count))
            let twinURL = simpleFolder.appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: twinURL.path) else { continue }
            let full = try EPCISDocument(json: try EPCISVectors.json(at: file))
            let simple = try EPCISDocument(json: try EPCISVectors.json(at: twinURL))
            try #require(full.events.count == simple.events.count, "\(relative)")
            for (a, b) in zip(full.events, simple.events) {
                #expect(a.type == b.type && a.eventTime == b.eventTime, "\(relative)")
                let observeWithILMD = b.type == .object && b.action == .observe && b.ilmd != nil && a.action == .add
                #expect(observeWithILMD || a.action == b.action, "\(relative)")
                #expect(a.bizStep == b.bizStep && a.disposition == b.disposition, "\(relative)")
                #expect(a.readPoint == b.readPoint && a.bizLocation == b.bizLocation, "\(relative)")
                #expect(a.allEPCs == b.allEPCs || Self.sameIgnoringSerials(a.allEPCs, b.allEPCs), "\(relative)")
                #expect(a.allQuantities == b.allQuantities, "\(relative)")
                #expect(a.bizTransactionList == b.bizTransactionList && a.sourceList == b.sourceList && a.destinationList == b.destinationList, "\(relative)")
                #expect(a.sensorElementList.flatMap(\.reports).map(\.type) == b.sensorElementList.flatMap(\.reports).map(\.type), "\(relative)")
                #expect(b.errorDeclaration == nil || a.errorDeclaration == b.errorDeclaration, "\(relative)")
            }
            compared += 1
        }
        #expect(compared > 0, "no full/simple-context twins found")
    }

    @Test func typedFieldsOfTheFullObjectEventExample() throws {
        let url = try Vectors.folder("epcis/examples/json").appendingPathComponent("WithFullCombinationOfFields/object_event_all_possible_fields.jsonld")
        let document = try EPCISDocument(json: try EPCISVectors.json(at: url))
        #expect(document.kind == .document && document.schemaVersion == "2.0")
        let event = try #require(document.events.first)
        #expect(event.type == .object && event.action == .add)
        #expect(event.errorDeclaration?.reason == "https://ref.gs1.org/cbv/ER-incorrect_data")
        #expect(event.eventTime == EPCISTimestamp(rfc3339: "2005-04-05T02:33:31.116Z"))
        #expect(event.bizStep == "https://ref.gs1.org/cbv/BizStep-receiving")
        #expect(event.disposition == "https://ref.gs1.org/cbv/Disp-in_progress")
        #expect(event.readPoint == "urn:epc:id:sgln:0012345.11111.400")
        #expect(event.epcList == ["urn:epc:id:sgtin:0614141.107346.2018"])
        #expect(event.quantityList.first?.epcClass == "urn:epc:class:lgtin:4012345.012345.998877")
        #expect(event.bizTransactionList.first == EPCISTypedReference(type: "https://ref.gs1.org/cbv/BTT-po", value: "urn:epc:id:gdti:0614141.00001.1618034"))
        #expect(event.sourceList.map(\.type) == ["https://ref.gs1.org/cbv/SDT-location", "https://ref.gs1.org/cbv/SDT-possessing_party", "https://ref.gs1.org/cbv/SDT-owning_party"])
        #expect(event.sensorElementList.first?.reports.first?.type == "https://gs1.org/voc/Temperature")
        #expect(event.sensorElementList.first?.reports.first?.number("value") == 26)
        // Extensions are kept and their CURIEs expanded with the document's context.
        #expect(event.extensionValue("ext1:float") == "20")
        #expect(event.extensionValue("http://example.com/ext1/float") == "20")
        // The event JSON is what was written, member order included.
        #expect(event.json == JSONPointer("/epcisBody/eventList/0")!.resolve(in: document.json))
        #expect(event.json.objectValue?.keys.first == "type")
    }

    @Test func queryDocumentsReadTheirResults() throws {
        let url = try Vectors.folder("epcis/examples/json").appendingPathComponent("EPCISQueryDocument.jsonld")
        let document = try EPCISDocument(json: try EPCISVectors.json(at: url))
        #expect(document.kind == .queryDocument)
        #expect(document.queryName != nil)
        #expect(!document.events.isEmpty)
    }

    @Test func cbvValuesHaveOneCanonicalForm() {
        let forms = ["shipping", "cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"]
        #expect(Set(forms.map { CBVVocabulary.bizStep.canonical($0) }) == ["https://ref.gs1.org/cbv/BizStep-shipping"])
        #expect(CBVVocabulary.disposition.canonical("urn:epcglobal:cbv:disp:in_transit") == "https://ref.gs1.org/cbv/Disp-in_transit")
        #expect(CBVVocabulary.bizTransactionType.canonical("po") == "https://ref.gs1.org/cbv/BTT-po")
        #expect(CBVVocabulary.sourceDestinationType.canonical("urn:epcglobal:cbv:sdt:owning_party") == "https://ref.gs1.org/cbv/SDT-owning_party")
        #expect(CBVVocabulary.errorReason.canonical("incorrect_data") == "https://ref.gs1.org/cbv/ER-incorrect_data")
        #expect(CBVVocabulary.measurementType.canonical("gs1:Temperature") == CBVVocabulary.measurementType.canonical("Temperature"))
        #expect(CBVVocabulary.bizStep.term("urn:epcglobal:cbv:bizstep:receiving") == "receiving")
        // Company-defined values stay URIs; CURIEs expand with the context's prefixes.
        #expect(CBVVocabulary.bizStep.canonical("https://example.com/steps/polishing") == "https://example.com/steps/polishing")
        let context = JSONLDContext.epcis.merging(["ex": "https://example.com/steps/"])
        #expect(CBVVocabulary.bizStep.canonical("ex:polishing", context: context) == "https://example.com/steps/polishing")
        #expect(CBVVocabulary.bizStep.term("ex:polishing", context: context) == nil)
    }

    @Test func timestampsCompareByInstant() throws {
        let a = try #require(EPCISTimestamp(rfc3339: "2005-04-03T20:33:31.116-06:00"))
        let b = try #require(EPCISTimestamp(rfc3339: "2005-04-04T02:33:31.116Z"))
        #expect(a == b && a.offsetMinutes == -360)
        #expect(b.description == "2005-04-04T02:33:31.116Z")
        #expect(EPCISTimestamp(rfc3339: "1969-12-31T23:59:59.5Z")! < EPCISTimestamp(secondsSinceEpoch: 0))
        #expect(EPCISTimestamp(rfc3339: "1969-12-31T23:59:59.5Z")?.description == "1969-12-31T23:59:59.5Z")
        #expect(EPCISTimestamp(rfc3339: "2005-04-03T20:33:31.1234567891Z")?.nanoseconds == 123_456_789)
    }

    @Test func malformedEventsAreNamed() {
        #expect(throws: EPCISModelError.notADocument(type: "ObjectEvent")) { try EPCISDocument(json: EPCISVectors.objectEvent) }
        let noTime = EPCISVectors.document(events: [EPCISVectors.objectEvent.setting("eventTime", nil)])
        #expect(throws: EPCISModelError.missingField("eventTime", pointer: "/epcisBody/eventList/0")) { try EPCISDocument(json: noTime) }
        let badAction = EPCISVectors.document(events: [EPCISVectors.objectEvent.setting("action", "MOVE")])
        #expect(throws: EPCISModelError.invalidField("action", pointer: "/epcisBody/eventList/0", expected: "ADD, OBSERVE or DELETE")) { try EPCISDocument(json: badAction) }
        let badList = EPCISVectors.document(events: [EPCISVectors.objectEvent.setting("epcList", "urn:epc:id:sgtin:1.2.3")])
        #expect(throws: EPCISModelError.invalidField("epcList", pointer: "/epcisBody/eventList/0", expected: "an array of strings")) { try EPCISDocument(json: badList) }
        let noBody = EPCISVectors.document(events: []).setting("epcisBody", [:])
        #expect(throws: EPCISModelError.missingField("eventList", pointer: "/epcisBody")) { try EPCISDocument(json: noBody) }
        #expect(throws: EPCISDocumentReadError.self) { try EPCISDocument(bytes: Array("{".utf8)) }
        #expect((try? EPCISDocument(bytes: EPCISVectors.document(events: [EPCISVectors.objectEvent]).serialized()))?.events.count == 1)
    }

    @Test func standaloneEventsUseTheirOwnContext() throws {
        let event = try EPCISEvent(json: EPCISVectors.objectEvent
            .setting("@context", ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", ["acme": "https://acme.example/voc/"]])
            .setting("acme:batch", "B-17"))
        #expect(event.extensionValue("acme:batch") == "B-17")
        #expect(event.extensions.map(\.iri) == ["https://acme.example/voc/batch"])
        #expect(event.bizStep == "https://ref.gs1.org/cbv/BizStep-shipping")
    }
}
