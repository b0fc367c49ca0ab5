import Foundation
import KramaaGS1
import KramaaTestSupport
import Testing

/// Runs every entry of `digitallink/dl-vectors.json`, the other `digitallink/*.json` files and
/// `epcis-hash/dl-normalisation.json`, valid and invalid alike.
@Suite struct DigitalLinkVectorTests {
    static func entries(_ folder: String, _ file: String) throws -> [[String: Any]] {
        let url = try Vectors.folder(folder).appendingPathComponent(file)
        let json = try #require(try Vectors.json(url) as? [String: Any], "\(file) is not an object")
        let vectors = try #require(json["vectors"] as? [[String: Any]], "\(file) has no vectors")
        #expect(!vectors.isEmpty, "\(file) has no entries")
        return vectors
    }

    /// Where digital-link.js departs from the GS1 Digital Link standard, recognised by content
    /// (any such case, whatever its id): its `isValid()` rejects a GIAI (AI 8004, short name
    /// `giai`) made only of digits, checking a check digit that AI does not have. The standard
    /// accepts it; so does this library under the same profile.
    static func departure(_ entry: [String: Any]) -> String? {
        guard entry["op"] as? String == "dl_validate", entry["valid"] as? Bool == false,
              (entry["profile"] as? String)?.contains("digital-link.js") == true,
              let link = entry["digital_link"] as? String, let url = URL(string: link) else { return nil }
        let parts = url.path.split(separator: "/")
        guard parts.count == 2, ["giai", "8004"].contains(parts[0]), parts[1].allSatisfy(\.isNumber) else { return nil }
        return "digital-link.js checks a check digit on GIAI \(parts[1]), which AI 8004 does not have"
    }

    static func options(_ entry: [String: Any]) -> DigitalLink.ParseOptions {
        var options = DigitalLink.ParseOptions.strict
        let flags = entry["options"] as? [String: Bool] ?? [:]
        options.permitZeroSuppressedGTIN = flags["permit_zero_suppressed_gtin"] ?? false
        options.permitConvenienceAlphas = flags["permit_convenience_alphas"] ?? false
        options.permitUnknownAIs = flags["permit_unknown_ais"] ?? false
        options.permitUnknownAIsAsDataAttributes = flags["permit_unknown_ai_as_dl_attribute"] ?? false
        return options
    }

    static func ais(_ entry: [String: Any]) -> [AIValue] {
        (entry["ais"] as? [[String]] ?? []).map { AIValue($0[0], $0[1]) }
    }

    /// Runs one entry; returns nil if it behaved as expected, else what went wrong.
    static func run(_ entry: [String: Any]) -> String? {
        let valid = entry["valid"] as? Bool ?? true
        do {
            switch entry["op"] as? String {
            case "dl_to_element_string":
                let link = try DigitalLink.parse(entry["digital_link"] as! String, options: options(entry))
                guard valid else { return "accepted, giving \(link.elementString)" }
                let values = link.elementString
                if values.values != ais(entry) { return "AIs \(values.values) differ from \(ais(entry))" }
                if values.bracketed != entry["element_string"] as? String { return "element string \(values.bracketed)" }
                if let fnc1 = entry["element_string_fnc1"] as? String, values.fnc1 != fnc1 { return "FNC1 form \(values.fnc1)" }
                let reparsed = try GS1ElementString.parse(bracketed: values.bracketed, permitUnknownAIs: options(entry).permitUnknownAIs)
                if reparsed != values { return "bracketed form does not parse back" }
            case "element_string_to_dl":
                let flags = options(entry)
                let parsed = try GS1ElementString.parse(bracketed: entry["element_string"] as! String, permitUnknownAIs: flags.permitUnknownAIs)
                if parsed.values != ais(entry) { return "element string parses to \(parsed.values)" }
                let link = try DigitalLink(elementString: parsed, stem: entry["stem"] as? String ?? DigitalLink.canonicalStem,
                                           permitUnknownAIs: flags.permitUnknownAIs,
                                           permitUnknownAIsAsDataAttributes: flags.permitUnknownAIsAsDataAttributes)
                guard valid else { return "accepted, giving \(link)" }
                if link.uri() != entry["digital_link"] as? String { return "rendered \(link.uri())" }
            case "urn_to_dl":
                let urn = try EPCURI.parse(entry["epc_urn"] as! String)
                let link = try urn.digitalLinkURI()
                let level = entry["level"] as? String
                if let level, urn.level.rawValue != level { return valid ? "level \(urn.level)" : nil }
                guard valid else { return "accepted, giving \(link)" }
                if link != entry["digital_link"] as? String { return "converted to \(link)" }
                if try urn.elementString().values != ais(entry) { return "AIs \(try urn.elementString().values)" }
                if urn.urn != entry["epc_urn"] as? String { return "re-renders as \(urn.urn)" }
                if let length = entry["gcp_length"] as? Int, urn.companyPrefix.count != length { return "company prefix \(urn.companyPrefix)" }
            case "dl_to_urn":
                let link = try DigitalLink.parse(entry["digital_link"] as! String)
                guard let length = entry["gcp_length"] as? Int else { return valid ? "no gcp_length given" : nil }
                let urn = try EPCURI(digitalLink: link, companyPrefixLength: length)
                if let level = entry["level"] as? String, urn.level.rawValue != level { return valid ? "level \(urn.level)" : nil }
                guard valid else { return "accepted, giving \(urn)" }
                if urn.urn != entry["epc_urn"] as? String { return "converted to \(urn.urn)" }
                if try urn.digitalLinkURI() != entry["canonical_digital_link"] as? String { return "round trip gives \(try urn.digitalLinkURI())" }
            case "dl_validate":
                let ok = DigitalLink.isValid(entry["digital_link"] as! String, options: .digitalLinkJS)
                return ok == valid ? nil : "isValid is \(ok)"
            case "dl_parse_components":
                let parts = try DigitalLinkComponents(entry["digital_link"] as! String)
                let expected = entry["components"] as! [String: Any]
                if parts.domain != expected["domain"] as? String { return "domain \(parts.domain)" }
                let identifier = (expected["identifier"] as? [String: String] ?? [:]).map { AIValue($0.key, $0.value) }
                if [parts.identifier] != identifier { return "identifier \(parts.identifier)" }
                let qualifiers = Dictionary(uniqueKeysWithValues: parts.keyQualifiers.map { ($0.ai, $0.value) })
                if qualifiers != expected["key_qualifiers"] as? [String: String] ?? [:] { return "key qualifiers \(qualifiers)" }
                let attributes = Dictionary(uniqueKeysWithValues: parts.attributes.map { ($0.name, $0.value ?? "") })
                if attributes != expected["attributes"] as? [String: String] ?? [:] { return "attributes \(attributes)" }
                if parts.linkType != expected["link_type"] as? String { return "link type \(parts.linkType ?? "none")" }
            default:
                return "unknown op \(entry["op"] ?? "none")"
            }
            return nil
        } catch {
            return valid ? "rejected: \(error)" : nil
        }
    }

