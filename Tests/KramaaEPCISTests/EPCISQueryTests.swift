import KramaaEPCIS
import KramaaJSON
import KramaaTestSupport
import Testing

@Suite struct EPCISQueryTests {
    /// Every event of the full-context examples.
    static func exampleEvents() throws -> [EPCISEvent] {
        try Vectors.files(in: "epcis/examples/json", ext: "jsonld").flatMap { try EPCISDocument(json: try EPCISVectors.json(at: $0)).events }
    }

    private func query(_ text: String) throws -> EPCISQuery {
        let items = text.split(separator: "&").map { pair -> (name: String, value: String?) in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : nil)
        }
        return try EPCISQuery(queryItems: items)
    }

    private func event(_ changes: [String: JSON?]) throws -> EPCISEvent {
        var json = EPCISVectors.objectEvent
        for (key, value) in changes { json = json.setting(key, value) }
        return try EPCISEvent(json: json, documentContext: ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", ["example": "https://ns.example.com/epcis/"]])
    }

    @Test func eventTypeAndTimeWindows() throws {
        let events = try Self.exampleEvents()
        // Expected answers come from the events themselves, so the test holds for any set of examples.
        let associations = try query("eventType=AssociationEvent").execute(events)
        #expect(!associations.isEmpty && associations.count == events.filter { $0.type == .association }.count)
        #expect(associations.allSatisfy { $0.type == .association })
        #expect(try query("eventType=AggregationEvent|TransactionEvent").execute(events).count
                == events.filter { $0.type == .aggregation || $0.type == .transaction }.count)
        let from = try #require(EPCISTimestamp(rfc3339: "2019-04-02T00:00:00Z"))
        let until = EPCISTimestamp(secondsSinceEpoch: from.secondsSinceEpoch + 86_400)
        let windowed = try query("GE_eventTime=2019-04-02T00:00:00Z&LT_eventTime=2019-04-03T00:00:00+00:00").execute(events)
        #expect(!windowed.isEmpty && windowed.count == events.filter { $0.eventTime >= from && $0.eventTime < until }.count)
        #expect(windowed.allSatisfy { $0.eventTime >= from && $0.eventTime < until })
        // Offsets are instants: 20:00-06:00 is 02:00Z the next day.
        let shifted = try event(["eventTime": "2024-01-01T20:00:00-06:00"])
        #expect(try query("GE_eventTime=2024-01-02T02:00:00Z").matches(shifted))
        #expect(try !query("LT_eventTime=2024-01-02T02:00:00Z").matches(shifted))
        #expect(try !query("GE_recordTime=2000-01-01T00:00:00Z").matches(shifted), "no recordTime means no match")
    }

    @Test func cbvValuesMatchInAnyOfTheirForms() throws {
        let shipping = try event([:])
        for form in ["shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping", "cbv:BizStep-shipping"] {
            #expect(try query("EQ_bizStep=\(form)").matches(shipping), "\(form)")
        }
        let urnWritten = try event(["bizStep": "urn:epcglobal:cbv:bizstep:shipping", "disposition": "https://ref.gs1.org/cbv/Disp-in_transit"])
        #expect(try query("EQ_bizStep=receiving|shipping&EQ_disposition=in_transit").matches(urnWritten))
        #expect(try !query("EQ_bizStep=receiving").matches(shipping))
        #expect(try !query("EQ_disposition=in_transit").matches(try event(["disposition": nil])))
        #expect(try query("EQ_bizTransaction_po=http://transaction.acme.com/po/12345678").matches(shipping))
        #expect(try !query("EQ_bizTransaction_inv=http://transaction.acme.com/po/12345678").matches(shipping))
    }

    @Test func epcPatternsMatchAsTheTagDataStandardDefines() throws {
        let shipping = try event([:])
        #expect(try query("MATCH_epc=urn:epc:idpat:sgtin:0614141.*.*").matches(shipping))
        #expect(try query("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*").matches(shipping))
        #expect(try query("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.[2000-2017]").matches(shipping))
        #expect(try !query("MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.[2019-2100]").matches(shipping))
        #expect(try !query("MATCH_epc=urn:epc:idpat:sgtin:0614142.*.*").matches(shipping))
        #expect(try !query("MATCH_epc=urn:epc:idpat:sscc:0614141.*").matches(shipping))
        #expect(try query("MATCH_anyEPC=urn:epc:id:sgtin:0614141.107346.2018").matches(shipping))
        #expect(try !query("MATCH_parentID=urn:epc:idpat:sgtin:0614141.*.*").matches(shipping))
        let events = try Self.exampleEvents()
        let classes = try query("MATCH_anyEPCClass=urn:epc:idpat:lgtin:4012345.012345.*").execute(events)
        #expect(!classes.isEmpty && classes.allSatisfy { $0.allQuantities.contains { $0.epcClass.hasPrefix("urn:epc:class:lgtin:4012345.012345.") } })
        #expect(EPCPattern("urn:epc:idpat:sgtin:0614141.*.*")?.matches("urn:epc:idpat:sgtin:0614141.107346.*") == true)
        #expect(EPCPattern("urn:epc:idpat:sgtin:0614141.107346.1")?.matches("urn:epc:idpat:sgtin:0614141.107346.*") == false)
        #expect(EPCPattern("urn:epc:idpat:sgtin:0614141.107346.[5-7]")?.matches("urn:epc:id:sgtin:0614141.107346.06") == false)
        #expect(EPCPattern("urn:epc:idpat:sgtin:0614141.[1-2") == nil)
    }

    @Test func locationsWithDescendantsUseTheHierarchy() throws {
        let shipping = try event([:])
        #expect(try query("EQ_readPoint=urn:epc:id:sgln:0614141.07346.1234").matches(shipping))
        let site = "urn:epc:id:sgln:0614141.00000.0"
        let hierarchy = EPCISLocationHierarchy(children: [site: ["urn:epc:id:sgln:0614141.07346.0"], "urn:epc:id:sgln:0614141.07346.0": ["urn:epc:id:sgln:0614141.07346.1234"]])
        #expect(try query("WD_readPoint=\(site)").matches(shipping, hierarchy: hierarchy))
        #expect(try !query("EQ_readPoint=\(site)").matches(shipping, hierarchy: hierarchy))
        #expect(try !query("WD_readPoint=\(site)").matches(shipping))
        #expect(try !query("WD_bizLocation=\(site)").matches(shipping, hierarchy: hierarchy), "the event has no bizLocation")
    }

    @Test func errorDeclarationsSensorsAndQuantities() throws {
        let events = try Self.exampleEvents()
        let declared = try query("EXISTS_errorDeclaration=true").execute(events)
        #expect(!declared.isEmpty && declared.allSatisfy { $0.errorDeclaration != nil })
        #expect(try query("EXISTS_errorDeclaration=false").execute(events).count == events.count)
        #expect(try query("EQ_errorReason=incorrect_data").execute(events).count == declared.filter { $0.errorDeclaration?.reason == "https://ref.gs1.org/cbv/ER-incorrect_data" }.count)
        let temperatures = try query("EQ_type=Temperature").execute(events)
        #expect(!temperatures.isEmpty)
        #expect(temperatures == (try query("EQ_type=gs1:Temperature").execute(events)))
        let warm = try query("GE_value_CEL=26&EQ_type=Temperature").execute(events)
        #expect(!warm.isEmpty && warm.count < temperatures.count + 1)
        #expect(warm.allSatisfy { $0.sensorElementList.contains { $0.reports.contains { ($0.number("value") ?? -1) >= 26 && $0.string("uom") == "CEL" } } })
        let heavy = try query("GE_quantity=200").execute(events)
        #expect(!heavy.isEmpty && heavy.allSatisfy { $0.allQuantities.contains { ($0.quantity?.double ?? 0) >= 200 } })
        #expect(try query("EQ_quantity_KGM=200").execute(events).allSatisfy { $0.allQuantities.contains { $0.uom == "KGM" && $0.quantity?.double == 200 } })
        #expect(try !query("EXISTS_sensorElementList").execute(events).isEmpty)
    }

    @Test func extensionFieldsMatchByExpandedName() throws {
        let tagged = try event(["example:grade": "A", "example:weight": 12.5, "example:packed": "2024-01-02T00:00:00Z",
                                "example:nested": ["example:inner": "deep"]])
        #expect(try query("EQ_example:grade=A|B").matches(tagged))
        #expect(try query("EQ_https://ns.example.com/epcis/grade=A").matches(tagged))
        #expect(try query("GT_example:weight=12").matches(tagged) && !query("GT_example:weight=12.5").matches(tagged))
        #expect(try query("LT_example:packed=2024-01-02T01:00:00+00:00").matches(tagged))
        #expect(try query("EXISTS_example:grade").matches(tagged) && !query("EXISTS_example:colour").matches(tagged))
        #expect(try query("EQ_INNER_example:inner=deep").matches(tagged) && !query("EQ_example:inner=deep").matches(tagged))
        #expect(try query("EXISTS_ILMD_example:grade").matches(tagged) == false)
        let body = try EPCISQuery(json: ["@context": [["ex": "https://ns.example.com/epcis/"]], "EQ_ex:grade": ["A"], "eventType": ["ObjectEvent"]])
        #expect(body.matches(tagged))
    }

    @Test func orderingLimitsAndPaging() throws {
        let events = try Self.exampleEvents()
        let newest = try query("orderBy=eventTime&eventCountLimit=3").execute(events)
        #expect(newest.count == 3)
        let maximum = try #require(events.map(\.eventTime).max())
        #expect(newest.first?.eventTime == maximum)
        #expect(zip(newest, newest.dropFirst()).allSatisfy { $0.eventTime >= $1.eventTime })
        let oldest = try query("orderBy=eventTime&orderDirection=ASC").execute(events)
        #expect(zip(oldest, oldest.dropFirst()).allSatisfy { $0.eventTime <= $1.eventTime })
        let associationCount = events.filter { $0.type == .association }.count
        #expect(throws: QueryTooLargeException(limit: 2, matching: associationCount)) { try query("eventType=AssociationEvent&maxEventCount=2").execute(events) }
        let paged = try query("perPage=5")
        let first = paged.page(of: events, from: 0)
        #expect(first.items.count == 5 && first.nextOffset == 5)
        let last = paged.page(of: events, from: events.count - 2)
        #expect(last.items.count == 2 && last.nextOffset == nil)
        #expect(EPCISQuery().page(of: events, from: 0).items.count == min(30, events.count))
    }

    @Test func badParametersRaiseQueryParameterException() {
        #expect(throws: QueryParameterException.unknownParameter("EQ_colour")) { try query("EQ_colour=red") }
        #expect(throws: QueryParameterException.unknownParameter("foo")) { try query("foo=1") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "EQ_action", value: "MOVE", expected: "ADD, OBSERVE or DELETE")) { try query("EQ_action=MOVE") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "GE_eventTime", value: "yesterday", expected: "an RFC 3339 date-time such as 2024-05-01T00:00:00Z")) { try query("GE_eventTime=yesterday") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "orderDirection", value: "UP", expected: "ASC or DESC")) { try query("orderBy=eventTime&orderDirection=UP") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "EQ_bizStep", value: "", expected: "one or more values separated by |")) { try query("EQ_bizStep=") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "perPage", value: "0", expected: "a positive integer")) { try query("perPage=0") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "MATCH_epc", value: "urn:epc:idpat:sgtin:1.[2", expected: "EPC URIs or EPC pattern URIs such as urn:epc:idpat:sgtin:0614141.*.*")) { try query("MATCH_epc=urn:epc:idpat:sgtin:1.[2") }
        #expect(throws: QueryParameterException.duplicateParameter("EQ_bizStep")) { try query("EQ_bizStep=shipping&EQ_bizStep=receiving") }
        #expect(throws: QueryParameterException.conflictingParameters("eventCountLimit", "orderBy", reason: "eventCountLimit needs orderBy to say which events come first")) { try query("eventCountLimit=1") }
        #expect(throws: QueryParameterException.conflictingParameters("eventCountLimit", "maxEventCount", reason: "give only one of them")) { try query("orderBy=eventTime&eventCountLimit=1&maxEventCount=2") }
        #expect(throws: QueryParameterException.invalidValue(parameter: "orderBy", value: "colour", expected: "eventTime, recordTime or the qualified name of an extension field")) { try query("orderBy=colour") }
        #expect(QueryParameterException.unknownParameter("x").description.contains("unknown query parameter \"x\""))
    }
}
