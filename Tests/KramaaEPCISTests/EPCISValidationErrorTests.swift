import KramaaEPCIS
import KramaaJSON
import Testing

/// Documents broken in one specific way each get one precise error.
@Suite struct EPCISValidationErrorTests {
    let validator: EPCISValidator

    init() throws { validator = try EPCISVectors.validator() }

    private func problems(withEvent event: JSON) -> [String] {
        validator.validate(EPCISVectors.document(events: [event])).map(\.description)
    }

    @Test func aWellFormedDocumentIsValid() {
        #expect(problems(withEvent: EPCISVectors.objectEvent) == [])
    }

    @Test func missingEventTimeIsNamed() {
        #expect(problems(withEvent: EPCISVectors.objectEvent.setting("eventTime", nil))
            == [#"/epcisBody/eventList/0: missing required property "eventTime""#])
    }

    @Test func badTimeZoneOffsetIsNamed() {
        #expect(problems(withEvent: EPCISVectors.objectEvent.setting("eventTimeZoneOffset", "+15:00"))
            == [#"/epcisBody/eventList/0/eventTimeZoneOffset: "+15:00" does not match the pattern ^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$"#])
    }

    @Test func badEventTimeIsNamed() {
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("eventTime", "2005-02-30T20:33:31Z"))
        #expect(found == [#"/epcisBody/eventList/0/eventTime: "2005-02-30T20:33:31Z" is not a valid date-time (RFC 3339, e.g. 2024-05-01T12:00:00.000+02:00)"#])
    }

    @Test func unknownEventTypeMustBeAURI() {
        // Types other than the five standard ones are extension events, named by a URI.
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("type", "ShippingEvent"))
        #expect(found == [#"/epcisBody/eventList/0/type: "ShippingEvent" is not a valid absolute URI (RFC 3986, with a scheme such as urn: or https:)"#])
        #expect(problems(withEvent: ["type": "https://example.com/ShippingEvent", "eventTime": "2024-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"]) == [])
    }

    @Test func objectEventWithoutActionIsNamed() {
        #expect(problems(withEvent: EPCISVectors.objectEvent.setting("action", nil))
            == [#"/epcisBody/eventList/0: missing required property "action""#])
    }

    @Test func badActionIsNamed() {
        #expect(problems(withEvent: EPCISVectors.objectEvent.setting("action", "MOVE")).first
            == #"/epcisBody/eventList/0/action: "MOVE" is not one of the allowed values: OBSERVE, ADD, DELETE"#)
    }

    @Test func anEPCThatIsNotAURIIsNamed() {
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("epcList", ["urn:epc:id:sgtin:0614141.107346.2017", "0614141 107346 2018"]))
        #expect(found.contains(#"/epcisBody/eventList/0/epcList/1: "0614141 107346 2018" is not a valid absolute URI (RFC 3986, with a scheme such as urn: or https:)"#), "\(found)")
    }

    @Test func repeatedEPCsAreNamed() {
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("epcList", ["urn:epc:id:sgtin:0614141.107346.1", "urn:epc:id:sgtin:0614141.107346.1"]))
        #expect(found == ["/epcisBody/eventList/0/epcList: items 0 and 1 are equal; every item must be unique"])
    }

    @Test func aBizStepOutsideTheVocabularyListsTheAllowedForms() {
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("bizStep", "teleporting"))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix(#"/epcisBody/eventList/0/bizStep: does not match any of the allowed forms ("teleporting" is not a valid absolute URI"#) == true, "\(found)")
        #expect(found.first?.contains(#"or "teleporting" is not one of the allowed values: accepting, arriving"#) == true, "\(found)")
    }

    @Test func cbvURNsMustBeBareWords() {
        // The schema keeps CBV values short ("shipping"); the URN form is for XML.
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("bizStep", "urn:epcglobal:cbv:bizstep:shipping"))
        #expect(found.first?.contains("does not match the pattern") == true, "\(found)")
    }

    @Test func unknownFieldsMustBeURIsOrCURIEs() {
        let found = problems(withEvent: EPCISVectors.objectEvent.setting("colour", "red"))
        #expect(found.first?.hasPrefix(#"/epcisBody/eventList/0: property name "colour" is not allowed: does not match any of the allowed forms"#) == true, "\(found)")
        #expect(problems(withEvent: EPCISVectors.objectEvent.setting("example:colour", "red")) == [])
    }

    @Test func documentHeaderProblemsAreNamed() {
        let document = EPCISVectors.document(events: [EPCISVectors.objectEvent]).setting("schemaVersion", "two")
        #expect(validator.validate(document).map(\.description) == [#"/schemaVersion: "two" does not match the pattern ^\d+(\.\d+)*$"#])
        let noContext = EPCISVectors.document(events: []).setting("@context", nil)
        #expect(validator.validate(noContext).map(\.description) == [#"/: missing required property "@context""#])
    }

    @Test func standaloneEventsNeedTheirOwnContext() {
        #expect(validator.validate(EPCISVectors.objectEvent).map(\.description) == [#"/: missing required property "@context""#])
        let withContext = EPCISVectors.objectEvent.setting("@context", "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld")
        #expect(validator.validate(withContext) == [])
    }

    @Test func byEventValidationSeparatesGoodAndBadEvents() {
        let document = EPCISVectors.document(events: [
            EPCISVectors.objectEvent, EPCISVectors.objectEvent.setting("action", nil), EPCISVectors.objectEvent,
        ])
        let result = validator.validateByEvent(document)
        #expect(result.documentViolations == [])
        #expect(result.eventCount == 3)
        #expect(Array(result.eventViolations.keys) == [1])
        #expect(result.eventViolations[1]?.map(\.description) == [#"/epcisBody/eventList/1: missing required property "action""#])
        #expect(result.eventViolations[1]?.first?.keyword == "required")
        #expect(result.eventViolations[1]?.first?.schemaLocation == "#/definitions/ObjectEvent/allOf/1/required")
    }
}
