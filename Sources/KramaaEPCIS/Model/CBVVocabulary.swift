import KramaaJSON

/// The CBV 2.0 vocabularies whose values EPCIS queries compare, and the one canonical form of
/// each value: the Web URI that the EPCIS 2.0 JSON-LD context expands it to.
///
/// The same business step can be written `shipping` (JSON, as the schema asks),
/// `cbv:BizStep-shipping` (a CURIE), `https://ref.gs1.org/cbv/BizStep-shipping` (the Web URI) or
/// `urn:epcglobal:cbv:bizstep:shipping` (the URN of EPCIS 1.x and XML); all four canonicalise to
/// the Web URI. Values outside the CBV (a company's own URI) stay as written, CURIEs expanded.
public enum CBVVocabulary: String, Sendable, CaseIterable {
    case bizStep
    case disposition
    case bizTransactionType
    case sourceDestinationType
    case errorReason
    case sensorComponent
    case measurementType
    case sensorAlertType

    /// The Web URI prefix a bare term is appended to.
    public var webPrefix: String {
        switch self {
        case .bizStep: "https://ref.gs1.org/cbv/BizStep-"
        case .disposition: "https://ref.gs1.org/cbv/Disp-"
        case .bizTransactionType: "https://ref.gs1.org/cbv/BTT-"
        case .sourceDestinationType: "https://ref.gs1.org/cbv/SDT-"
        case .errorReason: "https://ref.gs1.org/cbv/ER-"
        case .sensorComponent: "https://ref.gs1.org/cbv/Comp-"
        case .measurementType, .sensorAlertType: "https://gs1.org/voc/"
        }
    }

    /// The URN prefix of the same terms (EPCIS 1.x, XML), where the CBV defines one.
    public var urnPrefix: String? {
        switch self {
        case .bizStep: "urn:epcglobal:cbv:bizstep:"
        case .disposition: "urn:epcglobal:cbv:disp:"
        case .bizTransactionType: "urn:epcglobal:cbv:btt:"
        case .sourceDestinationType: "urn:epcglobal:cbv:sdt:"
        case .errorReason: "urn:epcglobal:cbv:er:"
        case .sensorComponent: "urn:epcglobal:cbv:comp:"
        case .measurementType, .sensorAlertType: nil
        }
    }

    /// The canonical (Web URI) form of `value`, expanding CURIEs with `context`.
    public func canonical(_ value: String, context: JSONLDContext = .epcis) -> String {
        if value.hasPrefix(webPrefix) { return value }
        if let urnPrefix, value.hasPrefix(urnPrefix) { return webPrefix + value.dropFirst(urnPrefix.count) }
        guard value.contains(":") else { return webPrefix + value }
        let expanded = context.expand(value)
        if expanded != value { return canonical(expanded, context: context) }
        return value
    }

    /// The bare term when `value` is a CBV value of this vocabulary (`shipping`), else nil.
    public func term(_ value: String, context: JSONLDContext = .epcis) -> String? {
        let canonical = canonical(value, context: context)
        return canonical.hasPrefix(webPrefix) ? String(canonical.dropFirst(webPrefix.count)) : nil
    }
}

/// The part of a JSON-LD `@context` that EPCIS values need: prefix definitions, so that CURIEs
/// such as `ext1:float` or `cbv:BizStep-shipping` expand to full URIs.
///
/// Remote contexts (URLs) are not fetched: the EPCIS 2.0 contexts are known and their prefixes
/// are always defined (``epcis``); any other remote context contributes nothing.
public struct JSONLDContext: Sendable, Equatable {
    /// Prefix → the IRI it stands for.
    public var prefixes: [String: String]

    public init(prefixes: [String: String]) { self.prefixes = prefixes }

    /// The prefixes the EPCIS 2.0 contexts (full and simple) define.
    public static let epcis = JSONLDContext(prefixes: [
        "epcis": "https://ref.gs1.org/epcis/",
        "cbv": "https://ref.gs1.org/cbv/",
        "cbvmda": "urn:epcglobal:cbv:mda:",
        "gs1": "https://gs1.org/voc/",
        "vtype": "urn:epcglobal:epcis:vtype:",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "dcterms": "http://purl.org/dc/terms/",
    ])

    /// This context with the prefix definitions of a JSON-LD `@context` value added (a URL, an
    /// object, or an array of both; later definitions win, as in JSON-LD).
    public func merging(_ context: JSON?) -> JSONLDContext {
        var merged = self
        switch context {
        case .object(let definitions)?:
            for (term, definition) in definitions where !term.hasPrefix("@") {
                switch definition {
                case .string(let iri) where Self.isPrefixIRI(iri): merged.prefixes[term] = iri
                case .object(let object):
                    if case .string(let iri)? = object["@id"], Self.isPrefixIRI(iri) { merged.prefixes[term] = iri }
                default: break
                }
            }
        case .array(let list)?:
            for item in list { merged = merged.merging(item) }
        default: break
        }
        return merged
    }

    /// `value` with a defined prefix replaced by its IRI (`ext1:float` → `http://example.com/ext1/float`);
    /// absolute URIs (`https://…`, `urn:…` when `urn` is no prefix) and unknown prefixes stay as written.
    public func expand(_ value: String) -> String {
        guard let colon = value.firstIndex(of: ":") else { return value }
        let suffix = value[value.index(after: colon)...]
        if suffix.hasPrefix("//") { return value }
        guard let iri = prefixes[String(value[..<colon])] else { return value }
        return iri + suffix
    }

    /// JSON-LD 1.1 uses a term as a prefix when its IRI ends in a gen-delim character.
    private static func isPrefixIRI(_ iri: String) -> Bool {
        guard let last = iri.last else { return false }
        return ":/?#[]@".contains(last)
    }
}
