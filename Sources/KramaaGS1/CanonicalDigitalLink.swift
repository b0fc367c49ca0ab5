/// The constrained canonical GS1 Digital Link used inside EPCIS event hash pre-hash strings
/// (GS1 CBV 2.0 "EPCIS Event Hash ID", as the reference implementation RalphTro/epcis-event-hash-generator
/// normalises identifiers).
///
/// Any EPC URI (pure identity, LGTIN class, pattern) or GS1 Digital Link URI becomes
/// `https://id.gs1.org/<key>/<value>[/<qualifier>/<value>]` with
/// - numeric AIs instead of short names, GTIN-8/12/13 padded to GTIN-14;
/// - the query string, fragment, custom domain and path prefix dropped;
/// - only the finest identification level: for GTIN and ITIP the CPV (22) is dropped, and the lot (10)
///   too when a serial (21) is present; other keys keep their qualifier (254, 8011, 8019);
/// - values percent-encoded except letters, digits and `-` `.` `_` `~` `'` `;` `=`.
///
/// Like the reference, the normaliser checks syntax (AI formats, key-qualifier order) but not check
/// digits or requisite AIs, since identifiers are only rewritten, not judged.
public enum CanonicalDigitalLink {
    /// The stem of every normalised link.
    public static let stem = DigitalLink.canonicalStem

    private static let options: DigitalLink.ParseOptions = {
        var options = DigitalLink.ParseOptions.digitalLinkJS
        options.verifyCheckDigits = false
        options.validateQuery = false
        options.checkRequisites = false
        return options
    }()

    /// The normalised Digital Link of an EPC URI or GS1 Digital Link URI, or nil if `uri` is neither
    /// (the EPCIS hash then keeps the string as it is).
    public static func normalise(_ uri: String) -> String? {
        simpleSGTIN(uri) ?? normaliseGenerally(uri)
    }

    /// The most common EPC of events worked out directly: a pure-identity SGTIN whose serial is
    /// ASCII letters and digits (nothing to unescape or escape), e.g.
    /// `urn:epc:id:sgtin:0614141.107346.2017` → `https://id.gs1.org/01/10614141073464/21/2017`.
    /// nil for anything else, which takes the general path; where both answer they agree (tested).
    /// The general path builds the element string, parses it back and re-encodes it: about 6 µs,
    /// a twentieth of a captured event's cost on each validator.
    static func simpleSGTIN(_ uri: String) -> String? {
        let head = "urn:epc:id:sgtin:".utf8
        let all = uri.utf8
        guard all.starts(with: head) else { return nil }
        let body = all.dropFirst(head.count)
        guard let firstDot = body.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let companyPrefix = body[..<firstDot]
        let rest = body[body.index(after: firstDot)...]
        guard let secondDot = rest.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let itemReference = rest[..<secondDot], serial = rest[rest.index(after: secondDot)...]
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func isLetterOrDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) }
        guard (6...12).contains(companyPrefix.count), companyPrefix.count + itemReference.count == 13,
              companyPrefix.allSatisfy(isDigit), itemReference.allSatisfy(isDigit),
              (1...20).contains(serial.count), serial.allSatisfy(isLetterOrDigit) else { return nil }
        // GTIN-14: the item reference's first digit (the indicator), the company prefix, the rest
        // of the item reference, then the check digit.
        var gtin = [UInt8](repeating: 0, count: 14)
        gtin[0] = itemReference.first!
        var index = 1
        for byte in companyPrefix { gtin[index] = byte; index += 1 }
        for byte in itemReference.dropFirst() { gtin[index] = byte; index += 1 }
        gtin[13] = GS1CheckDigit.digit(of: gtin, count: 13)!
        return stem + "/01/" + String(decoding: gtin, as: UTF8.self) + "/21/" + String(decoding: serial, as: UTF8.self)
    }

    /// ``normalise(_:)`` without the direct SGTIN path.
    static func normaliseGenerally(_ uri: String) -> String? {
        if uri.hasPrefix("urn:epc:") {
            // The element string the parse validated is the one converted: checked once, not thrice.
            guard let values = try? EPCURI.parseResolving(uri).elementString, let link = try? DigitalLink(validated: values) else { return nil }
            return normalise(digitalLink: link)
        }
        guard let link = try? DigitalLink.parse(uri, options: options) else { return nil }
        return normalise(digitalLink: link)
    }

    /// Normalised links of the identifiers one piece of work meets (the events of one capture
    /// document, say), each worked out once: a read point or location named by every event, and an
    /// EPC the event hash normalises and the asset registry then keys by. Lives as long as that
    /// work, so it holds at most the identifiers the work names; not for sharing between threads.
    public final class Memo {
        private var links: [String: String?] = [:]

        public init() {}

        /// ``CanonicalDigitalLink/normalise(_:)`` of `uri`, computed the first time it is asked.
        public func normalise(_ uri: String) -> String? {
            if let known = links[uri] { return known }
            let link = CanonicalDigitalLink.normalise(uri)
            links[uri] = .some(link)
            return link
        }
    }

    /// The normalised Digital Link of an EPC URI; nil if its AIs do not form a valid Digital Link.
    public static func normalise(epcURI: EPCURI) -> String? {
        guard let values = try? epcURI.elementString(), let link = try? DigitalLink(elementString: values) else { return nil }
        return normalise(digitalLink: link)
    }

    /// The normalised form of a parsed Digital Link.
    public static func normalise(digitalLink link: DigitalLink) -> String {
        var qualifiers = link.keyQualifiers
        if ["01", "8006"].contains(link.primaryKey.ai) {
            qualifiers.removeAll { $0.ai == "22" }
            if qualifiers.contains(where: { $0.ai == "21" }) { qualifiers.removeAll { $0.ai == "10" } }
        }
        var out = stem
        for value in [link.primaryKey] + qualifiers {
            out += "/" + value.ai + "/" + URIPercentEncoding.escape(value.value, in: .path, keeping: keepsRaw)
        }
        return out
    }

    private static func keepsRaw(_ byte: UInt8) -> Bool {
        URIPercentEncoding.isUnreserved(byte) || byte == UInt8(ascii: "'") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "=")
    }
}
