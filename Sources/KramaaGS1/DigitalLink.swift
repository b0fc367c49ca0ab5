/// A GS1 Digital Link URI (GS1 Digital Link Standard 1.x): a primary key with its key qualifiers in the
/// path and data attributes in the query string, under any stem (scheme, domain, optional path prefix).
public struct DigitalLink: Hashable, Sendable, CustomStringConvertible {
    /// The GS1 resolver stem used for canonical Digital Links.
    public static let canonicalStem = "https://id.gs1.org"

    /// Scheme, domain and any path prefix before the primary key.
    public var stem: String
    public var primaryKey: AIValue
    /// Key qualifiers in path order, e.g. (22) CPV, (10) lot, (21) serial after a GTIN.
    public var keyQualifiers: [AIValue]
    /// AI data attributes from the query string, in the order given.
    public var dataAttributes: [AIValue]
    /// Non-AI query parameters (e.g. `linkType`), unescaped; nil value for a parameter without `=`.
    public var otherParameters: [QueryParameter]
    public var fragment: String?

    /// A query parameter that is not an AI.
    public struct QueryParameter: Hashable, Sendable {
        public let name: String
        public let value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// Parser options; the defaults are the strict reading of the standard (as the GS1 Syntax Engine).
    public struct ParseOptions: Sendable, Equatable {
        /// Accept GTIN-8, -12 and -13 in AI (01) and pad them to GTIN-14.
        public var permitZeroSuppressedGTIN = false
        /// Accept short names such as `gtin`, `lot`, `ser` in the path (deprecated in the standard).
        public var permitConvenienceAlphas = false
        /// Accept AIs missing from the GS1 table (as X..90).
        public var permitUnknownAIs = false
        /// Accept unknown AIs as query-string data attributes (needs `permitUnknownAIs`).
        public var permitUnknownAIsAsDataAttributes = false
        /// Ignore one `/` at the end of the path.
        public var permitTrailingSlash = false
        /// Verify check digits and GMN check characters.
        public var verifyCheckDigits = true
        /// Check query-string data attributes (values, duplicates, placement); false ignores the query string.
        public var validateQuery = true
        /// Check that every AI's requisite AIs are present (e.g. (17) needs a GTIN, ITIP or GCN);
        /// false reads the link's syntax only.
        public var checkRequisites = true

        public init() {}

        /// The GS1 Syntax Engine's default reading.
        public static let strict = ParseOptions()

        /// The profile of digital-link.js `isValid()`: short names, zero-suppressed GTINs, trailing slash.
        public static let digitalLinkJS: ParseOptions = {
            var options = ParseOptions()
            options.permitZeroSuppressedGTIN = true
            options.permitConvenienceAlphas = true
            options.permitTrailingSlash = true
            return options
        }()
    }

    public init(stem: String = DigitalLink.canonicalStem, primaryKey: AIValue, keyQualifiers: [AIValue] = [],
                dataAttributes: [AIValue] = [], otherParameters: [QueryParameter] = [], fragment: String? = nil) {
        self.stem = stem
        self.primaryKey = primaryKey
        self.keyQualifiers = keyQualifiers
        self.dataAttributes = dataAttributes
        self.otherParameters = otherParameters
        self.fragment = fragment
    }

    /// The AIs in Digital Link order: primary key, key qualifiers, data attributes.
    public var elementString: GS1ElementString {
        GS1ElementString([primaryKey] + keyQualifiers + dataAttributes)
    }

    /// The `linkType` query parameter, if any.
    public var linkType: String? {
        otherParameters.first { $0.name == "linkType" }?.value
    }

