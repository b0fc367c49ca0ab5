import KramaaGS1

/// The value rules of the EPCIS event hash (GS1 CBV 2.0, as the reference implementation applies them).
enum EPCISHashValue {
    /// `value` without surrounding white space.
    static func trimmed(_ value: String) -> String {
        guard let first = value.utf8.first, let last = value.utf8.last,
              isSpace(first) || isSpace(last) || first >= 0x80 || last >= 0x80
        else { return value }
        return String(value.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// A value's canonical form: CBV 1.x URNs become Web URIs, numbers lose leading zeros, signs and
    /// trailing fraction zeros, and EPC URIs or GS1 Digital Links become the constrained canonical
    /// Digital Link (`https://id.gs1.org/01/…/21/…`). Anything else stays as written.
    /// `links` normalises identifiers (each once, when it is shared by the events of a document).
    static func canonical(_ value: String, links: CanonicalDigitalLink.Memo) -> String {
        var value = value
        if value.containsCodePoints("urn:epcglobal:cbv:") { value = webVocabulary(value) }
        if let number = EPCISHashNumber.canonical(value) { value = number }
        if value.hasPrefix("urn:epc:") || value.hasPrefix("http") {
            if let link = links.normalise(value) { return link }
        }
        return value
    }

    private static let urnVocabularies: [(urn: String, web: String)] = [
        ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ]

    /// Replaces the CBV 1.x URN prefixes of business steps, dispositions, transaction types,
    /// source/destination types and error reasons by their Web URI prefixes.
    private static func webVocabulary(_ value: String) -> String {
        var value = value
        for (urn, web) in urnVocabularies where value.containsCodePoints(urn) {
            value = value.replacing(urn, with: web)
        }
        return value
    }

    /// A timestamp in UTC at millisecond precision (`2020-03-04T10:00:30.000Z`); a value that is no
    /// date-time stays as written. A time without offset is taken as UTC; further fraction digits
    /// are rounded (half to even on the microsecond, as the reference does).
    static func timestamp(_ value: String) -> String {
        var value = value
        guard let instant = value.withUTF8({ EPCISHashTimestamp.parse($0) }) else { return value }
        return instant
    }
}
