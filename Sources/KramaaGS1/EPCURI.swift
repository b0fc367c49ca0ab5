/// An EPC URI of the GS1 Tag Data Standard 2.x: a pure identity URI (`urn:epc:id:sgtin:…`), the LGTIN
/// class URI (`urn:epc:class:lgtin:…`) or an EPC pattern URI naming a class (`urn:epc:idpat:sgtin:….*`).
///
/// Components are held unescaped; the GS1 Company Prefix is always the first. Conversions to and from
/// AIs and Digital Links recompute or verify check digits.
public struct EPCURI: Hashable, Sendable, CustomStringConvertible {
    /// The EPC schemes that carry GS1 keys.
    public enum Scheme: String, Sendable, CaseIterable {
        case sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, cpi, sgcn, ginc, gsin, itip, upui, pgln, lgtin
    }

    /// Whether a URI names one object or a class of objects.
    public enum Level: String, Sendable {
        case instance
        case `class`
    }

    /// The URI form.
    public enum Form: String, Sendable {
        /// `urn:epc:id:` pure identity.
        case id
        /// `urn:epc:class:` (LGTIN).
        case `class`
        /// `urn:epc:idpat:` pattern whose last component is `*`.
        case idpat
    }

    public let scheme: Scheme
    public let form: Form
    /// The GS1 Company Prefix (6 to 12 digits).
    public let companyPrefix: String
    /// The components after the company prefix, unescaped (the `*` of a pattern is not included).
    public let components: [String]

    public var level: Level { form == .id ? .instance : .class }

    /// Creates a URI from parts; `parse(_:)` and the Digital Link initialiser check them.
    init(scheme: Scheme, form: Form, companyPrefix: String, components: [String]) {
        self.scheme = scheme
        self.form = form
        self.companyPrefix = companyPrefix
        self.components = components
    }

    /// How many components follow the company prefix, and which are numeric references whose length with
    /// the company prefix is fixed.
    struct Layout {
        /// Total digits of company prefix plus the numeric reference that follows it (nil: no such rule).
        let prefixedReferenceDigits: Int?
        /// Number of components after the company prefix in the `id` / `class` form.
        let count: Int
        /// Number of components after the company prefix before `*` in the `idpat` form (nil: no pattern form).
        let patternCount: Int?
        /// Index (after the company prefix) of the free-text GS3A3 component, if any.
        let textComponent: Int?
    }

    static func layout(_ scheme: Scheme) -> Layout {
        switch scheme {
        case .sgtin: return Layout(prefixedReferenceDigits: 13, count: 2, patternCount: 1, textComponent: 1)
        case .lgtin: return Layout(prefixedReferenceDigits: 13, count: 2, patternCount: nil, textComponent: 1)
        case .upui: return Layout(prefixedReferenceDigits: 13, count: 2, patternCount: 1, textComponent: 1)
        case .itip: return Layout(prefixedReferenceDigits: 13, count: 4, patternCount: 3, textComponent: 3)
        case .sscc: return Layout(prefixedReferenceDigits: 17, count: 1, patternCount: nil, textComponent: nil)
        case .sgln: return Layout(prefixedReferenceDigits: 12, count: 2, patternCount: nil, textComponent: 1)
        case .grai: return Layout(prefixedReferenceDigits: 12, count: 2, patternCount: 1, textComponent: 1)
        case .gdti: return Layout(prefixedReferenceDigits: 12, count: 2, patternCount: 1, textComponent: 1)
        case .sgcn: return Layout(prefixedReferenceDigits: 12, count: 2, patternCount: 1, textComponent: nil)
        case .pgln: return Layout(prefixedReferenceDigits: 12, count: 1, patternCount: nil, textComponent: nil)
        case .gsrn, .gsrnp: return Layout(prefixedReferenceDigits: 17, count: 1, patternCount: nil, textComponent: nil)
        case .gsin: return Layout(prefixedReferenceDigits: 16, count: 1, patternCount: nil, textComponent: nil)
        case .giai, .ginc: return Layout(prefixedReferenceDigits: nil, count: 1, patternCount: nil, textComponent: 0)
        case .cpi: return Layout(prefixedReferenceDigits: nil, count: 2, patternCount: 1, textComponent: nil)
        }
    }

    /// Parses an EPC URI and checks it against the Tag Data Standard grammar and the AI formats.
    public static func parse(_ urn: String) throws(GS1Error) -> EPCURI { try parseResolving(urn).uri }