    /// Parses and validates a Digital Link URI.
    public static func parse(_ uri: String, options: ParseOptions = .strict) throws(GS1Error) -> DigitalLink {
        let syntax = try DigitalLinkSyntax.split(
            uri, convenienceAlphas: options.permitConvenienceAlphas, permitUnknownAIs: options.permitUnknownAIs,
            trailingSlash: options.permitTrailingSlash)
        var path: [AIValue] = []
        for pair in syntax.pathPairs {
            guard !pair.value.isEmpty else { throw .emptyValue(ai: pair.ai.code) }
            let value = try decode(pair.value, ai: pair.ai, in: .path, options: options)
            try pair.ai.validate(value, verifyCheckDigits: options.verifyCheckDigits)
            path.append(AIValue(pair.ai.code, value))
        }
        let key = syntax.pathPairs[0].ai
        let qualifiers = path.dropFirst().map(\.ai)
        guard key.acceptsKeyQualifiers(qualifiers) else {
            throw .invalidKeyQualifierSequence(primaryKey: key.code, qualifiers: qualifiers)
        }
        var attributes: [AIValue] = []
        var others: [QueryParameter] = []
        for (name, written) in syntax.query {
            guard let written, options.validateQuery else {
                others.append(QueryParameter(name: name, value: written.flatMap { URIPercentEncoding.unescape($0, in: .query) }))
                continue
            }
            guard name.isAllDigits else {
                others.append(QueryParameter(name: name, value: URIPercentEncoding.unescape(written, in: .query)))
                continue
            }
            let ai = try ApplicationIdentifier.resolve(name, permitUnknown: options.permitUnknownAIs)
            guard !written.isEmpty else { throw .emptyValue(ai: name) }
            let value = try decode(written, ai: ai, in: .query, options: options)
            try ai.validate(value, verifyCheckDigits: options.verifyCheckDigits)
            if path.contains(where: { $0.ai == name }) || attributes.contains(where: { $0.ai == name }) {
                throw .duplicateAI(name)
            }
            for position in 1...(qualifiers.count + 1) {
                var trial = qualifiers
                trial.insert(name, at: position - 1)
                if key.acceptsKeyQualifiers(trial) { throw .attributeBelongsInPath(name) }
            }
            guard ai.isDataAttribute || (ai.isUnknown && options.permitUnknownAIsAsDataAttributes) else {
                throw .notADataAttribute(name)
            }
            attributes.append(AIValue(name, value))
        }
        let link = DigitalLink(stem: syntax.stem, primaryKey: path[0], keyQualifiers: Array(path.dropFirst()),
                               dataAttributes: attributes, otherParameters: others, fragment: syntax.fragment)
        try link.elementString.checkAssociations(requisites: options.checkRequisites)
        return link
    }

    /// Whether `uri` is a valid Digital Link under `options`.
    public static func isValid(_ uri: String, options: ParseOptions = .strict) -> Bool {
        (try? parse(uri, options: options)) != nil
    }

    private static func decode(_ written: String, ai: ApplicationIdentifier, in component: URIPercentEncoding.Component,
                               options: ParseOptions) throws(GS1Error) -> String {
        guard var value = URIPercentEncoding.unescape(written, in: component) else {
            throw .invalidValue(ai: ai.code, value: written, reason: "its percent-encoding decodes to bytes that are not GS1 characters")
        }
        if options.permitZeroSuppressedGTIN, ai.code == "01", [8, 12, 13].contains(value.utf8.count), value.isAllDigits {
            value = String(repeating: "0", count: 14 - value.utf8.count) + value
        }
        return value
    }

    /// Builds a Digital Link from AI data as the GS1 Syntax Engine does: the first primary key AI is the key,
    /// the longest valid run of its key qualifiers goes in the path, other AIs become data attributes
    /// (predefined-length AIs first, then the others, each in the order given; repeats dropped).
    /// When the data holds several primary keys and the first cannot carry the others (a key qualifier
    /// of a later key is no data attribute, e.g. (8020) with (415)), the next key that can is used, so
    /// that data in any order (as a decompressed link gives it) builds the same link.
    public init(elementString: GS1ElementString, stem: String = DigitalLink.canonicalStem,
                permitUnknownAIs: Bool = false, permitUnknownAIsAsDataAttributes: Bool = false) throws(GS1Error) {
        try self.init(elementString: elementString, stem: stem, permitUnknownAIs: permitUnknownAIs,
                      permitUnknownAIsAsDataAttributes: permitUnknownAIsAsDataAttributes, validated: false)
    }

    /// The Digital Link of an element string already validated as `init(elementString:)` does
    /// (`GS1ElementString.validate()` with its defaults), without validating it again.
    init(validated elementString: GS1ElementString) throws(GS1Error) {
        try self.init(elementString: elementString, stem: DigitalLink.canonicalStem, permitUnknownAIs: false,
                      permitUnknownAIsAsDataAttributes: false, validated: true)
    }

