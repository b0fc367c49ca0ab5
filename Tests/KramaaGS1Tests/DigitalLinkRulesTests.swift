@testable import KramaaGS1
import KramaaPrimitives
import Testing

/// The GS1 rules a Digital Link must follow beyond each value's format: which AIs may accompany a
/// primary key and where, the AIs each one requires, the content checks of the General Specifications,
/// and the property that every link this library renders, it accepts.
@Suite struct DigitalLinkRulesTests {
    static let sscc = "https://id.gs1.org/00/106141411234567897"
    static let gtin = "https://id.gs1.org/01/09520123456788"

    @Test func anAttributeWhoseRequisiteKeyIsAbsentMakesTheLinkInvalid() throws {
        // (17) expiry needs a trade item or a GCN; an SSCC is neither.
        #expect(throws: GS1Error.missingRequisiteAIs("17", requires: "01,02,03,255,8006,8026")) {
            try DigitalLink.parse(Self.sscc + "?17=251231")
        }
        // The same attribute is fine on a GTIN, and (02) content of a logistic unit with its count (37).
        _ = try DigitalLink.parse(Self.gtin + "?17=251231")
        _ = try DigitalLink.parse(Self.sscc + "?02=09520123456788&37=12")
        // (02) without (37): every requisite group must be met.
        #expect(throws: GS1Error.missingRequisiteAIs("02", requires: "37")) {
            try DigitalLink.parse(Self.sscc + "?02=09520123456788")
        }
        // "01+10": (7004) active potency needs a GTIN together with its batch.
        #expect(throws: GS1Error.missingRequisiteAIs("7004", requires: "01+10")) {
            try DigitalLink.parse(Self.gtin + "?7004=260")
        }
        _ = try DigitalLink.parse(Self.gtin + "/10/LOT1?7004=260")
    }

    @Test func aKeyQualifierOfAnotherKeyIsNeitherAQualifierNorAnAttribute() {
        // (8011) qualifies only a CPID (8010); (21) only a GTIN or ITIP; (254) only a GLN.
        #expect(throws: GS1Error.notADataAttribute("8011")) { try DigitalLink.parse(Self.gtin + "?8011=12") }
        #expect(throws: GS1Error.notADataAttribute("21")) { try DigitalLink.parse(Self.sscc + "?21=ABC") }
        #expect(throws: GS1Error.notADataAttribute("254")) { try DigitalLink.parse(Self.gtin + "?254=1") }
        #expect(throws: GS1Error.self) { try DigitalLink.parse(Self.sscc + "/21/ABC") }
        // A qualifier of this key belongs in the path.
        #expect(throws: GS1Error.attributeBelongsInPath("10")) { try DigitalLink.parse(Self.gtin + "/21/A?10=L") }
    }

    @Test func qualifiersMustFollowTheKeysOrder() throws {
        _ = try DigitalLink.parse(Self.gtin + "/22/CPV/10/LOT/21/SER")
        #expect(throws: GS1Error.invalidKeyQualifierSequence(primaryKey: "01", qualifiers: ["21", "10"])) {
            try DigitalLink.parse(Self.gtin + "/21/SER/10/LOT")
        }
        // (235) is an alternative to the CPV/lot/serial sequence, and excludes (21).
        _ = try DigitalLink.parse(Self.gtin + "/235/TPX1")
        #expect(throws: GS1Error.self) { try DigitalLink.parse(Self.gtin + "/235/TPX1/21/SER") }
    }

    @Test func aDigitalSignatureNeedsTheKeysSerialComponent() throws {
        let signature = "8030=" + String(repeating: "A", count: 40)
        #expect(throws: GS1Error.serialRequiredWithSignature("253")) {
            try DigitalLink.parse("https://id.gs1.org/253/4602443000331?" + signature)
        }
        _ = try DigitalLink.parse("https://id.gs1.org/253/4602443000331XYZ?" + signature)
        // (8030) also requires a serialised key: a GTIN alone does not do.
        #expect(throws: GS1Error.self) { try DigitalLink.parse(Self.gtin + "?" + signature) }
        _ = try DigitalLink.parse(Self.gtin + "/21/SER?" + signature)
    }

    @Test func bareElementStringSyntaxDoesNotDemandRequisitesButDataDoes() throws {
        let lot = try GS1ElementString.parse(bracketed: "(10)ABC")
        #expect(throws: GS1Error.missingRequisiteAIs("10", requires: "01,02,03,8006,8026")) { try lot.validate() }
        try lot.validate(requisites: false)
        #expect(throws: GS1Error.self) { try DigitalLink(elementString: GS1ElementString([AIValue("00", "106141411234567897"), AIValue("10", "L")])) }
    }

    @Test(arguments: [
        ("422", "250", "999"),            // country of origin: ISO 3166 numeric
        ("426", "276", "000"),
        ("4307", "FR", "XX"),             // ship-to country: ISO 3166 alpha-2
        ("3910", "978123", "000123"),     // amount with ISO 4217 currency
        ("7252", "2", "3"),               // ISO/IEC 5218
        ("7241", "01", "11"),             // AIDC media type
        ("7041", "BX", "QQQ"),            // UN/ECE Rec. 21 package type
        ("7250", "20240229", "20250229"), // YYYYMMDD with a real leap day
        ("8008", "2512312359", "2512312460"),
        ("4309", "18000000003600000000", "18000000013600000000"),
        ("4330", "012345-", "012345+"),
        ("4302", "1%20Main%20St", "1%2GMain"),
        ("7258", "1/2", "2/1"),
        ("8001", "12345678901290", "12345678901220"),
        ("8007", "GB82WEST12345698765432", "GB83WEST12345698765432"),
        ("8014", "1987654Ad4X4bL5ttr2310c2K", "1987654Ad4X4bL5ttr2310c2L"),
        ("8112", "001234566543210123456", "201234566543210123456"),
        ("8110", "061414112345615110123", "0614141123456151101237"),
    ] as [(String, String, String)])
    func contentChecksOfTheGeneralSpecifications(ai: String, valid: String, invalid: String) throws {
        let entry = try #require(ApplicationIdentifier.lookup(ai))
        try entry.validate(valid)
        #expect(throws: GS1Error.self, "\(ai) \(invalid)") { try entry.validate(invalid) }
    }

    @Test func couponCodesAreReadFieldByField() throws {
        let coupon = try #require(ApplicationIdentifier.lookup("8110"))
        // company prefix (VLI 0: 6 digits), offer code, save value (VLI 1), first purchase (VLI 1, code, family)
        let base = "0614141" + "123456" + "1" + "5" + "1" + "1" + "0" + "123"
        try coupon.validate(base)
        try coupon.validate(base + "3" + "251231" + "4" + "250101")   // expiry then an earlier start date
        #expect(throws: GS1Error.self) { try coupon.validate(base + "3" + "250101" + "4" + "251231") }
        try coupon.validate(base + "5" + "0" + "123456")              // serial number (VLI 0: 6 digits)
        #expect(throws: GS1Error.self) { try coupon.validate(base + "5" + "1" + "123456") }
        try coupon.validate(base + "9" + "0" + "0" + "1" + "1")
        #expect(throws: GS1Error.self) { try coupon.validate(base + "9" + "3" + "0" + "1" + "1") }
        #expect(throws: GS1Error.self) { try coupon.validate(base + "7") }
        #expect(throws: GS1Error.self) { try coupon.validate("7" + base.dropFirst()) }
    }

    // MARK: - Every link this library renders, it accepts

    /// A value that satisfies every rule of `ai`'s format, built component by component.
    static func value(for ai: ApplicationIdentifier, using random: inout some RandomNumberGenerator) -> String {
        var out = ""
        for component in ai.components {
            if component.isOptional, Bool.random(using: &random) { break }
            out += componentValue(component, using: &random)
        }
        return out
    }

    static func componentValue(_ component: ApplicationIdentifier.Component, using random: inout some RandomNumberGenerator) -> String {
        let checks = Set(component.checks)
        let length = Int.random(in: component.minimumLength...component.maximumLength, using: &random)
        func pick(_ list: Set<String>) -> String { list.sorted().randomElement(using: &random)! }
        if checks.contains(.country) || checks.contains(.countryOrUnknown) { return pick(GS1CodeLists.countriesNumeric) }
        if checks.contains(.countryAlpha2) { return pick(GS1CodeLists.countriesAlpha2) }
        if checks.contains(.currency) { return pick(GS1CodeLists.currenciesNumeric) }
        if checks.contains(.sex) { return pick(GS1CodeLists.sexes) }
        if checks.contains(.mediaType) { return pick(GS1CodeLists.aidcMediaTypes) }
        if checks.contains(.packageType) { return pick(GS1CodeLists.packageTypes) }
        if checks.contains(.date) || checks.contains(.dateWithOptionalDay) { return "251231" }
        if checks.contains(.fullDate) || checks.contains(.fullDateWithOptionalDay) { return "20240229" }
        if checks.contains(.time) { return "2359" }
        if checks.contains(.hour) || checks.contains(.minute) || checks.contains(.second) { return "23" }
        if checks.contains(.yesNo) || checks.contains(.winding) { return "1" }
        if checks.contains(.zero) { return "0" }
        if checks.contains(.pieceOfTotal) { return "0203" }
        if checks.contains(.hyphen) { return "-" }
        if checks.contains(.latitude) || checks.contains(.longitude) { return "1234567890" }
        if checks.contains(.positionInSequence) { return "1/2" }
        if checks.contains(.importerIndex) { return "_" }
        if checks.contains(.iban) { return "GB82WEST12345698765432" }
        if checks.contains(.couponCode) { return "061414112345615110123" }
        if checks.contains(.couponPositiveOffer) { return "001234566543210123456" }
        let alphabet: [Character]
        switch component.characterSet {
        case .numeric: alphabet = Array("0123456789")
        case .cset82: alphabet = Array(checks.contains(.percentEncoding) ? "!\"&'()*+,-./0123456789:;<=>?ABCZ_abz" : "!\"%&'()*+,-./0123456789:;<=>?ABCZ_abz")
        case .cset39: alphabet = Array("#-/0123456789ABCXYZ")
        case .cset64: alphabet = Array("-0123456789ABCZ_abz")
        }
        var text = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
        if checks.contains(.companyPrefix) || checks.contains(.companyPrefixAfterFirst) || checks.contains(.noZeroPrefix) || checks.contains(.nonZero) {
            text = String((0..<length).map { index in index == 0 ? "9" : (index < 5 ? "1" : alphabet.randomElement(using: &random)!) })
        }
        if checks.contains(.hasNonDigit) { text = "A" + text.dropFirst() }
        if checks.contains(.checkDigit) { text = String(text.dropLast()) + String(GS1CheckDigit.compute(text.dropLast())!) }
        if checks.contains(.checkCharacterPair) {
            let body = String(text.dropLast(2))
            text = body + GS1CheckDigit.checkCharacterPair(body[...])!
        }
        return text
    }

    @Test func everyLinkBuiltFromValidDataParsesBackToTheSameData() throws {
        var random = SplitMix64(seed: 20_261_205)
        let keys = ApplicationIdentifier.all.filter(\.isPrimaryKey)
        let attributes = ApplicationIdentifier.all.filter(\.isDataAttribute)
        var rendered = 0
        for _ in 0..<3_000 {
            let key = keys.randomElement(using: &random)!
            var values = [AIValue(key.code, Self.value(for: key, using: &random))]
            let sequence = key.keyQualifierSequences!.randomElement(using: &random)!
            for code in sequence where Bool.random(using: &random) {
                values.append(AIValue(code, Self.value(for: ApplicationIdentifier.lookup(code)!, using: &random)))
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let ai = attributes.randomElement(using: &random)!
                values.append(AIValue(ai.code, Self.value(for: ai, using: &random)))
            }
            let data = GS1ElementString(values)
            // Data the library refuses (exclusive or unmet requisite AIs) renders nothing; data it takes
            // must come back whole from the link it renders, under every rendering it offers.
            guard let link = try? DigitalLink(elementString: data) else {
                #expect(throws: GS1Error.self) { try data.validate() }
                continue
            }
            rendered += 1
            do {
                let parsed = try DigitalLink.parse(link.uri())
                #expect(Set(parsed.elementString.values) == Set(data.values), "\(link.uri())")
                let short = link.uri(shortNames: true)
                #expect(Set(try DigitalLink.parse(short, options: .digitalLinkJS).elementString.values) == Set(data.values), "\(short)")
                let compressed = try DigitalLinkCompression.compress(link.uri())
                #expect(Set(try DigitalLink.parse(DigitalLinkCompression.decompress(compressed)).elementString.values) == Set(data.values))
            } catch {
                Issue.record("\(data.bracketed) rendered as \(link.uri()), which is refused: \(error)")
            }
        }
        #expect(rendered > 500, "too few renderable cases: the generator no longer produces valid data")
    }

    @Test func everyEPCURIConvertsToALinkTheLibraryAccepts() throws {
        var random = SplitMix64(seed: 4_242)
        for _ in 0..<500 {
            let prefix = "0" + String((0..<6).map { _ in "0123456789".randomElement(using: &random)! })
            let item = String((0..<(13 - prefix.count)).map { _ in "0123456789".randomElement(using: &random)! })
            let serial = String((0..<Int.random(in: 1...20, using: &random)).map { _ in
                "ABCxyz019-_.".randomElement(using: &random)!
            })
            let urn = "urn:epc:id:sgtin:\(prefix).\(item).\(serial)"
            let epc = try EPCURI.parse(urn)
            let uri = try epc.digitalLinkURI()
            let back = try EPCURI(digitalLink: DigitalLink.parse(uri), companyPrefixLength: prefix.count)
            #expect(back.description == urn, "\(urn) → \(uri) → \(back)")
        }
        // A serial whose escaped character is outside CSET 82 is refused, not escaped into a link.
        #expect(throws: GS1Error.self) { try EPCURI.parse("urn:epc:id:sgtin:0614141.812345.A%23B").digitalLinkURI() }
    }

    /// ASCII URIs are split by bytes, others by Characters: non-ASCII text anywhere (a combining
    /// mark after a separator, a wide digit, an accented serial) is refused either way, and the
    /// ASCII neighbours of such URIs still parse.
    @Test func nonASCIIEPCURIsAreRefusedWhereverTheTextIs() throws {
        #expect(try EPCURI.parse("urn:epc:id:sgtin:0614141.107346.2017").components == ["107346", "2017"])
        #expect(try EPCURI.parse("urn:epc:idpat:sgtin:0614141.107346.*").components == ["107346"])
        for urn in ["urn:\u{301}epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:\u{301}0614141.107346.2017",
                    "urn:epc:id:sgtin:0614141.\u{301}107346.2017", "urn:epc:id:sgtin:0614141.107346.20\u{e9}17",
                    "urn:epc:id:sgtin:061414\u{ff11}.107346.2017", "urn:epc:id:sgln:0614141.12345.\u{301}"] {
            #expect(throws: GS1Error.self, "\(urn)") { try EPCURI.parse(urn) }
        }
    }
}