    /// `parse`, also handing back the element string its check computed (and validated), so a
    /// caller converting the URI (the EPCIS hash's Digital Link) does not compute it again.
    static func parseResolving(_ urn: String) throws(GS1Error) -> (uri: EPCURI, elementString: GS1ElementString) {
        func fail(_ reason: String) -> GS1Error { .malformedEPCURI(urn, reason: reason) }
        // Every EPC URI is ASCII: split by bytes then (the same pieces as by Characters, cheaper).
        let ascii = urn.utf8.allSatisfy { $0 < 0x80 }
        let head = ascii ? Self.split(urn[...], at: ":", maxSplits: 4) : urn.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard head.count == 5, head[0] == "urn", head[1] == "epc" else {
            throw fail("it must start with urn:epc:id:, urn:epc:class: or urn:epc:idpat:")
        }
        guard let form = Form(rawValue: String(head[2])) else {
            throw fail("'\(head[2])' is not id, class or idpat")
        }
        guard let scheme = Scheme(rawValue: String(head[3])) else {
            throw fail("'\(head[3])' is not an EPC scheme for a GS1 key")
        }
        guard (scheme == .lgtin) == (form == .class) else {
            throw fail(scheme == .lgtin ? "lgtin is a class URI: urn:epc:class:lgtin:" : "only lgtin has a class URI; use urn:epc:id: or urn:epc:idpat:")
        }
        let layout = layout(scheme)
        let body = head[4]
        guard let dot = body.firstIndex(of: ".") else {
            throw fail("\(scheme.rawValue) needs \(layout.count + 1) components separated by '.'")
        }
        let prefix = String(body[..<dot])
        try checkCompanyPrefix(prefix, in: urn)
        var rest = body[body.index(after: dot)...]
        let wanted: Int
        if form == .idpat {
            guard let count = layout.patternCount else { throw fail("\(scheme.rawValue) has no class pattern form in this module") }
            guard rest.hasSuffix(".*") || (count == 0 && rest == "*") else { throw fail("a pattern URI must end with '.*'") }
            rest = rest.dropLast(2)
            wanted = count
        } else {
            wanted = layout.count
        }
        var raw = (ascii ? Self.split(rest, at: ".", maxSplits: max(wanted - 1, 0))
                         : rest.split(separator: ".", maxSplits: max(wanted - 1, 0), omittingEmptySubsequences: false)).map(String.init)
        if wanted == 0 { raw = [] }
        guard raw.count == wanted else {
            throw fail("\(scheme.rawValue) needs \(wanted + 1) components separated by '.', found \(raw.count + 1)")
        }
        var components: [String] = []
        for (index, part) in raw.enumerated() {
            if index == layout.textComponent {
                guard !part.isEmpty else { throw fail("component \(index + 2) must not be empty") }
                components.append(try unescape(part, in: urn))
            } else if scheme == .cpi, index == 0 {
                components.append(try unescapeCPIReference(part, in: urn))
            } else {
                guard part.isEmpty || part.isAllDigits else { throw fail("'\(part)' must be digits") }
                components.append(part)
            }
        }
        if let digits = layout.prefixedReferenceDigits, prefix.count + components[0].count != digits {
            throw fail("company prefix and reference '\(prefix).\(components[0])' must have \(digits) digits together")
        }
        if scheme == .itip, components.count >= 3, components[1].count != 2 || components[2].count != 2 {
            throw fail("ITIP piece and total must be two digits each")
        }
        let uri = EPCURI(scheme: scheme, form: form, companyPrefix: prefix, components: components)
        return (uri, try uri.elementString())
    }

    /// `text` (ASCII) split at the byte of `separator`, keeping empty pieces.
    private static func split(_ text: Substring, at separator: Unicode.Scalar, maxSplits: Int) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: separator), maxSplits: maxSplits, omittingEmptySubsequences: false).map { Substring($0) }
    }

    static func checkCompanyPrefix(_ prefix: String, in urn: String) throws(GS1Error) {
        guard prefix.isAllDigits else {
            throw .malformedEPCURI(urn, reason: "GS1 Company Prefix '\(prefix)' must be digits")
        }
        guard (6...12).contains(prefix.count) else {
            throw .malformedEPCURI(urn, reason: "GS1 Company Prefix length \(prefix.count) is not within 6...12")
        }
    }

    /// Characters written raw in a GS3A3 component; the others of CSET 82 are escaped as `%HH`.
    static func isRawGS3A3(_ byte: UInt8) -> Bool { rawGS3A3.contains(byte) }

    private static let rawGS3A3 = ByteSet(Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!'()*+,-.:;=_".utf8))

    /// Decodes a GS3A3 component: raw characters and `%HH` escapes of other GS1 characters.
    static func unescape(_ part: String, in urn: String) throws(GS1Error) -> String {
        let bytes = Array(part.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isRawGS3A3(byte) {
                out.append(byte)
                index += 1
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                      let high = URIPercentEncoding.hexValue(bytes[index + 1]), let low = URIPercentEncoding.hexValue(bytes[index + 2]),
                      GS1CharacterSet.cset82.contains(high << 4 | low) || high << 4 | low == UInt8(ascii: "#") {
                out.append(high << 4 | low)
                index += 3
            } else {
                throw .malformedEPCURI(urn, reason: "character '\(Character(Unicode.Scalar(byte)))' must be percent-escaped in an EPC URI")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a CPI component reference: digits, upper-case letters, `-`, and `%23` (#) / `%2F` (/).
    static func unescapeCPIReference(_ part: String, in urn: String) throws(GS1Error) -> String {
        let decoded = try unescape(part, in: urn)
        if let bad = GS1CharacterSet.cset39.firstInvalidCharacter(in: decoded) {
            throw .malformedEPCURI(urn, reason: "CPI reference contains '\(bad)'; only digits, A-Z, '-', '#' and '/' are allowed")
        }
        return decoded
    }

    /// Escapes a component for the URI: `"`, `%`, `&`, `/`, `<`, `>`, `?`, `#` as `%HH`.
    static func escape(_ value: String) -> String {
        URIPercentEncoding.escape(value, in: .path, keeping: isRawGS3A3)
    }

    /// The URI string.
    public var urn: String {
        let layout = Self.layout(scheme)
        var parts = [companyPrefix]
        for (index, component) in components.enumerated() {
            parts.append(index == layout.textComponent || (scheme == .cpi && index == 0) ? Self.escape(component) : component)
        }
        if form == .idpat { parts.append("*") }
        return "urn:epc:\(form.rawValue):\(scheme.rawValue):" + parts.joined(separator: ".")
    }

    public var description: String { urn }
}