    private init(elementString: GS1ElementString, stem: String, permitUnknownAIs: Bool, permitUnknownAIsAsDataAttributes: Bool,
                 validated: Bool) throws(GS1Error) {
        let keys = elementString.values.filter { ApplicationIdentifier.lookup($0.ai)?.isPrimaryKey == true }
        guard !keys.isEmpty else { throw .missingPrimaryKey }
        if !validated { try elementString.validate(permitUnknownAIs: permitUnknownAIs) }
        var firstError: GS1Error?
        for key in keys {
            do {
                self = try Self.build(elementString.values, key: key, stem: stem, permitUnknownAIs: permitUnknownAIs,
                                      permitUnknownAIsAsDataAttributes: permitUnknownAIsAsDataAttributes)
                return
            } catch {
                firstError = firstError ?? error
            }
        }
        throw firstError!
    }

    private static func build(_ values: [AIValue], key: AIValue, stem: String, permitUnknownAIs: Bool,
                              permitUnknownAIsAsDataAttributes: Bool) throws(GS1Error) -> DigitalLink {
        let alternatives = ApplicationIdentifier.lookup(key.ai)!.keyQualifierSequences!
        // A link holds a handful of AIs: arrays, not hashing, hold them.
        let present = values.map(\.ai)
        var best: [String] = []
        for alternative in alternatives {
            let candidate = alternative.filter(present.contains)
            if candidate.count > best.count || (candidate.count == best.count && !candidate.isEmpty
                && candidate.joined(separator: " ") < best.joined(separator: " ")) {
                best = candidate
            }
        }
        let pathAIs = [key.ai] + best
        var attributes: [AIValue] = []
        for fixedFirst in [true, false] {
            for value in values where !pathAIs.contains(value.ai) && !attributes.contains(where: { $0.ai == value.ai }) {
                let ai = try ApplicationIdentifier.resolve(value.ai, permitUnknown: permitUnknownAIs)
                guard ai.requiresFNC1 != fixedFirst else { continue }
                guard ai.isDataAttribute || (ai.isUnknown && permitUnknownAIsAsDataAttributes) else {
                    throw .notADataAttribute(value.ai)
                }
                attributes.append(value)
            }
        }
        let qualifiers = best.compactMap { code in values.first { $0.ai == code } }
        var trimmed = stem
        if trimmed.hasSuffix("/") { trimmed.removeLast() }
        return DigitalLink(stem: trimmed, primaryKey: key, keyQualifiers: qualifiers, dataAttributes: attributes)
    }

    /// The URI with every AI value percent-encoded except unreserved characters (the GS1 canonical escaping),
    /// under `stem` (default: this link's own stem). Non-AI parameters and the fragment are kept.
    /// - Parameter shortNames: write path AIs that have one as their convenience alpha (`/gtin/`, `/lot/`), as
    ///   digital-link.js does on request; deprecated in the standard, so off by default. Query-string
    ///   data attributes keep their digits: only path segments may be short names.
    public func uri(stem: String? = nil, shortNames: Bool = false) -> String {
        var out = stem.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? self.stem
        for value in [primaryKey] + keyQualifiers {
            out += "/" + Self.name(of: value.ai, shortNames: shortNames) + "/" + URIPercentEncoding.escape(value.value, in: .path)
        }
        out += Self.queryString(dataAttributes.map { QueryParameter(name: $0.ai, value: $0.value) }
                                + otherParameters)
        if let fragment { out += "#" + fragment }
        return out
    }

    /// `?name=value&…` with names and values escaped as query components, or "" for no parameters.
    static func queryString(_ parameters: [QueryParameter]) -> String {
        guard !parameters.isEmpty else { return "" }
        return "?" + parameters.map { parameter in
            URIPercentEncoding.escape(parameter.name, in: .query)
                + (parameter.value.map { "=" + URIPercentEncoding.escape($0, in: .query) } ?? "")
        }.joined(separator: "&")
    }

    private static func name(of ai: String, shortNames: Bool) -> String {
        guard shortNames, let short = ApplicationIdentifier.lookup(ai)?.shortName else { return ai }
        return short
    }

    /// The URI under its own stem.
    public var description: String { uri() }
}
