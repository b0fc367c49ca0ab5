@testable import KramaaGS1
import Testing

/// Round trips through every layout and character encoding, the options, and the typed errors of
/// malformed compressed links.
@Suite struct DigitalLinkCompressionBehaviourTests {
    /// base64url of a bit string written as "0101…" (spaces ignored), zero-padded like the encoder.
    static func segment(_ bits: String) -> String {
        var writer = BitWriter()
        for bit in bits where bit != " " { writer.write(bit == "1" ? 1 : 0, bits: 1) }
        return writer.base64URL
    }

    static func roundTrip(_ uri: String, options: DigitalLinkCompression.Options = .init()) throws -> String {
        let compressed = try DigitalLinkCompression.compress(uri, options: options)
        #expect(DigitalLinkCompression.isCompressed(compressed), "\(compressed)")
        return try DigitalLinkCompression.decompress(compressed)
    }

    @Test(arguments: [
        // leading zeros in numeric text, lower/upper hex, base64url and 7-bit ASCII serials
        "https://example.com/01/09506000134352/10/00123/21/0000000000000000009",
        "https://example.com/01/09506000134352/21/deadbeef",
        "https://example.com/01/09506000134352/21/DEADBEEF",
        "https://example.com/01/09506000134352/21/Ab-_9z",
        "https://example.com/01/09506000134352/21/A%25B%2FC%22d",
        // a 20-digit serial is one 67-bit number
        "https://example.com/01/09506000134352/21/98765432109876543210",
        // mixed numeric/alphanumeric layouts and merged fixed-length numeric parts
        "https://example.com/253/9506000134352ABC-123",
        "https://example.com/253/9506000134352",
        "https://example.com/8003/095060001343520abc",
        "https://example.com/255/9506000134352123",
        "https://example.com/8006/095060001343520102/21/X1",
        "https://example.com/414/9506000134352/254/5678",
        "https://example.com/8010/0950600013430000001/8011/123",
        // attributes, including an optimised sequence (01 + 3103) and a 90-digit internal value
        "https://example.com/01/09506000134352?3103=000189&17=251231&30=0012",
        "https://example.com/01/09506000134352?91=" + String(repeating: "1234567890", count: 9),
        "https://example.com/00/095060001343520000?4330=012345-",
        // other parameters, a path prefix and a fragment survive
        "https://example.com/some/prefix/01/09506000134352?linkType=gs1:pip&x_y=1#frag",
    ])
    func roundTripsKeepEveryValue(uri: String) throws {
        let expected = try DigitalLink.parse(uri, options: .digitalLinkJS)
        let decompressed = try DigitalLink(compressed: try expected.compressed())
        #expect(decompressed.elementString.values.sorted { $0.ai < $1.ai } == expected.elementString.values.sorted { $0.ai < $1.ai })
        #expect(decompressed.otherParameters == expected.otherParameters)
        #expect(decompressed.stem == expected.stem)
        #expect(decompressed.fragment == expected.fragment)
        let plain = try DigitalLink(compressed: try expected.compressed(options: .init(useOptimisations: false)))
        #expect(plain == decompressed)
    }

    @Test func attributesComeBackInAscendingAIOrder() throws {
        let link = "https://example.com/01/09506000134352?3103=000189&30=12&17=251231"
        #expect(try Self.roundTrip(link) == "https://example.com/01/09506000134352?17=251231&30=12&3103=000189")
    }

    @Test func shortNamesAreWrittenOnRequest() throws {
        let compressed = try DigitalLinkCompression.compress("https://example.com/01/09506000134352/10/AB/21/12")
        #expect(try DigitalLinkCompression.decompress(compressed, shortNames: true) == "https://example.com/gtin/09506000134352/lot/AB/ser/12")
    }

