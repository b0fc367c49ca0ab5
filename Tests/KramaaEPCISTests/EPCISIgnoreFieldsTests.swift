import Foundation
import KramaaEPCIS
import KramaaTestSupport
import Testing

/// The reference implementation's `ignoreFields` extension in JSON-LD as in XML: the JSON-LD
/// rendering of every XML vector document that uses it gives the XML document's pre-hashes
/// (the JSON-LD renderings are written here from the XML, field for field).
@Suite struct EPCISIgnoreFieldsTests {
    static func event(_ fields: String) -> String {
        """
        {"type": "ObjectEvent", "eventTime": "2024-06-08T10:58:56.591+02:00", "recordTime": "2024-06-08T15:38:32.052+02:00",
         "eventTimeZoneOffset": "+02:00", "epcList": [], "action": "ADD", "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
         "readPoint": {"id": "urn:epc:id:sgln:4054738.00005.0"},
         "quantityList": [{"epcClass": "urn:epc:class:lgtin:4054739.099961.2015-03-30a", "quantity": 150, "uom": "KGM"}], \(fields)}
        """
    }

    static func document(ignore: String) -> String {
        """
        {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                      {"example": "https://ns.example.com/epcis/", "repository-x": "https://repository-x.example.com/"}],
         "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-06-08T15:38:32.052+02:00",
         "repository-x:ignoreFields": \(ignore),
         "epcisBody": {"eventList": [\(event(#""example:testField1": "1234", "example:testField4": "ABCD""#)),
                                     \(event(#""example:testField2": "1234", "example:testField3": "PQRS""#))]}}
        """
    }

    @Test(arguments: [#"["example:testField1", "example:testField2"]"#, #"{"example:testField1": "", "example:testField2": ""}"#])
    func jsonLDIgnoreFieldsGiveTheXMLDocumentsPreHashes(ignore: String) throws {
        let xml = try Vectors.folder("epcis-hash").appendingPathComponent("examples/epcisXmlDocHavingEventWithIgnoreFields.xml")
        let expected = try EPCISXMLDocument(bytes: Array(try Data(contentsOf: xml))).eventPreHashes
        let json = try EPCISDocument(bytes: Array(Self.document(ignore: ignore).utf8))
        #expect(json.ignoredFields == ["{https://ns.example.com/epcis/}testField1", "{https://ns.example.com/epcis/}testField2"])
        #expect(json.eventPreHashes == expected)
        #expect(!json.eventPreHashes[0].contains("testField1") && json.eventPreHashes[0].contains("testField4=ABCD"))
        // Without the list every field counts, and an event's own hash never uses a document's list.
        let plain = try EPCISDocument(bytes: Array(Self.document(ignore: "[]").utf8))
        #expect(plain.eventPreHashes[0].contains("testField1=1234"))
        #expect(EPCISEventHash.preHash(of: json.events[0]).contains("testField1=1234"))
    }
}