    @Test func digitalLinkVectors() throws {
        let vectors = try Self.entries("digitallink", "dl-vectors.json")
        var counts: [String: Int] = [:]
        var exceptions = 0
        for entry in vectors {
            let id = entry["id"] as? String ?? "?"
            counts[entry["op"] as? String ?? "?", default: 0] += 1
            let problem = Self.run(entry)
            if let reason = Self.departure(entry) {
                #expect(problem != nil, "\(id): \(reason), yet this library now rejects it too")
                exceptions += 1
                continue
            }
            #expect(problem == nil, "\(id): \(problem ?? "")")
        }
        print("dl-vectors: \(vectors.count) entries \(counts.sorted { $0.key < $1.key }), \(exceptions) departures of digital-link.js from the standard")
    }

    @Test func normaliserVectors() throws {
        let vectors = try Self.entries("epcis-hash", "dl-normalisation.json")
        for entry in vectors {
            let input = try #require(entry["input"] as? String)
            let expected = entry["expected"] as? String
            #expect(CanonicalDigitalLink.normalise(input) == expected, "\(entry["test"] ?? "") line \(entry["line"] ?? ""): \(input)")
        }
        let urns = try Self.entries("digitallink", "dl-vectors.json").filter { ($0["id"] as? String)?.hasPrefix("ralphtro-dlnorm-") == true }
        #expect(!urns.isEmpty)
        for entry in urns {
            let urn = try #require(entry["epc_urn"] as? String)
            #expect(CanonicalDigitalLink.normalise(urn) == entry["canonical_digital_link"] as? String, "\(entry["id"] ?? ""): \(urn)")
        }
        print("dl-normalisation: \(vectors.count) Digital Link entries and \(urns.count) EPC URN entries")
    }

    @Test func checkDigitVectors() throws {
        let vectors = try Self.entries("digitallink", "check-digits.json")
        for entry in vectors {
            let input = try #require(entry["input"] as? String)
            let valid = try #require(entry["valid"] as? Bool)
            let position = entry["check_digit_position"]
            let result = (position as? Int).map { GS1CheckDigit.isValid(input, checkDigitPosition: $0) } ?? GS1CheckDigit.isValid(input)
            #expect(result == valid, "\(entry["id"] ?? ""): \(input)")
            if valid, position as? String == "last" {
                #expect(GS1CheckDigit.compute(input.dropLast()) == input.last)
            }
        }
        print("check-digits: \(vectors.count) entries")
    }

    @Test func percentEncodingVectors() throws {
        let vectors = try Self.entries("digitallink", "percent-encoding.json")
        for entry in vectors {
            let input = try #require(entry["input"] as? String)
            let id = entry["id"] as? String ?? "?"
            for (component, key) in [(URIPercentEncoding.Component.path, "path"), (.query, "query")] {
                if entry["op"] as? String == "uri_escape" {
                    #expect(URIPercentEncoding.escape(input, in: component) == entry["expected_\(key)"] as? String, "\(id) \(key)")
                } else if let text = entry["expected_\(key)"] as? String {
                    #expect(URIPercentEncoding.unescapeBytes(input, in: component) == Array(text.utf8), "\(id) \(key)")
                } else {
                    let hex = try #require(entry["expected_\(key)_bytes_hex"] as? String)
                    let bytes = URIPercentEncoding.unescapeBytes(input, in: component)
                    #expect(bytes.map { String(format: "%02x", $0) }.joined() == hex, "\(id) \(key)")
                }
            }
        }
        print("percent-encoding: \(vectors.count) entries")
    }

    @Test func elementStringVectors() throws {
        let vectors = try Self.entries("digitallink", "element-strings.json")
        for entry in vectors {
            let input = try #require(entry["input"] as? String)
            let id = entry["id"] as? String ?? "?"
            if entry["valid"] as? Bool == true {
                let parsed = try GS1ElementString.parse(bracketed: input)
                #expect(parsed.fnc1 == entry["expected_fnc1"] as? String, "\(id)")
                #expect(parsed.bracketed == input, "\(id): bracketed form")
                #expect(try GS1ElementString.parse(fnc1: parsed.fnc1) == parsed || input.contains("\\("), "\(id): FNC1 round trip")
            } else {
                #expect(throws: GS1Error.self, "\(id): \(input) must be rejected") { try GS1ElementString.parse(bracketed: input) }
            }
        }
        print("element-strings: \(vectors.count) entries")
    }
}
