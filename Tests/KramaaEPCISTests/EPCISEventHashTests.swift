import KramaaEPCIS
import KramaaJSON
import KramaaPrimitives
import Testing

@Suite("EPCIS event hash rules")
struct EPCISEventHashTests {
    /// The pre-hash of an ObjectEvent with `eventTime` and one extension member `{https://ns.example.com/}value`.
    private func preHash(eventTime: String = "2020-01-01T00:00:00Z", extensionValue: String) -> String {
        let event = EPCISHashEvent(type: "ObjectEvent", children: [
            EPCISHashNode(name: "eventTime", text: eventTime),
            EPCISHashNode(name: "{https://ns.example.com/}value", text: extensionValue),
        ])
        return EPCISEventHash.preHash(of: event)
    }

    private func canonicalNumber(_ text: String) -> String {
        String(preHash(extensionValue: text).split(separator: "}value=", maxSplits: 1).last ?? "")
    }

    private func canonicalTime(_ text: String) -> String {
        String(preHash(eventTime: text, extensionValue: "x").dropFirst("eventType=ObjectEventeventTime=".count).prefix { $0 != "{" })
    }

    @Test("numbers are written as the reference writes them: whole numbers as integers, others shortest")
    func numbers() {
        #expect(canonicalNumber("+0150.0") == "150")
        #expect(canonicalNumber("26.10") == "26.1")
        #expect(canonicalNumber("0.00001") == "1e-05")
        #expect(canonicalNumber("0.0001") == "0.0001")
        #expect(canonicalNumber(".5") == "0.5")
        #expect(canonicalNumber("1_000") == "1000")
        #expect(canonicalNumber("1E3") == "1000")
        #expect(canonicalNumber("-0") == "0")
        #expect(canonicalNumber("1e20") == "100000000000000000000")
        #expect(canonicalNumber("12345678901234567890") == "12345678901234567890")  // exact, not through a double
        #expect(canonicalNumber("1e400") == "1e+400")
        #expect(canonicalNumber("12a") == "12a")
        #expect(canonicalNumber("1__0") == "1__0")
        #expect(canonicalNumber("1e") == "1e")
        #expect(canonicalNumber("-2.50e-3") == "-0.0025")
        #expect(canonicalNumber("1234567.125e10") == "12345671250000000")
        #expect(canonicalNumber("0.000012345") == "1.2345e-05")
        #expect(canonicalNumber("123456789012345678.5") == "1.234567890123456785e+17")
    }

    /// Different numbers never share a pre-hash (two 23-digit quantities used to round to one
    /// double), and one number written in different ways always does (past the double range too).
    @Test("different numbers never collide, equal numbers written differently always do")
    func numbersAreExact() {
        let different = ["10000000000000000000001", "10000000000000000000002", "1e22", "0.1", "0.10000000000000000000001",
                         "1e-400", "0", "1e400", "1e401", "-1e400", "9007199254740993", "9007199254740992"]
        #expect(Set(different.map(canonicalNumber)).count == different.count, "\(different.map(canonicalNumber))")
        let same = [["1e400", "1E400", "10e399", "+1.0e400", "0.01e402"], ["10000000000000000000001", "1.0000000000000000000001e22"],
                    ["0.5", ".5", "5e-1", "00.500"], ["0", "-0", "0e999", "-0.000"], ["1e-400", "0.1e-399"]]
        for spellings in same {
            #expect(Set(spellings.map(canonicalNumber)).count == 1, "\(spellings.map(canonicalNumber))")
        }
        // An exponent too long to read stays as written rather than costing time or memory.
        #expect(canonicalNumber("1e1234567890") == "1e1234567890")
    }

    @Test("timestamps become UTC at millisecond precision, the microsecond rounded half to even")
    func timestamps() {
        #expect(canonicalTime("2005-04-03T20:33:31.116-06:00") == "2005-04-04T02:33:31.116Z")
        #expect(canonicalTime("2020-03-04T11:00:30+01:00") == "2020-03-04T10:00:30.000Z")
        #expect(canonicalTime("2020-03-04T10:00:30.1234567Z") == "2020-03-04T10:00:30.123Z")
        #expect(canonicalTime("2020-03-04T10:00:30.0015Z") == "2020-03-04T10:00:30.002Z")
        #expect(canonicalTime("2020-03-04T10:00:30.0025Z") == "2020-03-04T10:00:30.002Z")
        #expect(canonicalTime("2020-12-31T23:59:59.9996Z") == "2021-01-01T00:00:00.000Z")
        #expect(canonicalTime("2020-03-04T10:00:30") == "2020-03-04T10:00:30.000Z")
        #expect(canonicalTime("2020-03-04 10:00+0130") == "2020-03-04T08:30:00.000Z")
        #expect(canonicalTime("yesterday") == "yesterday")
    }

