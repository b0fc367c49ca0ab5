/// The parts of a Digital Link URI as written, without padding or value checks (the view of
/// digital-link.js `getDomain`, `getIdentifier`, `getKeyQualifiers`, `getAttributes`).
public struct DigitalLinkComponents: Hashable, Sendable {
    /// Scheme, domain and any path prefix, e.g. `https://example.com`.
    public let domain: String
    /// The primary key AI (numeric, even when written as a short name) and its value as written (unescaped).
    public let identifier: AIValue
    public let keyQualifiers: [AIValue]
    /// Query parameters other than `linkType`: AI attributes and other names alike, unescaped.
    public let attributes: [DigitalLink.QueryParameter]
    public let linkType: String?

    /// Splits `uri`; short names and unknown path prefixes are accepted, values are not checked.
    public init(_ uri: String) throws(GS1Error) {
        let syntax = try DigitalLinkSyntax.split(uri, convenienceAlphas: true, permitUnknownAIs: false, trailingSlash: true)
        let pairs = syntax.pathPairs.map { AIValue($0.ai.code, URIPercentEncoding.unescape($0.value, in: .path) ?? $0.value) }
        domain = syntax.stem
        identifier = pairs[0]
        keyQualifiers = Array(pairs.dropFirst())
        let parameters = syntax.query.map { name, value in
            DigitalLink.QueryParameter(name: name, value: value.map { URIPercentEncoding.unescape($0, in: .query) ?? $0 })
        }
        attributes = parameters.filter { $0.name != "linkType" }
        linkType = parameters.first { $0.name == "linkType" }?.value ?? nil
    }
}