    @Test func thePrimaryKeyCanStayUncompressed() throws {
        let options = DigitalLinkCompression.Options(uncompressedPrimaryKey: true)
        let compressed = try DigitalLinkCompression.compress("https://example.com/01/9780345418913/21/43786?foo=bar", options: options)
        #expect(compressed.hasPrefix("https://example.com/01/09780345418913/"))
        #expect(!compressed.contains("?"))
        #expect(DigitalLinkCompression.isCompressed(compressed))
        #expect(try DigitalLinkCompression.decompress(compressed) == "https://example.com/01/09780345418913/21/43786?foo=bar")
        // nothing besides the key: the link stays as it is
        #expect(try DigitalLinkCompression.compress("https://example.com/01/09780345418913", options: options)
            == "https://example.com/01/09780345418913")
    }

    @Test func parametersThatCannotBePackedStayInTheQuery() throws {
        let link = "https://example.com/01/09506000134352?name=caf%C3%A9&a.b=1&flag&ok=yes"
        let compressed = try DigitalLinkCompression.compress(link)
        #expect(compressed.hasSuffix("?name=caf%C3%A9&a.b=1&flag"))
        #expect(try DigitalLinkCompression.decompress(compressed) == "https://example.com/01/09506000134352?name=caf%C3%A9&a.b=1&flag&ok=yes")
    }

    @Test func aiQueryParametersOfACompressedLinkAreKept() throws {
        #expect(try DigitalLinkCompression.decompress("https://dlnkd.tn.gg/ARHKVAdpQg?17=251231&x=1")
            == "https://dlnkd.tn.gg/01/09780345418913?17=251231&x=1")
    }

    @Test func decodeExposesTheSegmentContents() throws {
        let decoded = try DigitalLinkCompression.decode("DBHKVAdpQgqrCvBv0UMG21W")
        #expect(decoded.ais == [AIValue("01", "09780345418913"), AIValue("21", "43786")])
        #expect(decoded.otherParameters == [.init(name: "foo", value: "bar")])
        #expect(try DigitalLinkCompression.encode(decoded.ais, otherParameters: decoded.otherParameters) == "DBHKVAdpQgqrCvBv0UMG21W")
    }

    // MARK: - Errors

    static func problem(_ uri: String) -> GS1Error.CompressionProblem? {
        do {
            _ = try DigitalLinkCompression.decompress(uri)
            return nil
        } catch {
            if case .malformedCompressedDigitalLink(_, let reason) = error { return reason }
            Issue.record("\(uri): \(error) instead of a compression problem")
            return nil
        }
    }

    static let gtin = "0000 0001" + " 00010001110010100101010000000111011010010100001"  // (01) 09780345418913

    @Test func malformedCompressedLinksGiveTheProblem() {
        let stem = "https://example.com/"
        #expect(Self.problem(stem + "01/09780345418913") == .notCompressed)
        #expect(Self.problem(stem + "01/09780345418913/") == .notCompressed)
        #expect(Self.problem(stem + "abc.def") == .notCompressed)
        #expect(Self.problem(stem) == .notCompressed)
        #expect(Self.problem(stem + "A") == .empty)
        #expect(Self.problem(stem + "AA") == .truncated)
        #expect(Self.problem(stem + "ARHKVAdpQ") == .truncated)
        #expect(Self.problem(stem + Self.segment("0100 0100 0000")) == .unknownAIPrefix("44"))
        #expect(Self.problem(stem + Self.segment("0011 0001 1010 0000")) == .nonDigitInAI("31A"))
        #expect(Self.problem(stem + Self.segment("0011 0001 0000 0110" + String(repeating: "0", count: 20))) == .unknownAI("3106"))
        #expect(Self.problem(stem + Self.segment("0100 1010 0000")) == .unknownOptimisation("4A"))
        #expect(Self.problem(stem + Self.segment(Self.gtin + "0001 0000 111 00001 0000000")) == .invalidEncoding(7))
        #expect(Self.problem(stem + Self.segment(Self.gtin + "1111 0000 000 000 0000000")) == .emptyParameterName)
        #expect(Self.problem(stem + Self.segment("0000 0001" + String(repeating: "1", count: 47))) == .numberTooLarge(digits: 14))
        // (11) 250101 takes 28 bits: after its padding, one more character leaves 8 zero bits
        #expect(Self.problem(stem + Self.segment("0001 0001 00111101000011110101") + "A") == .trailingData)
        #expect(Self.problem(stem + Self.segment(Self.gtin + "1")) == .trailingData)
        #expect(Self.problem(stem + "AR!K") == .notCompressed)
        #expect(throws: GS1Error.malformedCompressedDigitalLink("AR*K", reason: .invalidCharacter("*"))) {
            try DigitalLinkCompression.decode("AR*K")
        }
        let error = GS1Error.malformedCompressedDigitalLink("x", reason: .unknownOptimisation("4A"))
        #expect(error.description == "'x' cannot be decompressed: 4A is not a defined optimisation code")
    }

    @Test func decodedValuesAreVerified() {
        // (01) 09780345418914: wrong check digit
        let wrong = "0000 0001" + " 00010001110010100101010000000111011010010100010"
        #expect(throws: GS1Error.invalidCheckDigit(ai: "01", value: "09780345418914", expected: "3")) {
            try DigitalLinkCompression.decompress("https://example.com/" + Self.segment(wrong))
        }
        // (10) alone: no primary key to build a link from
        #expect(throws: GS1Error.missingPrimaryKey) {
            try DigitalLinkCompression.decompress("https://example.com/" + Self.segment("0001 0000 000 00001 0001"))
        }
        #expect(throws: GS1Error.notADigitalLink("ftp://example.com/ARHKVAdpQg", reason: "it must start with http:// or https://")) {
            try DigitalLinkCompression.decompress("ftp://example.com/ARHKVAdpQg")
        }
    }

    @Test func valuesOutsideTheirLayoutAreNotCompressible() {
        let link = DigitalLink(primaryKey: AIValue("01", "0950600013435X"))
        #expect(throws: GS1Error.notCompressible("(01)0950600013435X", reason: "its N14 part is not all digits")) {
            try link.compressed()
        }
        let iban = DigitalLink(primaryKey: AIValue("01", "09506000134352"), dataAttributes: [AIValue("8007", String(repeating: "A", count: 32))])
        #expect(throws: GS1Error.notCompressible("(8007)" + String(repeating: "A", count: 32), reason: "its last part is longer than X..24")) {
            try iban.compressed()
        }
        #expect(throws: GS1Error.unknownAI("7")) {
            try DigitalLinkCompression.encode([AIValue("7", "1")])
        }
        #expect(throws: GS1Error.self) {
            try DigitalLinkCompression.encode([AIValue("01", "09506000134352")], otherParameters: [.init(name: "a b", value: "1")])
        }
        #expect(throws: GS1Error.invalidCheckDigit(ai: "01", value: "09506000134353", expected: "2")) {
            try DigitalLinkCompression.compress("https://example.com/01/09506000134353")
        }
    }
}