    @Test("the hash ID is SHA-256 of the pre-hash's UTF-8 bytes, and its digest reads back")
    func hashIDForm() throws {
        let event = EPCISHashEvent(type: "ObjectEvent", children: [EPCISHashNode(name: "eventTime", text: "2020-01-01T00:00:00Z")])
        let preHash = EPCISEventHash.preHash(of: event)
        #expect(preHash == "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000Z")
        let id = EPCISEventHash.hashID(of: event)
        let digest = EPCISEventHash.digest(ofPreHash: preHash)
        #expect(id == "ni:///sha-256;" + digest.withUnsafeBytes { Hex.encode($0, prefix: false) } + "?ver=CBV2.0")
        #expect(EPCISEventHash.digest(fromHashID: id) == digest)
    }

    @Test("strings that are no SHA-256 CBV 2.0 hash ID give no digest")
    func badHashIDs() {
        let hex = String(repeating: "ab", count: 32)
        #expect(EPCISEventHash.digest(fromHashID: "ni:///sha-256;" + hex + "?ver=CBV2.0") != nil)
        #expect(EPCISEventHash.digest(fromHashID: "ni:///sha-256;" + hex + "?ver=CBV2.1") == nil)
        #expect(EPCISEventHash.digest(fromHashID: "ni:///sha-384;" + hex + "?ver=CBV2.0") == nil)
        #expect(EPCISEventHash.digest(fromHashID: "ni:///sha-256;" + hex.uppercased() + "?ver=CBV2.0") == nil)
        #expect(EPCISEventHash.digest(fromHashID: "ni:///sha-256;" + hex.dropLast(2) + "?ver=CBV2.0") == nil)
        #expect(EPCISEventHash.digest(fromHashID: "") == nil)
    }

    @Test("a JSON-LD event's hash ignores member order, time zone, eventID, recordTime and vocabulary form")
    func jsonInvariance() throws {
        let first: JSON = [
            "type": "ObjectEvent", "eventTime": "2005-04-03T20:33:31.116-06:00", "eventTimeZoneOffset": "-06:00",
            "epcList": ["urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2017"],
            "action": "OBSERVE", "bizStep": "shipping", "eventID": "urn:uuid:1", "recordTime": "2005-04-04T00:00:00Z",
        ]
        let second: JSON = [
            "bizStep": "urn:epcglobal:cbv:bizstep:shipping", "action": "OBSERVE", "eventTimeZoneOffset": "-06:00",
            "epcList": ["https://example.com/01/10614141073464/21/2017?17=201231", "urn:epc:id:sgtin:0614141.107346.2018"],
            "eventTime": "2005-04-04T02:33:31.116Z", "type": "ObjectEvent",
        ]
        let a = try EPCISEvent(json: first)
        let b = try EPCISEvent(json: second)
        #expect(EPCISEventHash.preHash(of: a) == EPCISEventHash.preHash(of: b))
        #expect(EPCISEventHash.hashID(of: a) == EPCISEventHash.hashID(of: b))
        #expect(EPCISEventHash.preHash(of: a).contains("bizStep=https://ref.gs1.org/cbv/BizStep-shipping"))
        let changed = try EPCISEvent(json: second.setting("action", "ADD"))
        #expect(EPCISEventHash.digest(of: changed) != EPCISEventHash.digest(of: b))
    }

    @Test("malformed XML is refused with its position")
    func malformedXML() {
        #expect(throws: EPCISXMLError.self) { try EPCISXMLDocument(bytes: Array("<EPCISDocument><EPCISBody>".utf8)) }
        do {
            _ = try EPCISXMLDocument(bytes: Array("<a><b></a>".utf8))
            Issue.record("mismatched tags were accepted")
        } catch {
            guard case .malformedXML(let line, _, let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(line == 1)
            #expect(!message.isEmpty)
            #expect(error.description.contains("not well-formed XML"))
        }
    }

    @Test("an XML document without EventList is refused, naming where events belong")
    func xmlWithoutEventList() {
        #expect(throws: EPCISXMLError.noEventList) {
            try EPCISXMLDocument(bytes: Array("<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\"><EPCISBody/></epcis:EPCISDocument>".utf8))
        }
        #expect(EPCISXMLError.noEventList.description.contains("EPCISBody/EventList"))
    }

    @Test("XML events: extension wrappers dropped, attributes as members, CURIE values expanded")
    func xmlShape() throws {
        let xml = """
            <epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ns.example.com/">
              <EPCISBody><EventList><ObjectEvent>
                <eventTime>2020-01-01T01:00:00+01:00</eventTime>
                <epcList><epc>urn:epc:id:sscc:4012345.0000000111</epc></epcList>
                <action>OBSERVE</action>
                <extension><sensorElementList><sensorElement>
                  <sensorReport type="gs1:Temperature" value="26.0" uom="CEL" ex:note="n"/>
                </sensorElement></sensorElementList></extension>
                <bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:po">urn:x:1</bizTransaction></bizTransactionList>
              </ObjectEvent></EventList></EPCISBody>
            </epcis:EPCISDocument>
            """
        let document = try EPCISXMLDocument(bytes: Array(xml.utf8))
        #expect(document.events.count == 1)
        #expect(document.eventPreHashes == [
            "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000ZepcListepc=https://id.gs1.org/00/040123450000001112action=OBSERVE"
                + "sensorElementListsensorElementsensorReporttype=https://gs1.org/voc/Temperaturevalue=26uom=CEL{https://ns.example.com/}note=n"
                + "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:x:1",
        ])
    }
}
