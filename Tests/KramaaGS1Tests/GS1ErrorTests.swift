import KramaaGS1
import Testing

/// Bad input gets a typed error that names what was wrong.
@Suite struct GS1ErrorTests {
    @Test func wrongCheckDigitIsReportedWithTheExpectedDigit() {
        #expect(throws: GS1Error.invalidCheckDigit(ai: "01", value: "09520123456789", expected: "8")) {
            try DigitalLink.parse("https://id.gs1.org/01/09520123456789")
        }
        #expect(!GS1CheckDigit.isValid("12345673"))
        #expect(GS1CheckDigit.compute("1234567") == "0")
        #expect(GS1CheckDigit.compute("12a") == nil)
        let error = GS1Error.invalidCheckDigit(ai: "01", value: "09520123456789", expected: "8")
        #expect(error.description.contains("expected 8"))
    }

    @Test func gmnCheckCharactersAreVerified() throws {
        try ApplicationIdentifier.lookup("8013")!.validate("1987654Ad4X4bL5ttr2310c2K")
        #expect(throws: GS1Error.invalidCheckCharacters(ai: "8013", value: "1987654Ad4X4bL5ttr2310c2L", expected: "2K")) {
            try ApplicationIdentifier.lookup("8013")!.validate("1987654Ad4X4bL5ttr2310c2L")
        }
    }

    @Test func badCharactersAreNamed() {
        #expect(throws: GS1Error.invalidCharacter(ai: "01", value: "1234567890123A", character: "A", characterSet: .numeric)) {
            try ApplicationIdentifier.lookup("01")!.validate("1234567890123A")
        }
        #expect(throws: GS1Error.invalidCharacter(ai: "21", value: "AB CD", character: " ", characterSet: .cset82)) {
            try ApplicationIdentifier.lookup("21")!.validate("AB CD")
        }
        #expect(throws: GS1Error.invalidCharacter(ai: "8010", value: "12345ab", character: "a", characterSet: .cset39)) {
            try ApplicationIdentifier.lookup("8010")!.validate("12345ab")
        }
        #expect(throws: GS1Error.self) { try DigitalLink.parse("https://a/01/12312312312333<bad") }
    }

    @Test func wrongLengthsGiveTheLimit() {
        #expect(throws: GS1Error.valueTooShort(ai: "01", value: "123", minimum: 14)) {
            try DigitalLink.parse("https://id.gs1.org/01/123")
        }
        #expect(throws: GS1Error.valueTooLong(ai: "235", value: String(repeating: "A", count: 29), maximum: 28)) {
            try GS1ElementString.parse(bracketed: "(235)" + String(repeating: "A", count: 29))
        }
        #expect(throws: GS1Error.emptyValue(ai: "11")) { try GS1ElementString.parse(bracketed: "(10)12345(11)") }
        #expect(throws: GS1Error.emptyValue(ai: "10")) { try DigitalLink.parse("https://a/01/12312312312333/10/") }
    }

    @Test func unknownAIsAreRejectedUnlessPermitted() throws {
        #expect(throws: GS1Error.unknownAI("89")) { try GS1ElementString.parse(bracketed: "(89)ABC") }
        #expect(throws: GS1Error.unknownAI("999")) { try DigitalLink.parse("https://a/01/12312312312333?999=x") }
        #expect(try GS1ElementString.parse(bracketed: "(89)ABC", permitUnknownAIs: true).values == [AIValue("89", "ABC")])
        #expect(throws: GS1Error.malformedElementString("(1A)12345", reason: "'(1A)' is not an AI of two to four digits")) {
            try GS1ElementString.parse(bracketed: "(1A)12345")
        }
    }

    @Test func keyQualifiersOutOfOrderAreRejected() {
        #expect(throws: GS1Error.invalidKeyQualifierSequence(primaryKey: "01", qualifiers: ["21", "10"])) {
            try DigitalLink.parse("https://example.com/01/09520123456788/21/12345/10/4512")
        }
        #expect(throws: GS1Error.invalidKeyQualifierSequence(primaryKey: "01", qualifiers: ["99"])) {
            try DigitalLink.parse("https://a/01/12312312312333/99/ABC")
        }
        #expect(throws: GS1Error.attributeBelongsInPath("21")) {
            try DigitalLink.parse("https://id.gs1.org/01/09520123456788/10/ABC?21=XYZ")
        }
        #expect(throws: GS1Error.duplicateAI("10")) {
            try DigitalLink.parse("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123")
        }
    }

    @Test func nonDigitalLinksAreRejected() {
        #expect(throws: GS1Error.notADigitalLink("ftp://a/01/12312312312333", reason: "it must start with http:// or https://")) {
            try DigitalLink.parse("ftp://a/01/12312312312333")
        }
        #expect(throws: GS1Error.noPrimaryKey("https://a/b/c")) { try DigitalLink.parse("https://a/b/c") }
        #expect(throws: GS1Error.missingPrimaryKey) { try DigitalLink(elementString: GS1ElementString([AIValue("99", "X")])) }
        #expect(throws: GS1Error.notADataAttribute("8200")) {
            try DigitalLink(elementString: GS1ElementString([AIValue("01", "12312312312326"), AIValue("8200", "http://example.com")]))
        }
        #expect(CanonicalDigitalLink.normalise("42") == nil)
    }

    @Test func badEPCURIsSayWhatIsWrong() {
        #expect(throws: GS1Error.malformedEPCURI("urn:epc:id:sgtin:23567.18012.1234", reason: "GS1 Company Prefix length 5 is not within 6...12")) {
            try EPCURI.parse("urn:epc:id:sgtin:23567.18012.1234")
        }
        #expect(throws: GS1Error.malformedEPCURI("urn:epc:id:sgtin:234567.189012.1234", reason: "company prefix and reference '234567.189012' must have 13 digits together")) {
            try EPCURI.parse("urn:epc:id:sgtin:234567.189012.1234")
        }
        #expect(throws: GS1Error.malformedEPCURI("urn:epc:id:sgtin:4012345.011111.a/b", reason: "character '/' must be percent-escaped in an EPC URI")) {
            try EPCURI.parse("urn:epc:id:sgtin:4012345.011111.a/b")
        }
        #expect(throws: GS1Error.malformedEPCURI("urn:epc:idpat:sgtin:4012345.011111.5", reason: "a pattern URI must end with '.*'")) {
            try EPCURI.parse("urn:epc:idpat:sgtin:4012345.011111.5")
        }
        let link = try? DigitalLink.parse("https://id.gs1.org/01/04012345111118/21/9876")
        #expect(throws: GS1Error.invalidCompanyPrefixLength(13, reason: "it must be within 6...12")) {
            try EPCURI(digitalLink: link!, companyPrefixLength: 13)
        }
    }

    @Test func conversionsRoundTrip() throws {
        let urn = try EPCURI.parse("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()")
        let link = try urn.digitalLink()
        #expect(link.uri() == "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29")
        let back = try EPCURI(digitalLink: DigitalLink.parse(link.uri()), companyPrefixLength: 7)
        #expect(back == urn)
        #expect(back.urn == "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()")
        #expect(CanonicalDigitalLink.normalise("urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB")
                == "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB")
    }
}
