/// The syntactic split of an http(s) URI into the parts a GS1 Digital Link is made of, before any AI
/// value is checked: stem (scheme, domain, path prefix), path AI/value pairs from the primary key on,
/// query parameters and fragment.
struct DigitalLinkSyntax {
    /// Scheme, domain and any path before the primary key, e.g. `https://example.com/some/prefix`.
    let stem: String
    /// Scheme and domain only, e.g. `https://example.com`.
    let domain: String
    /// AI (as written: digits or a short name) and still-escaped value, from the primary key on.
    let pathPairs: [(ai: ApplicationIdentifier, written: String, value: String)]
    /// Query parameters in order: name and still-escaped value (nil for a parameter without `=`).
    let query: [(name: String, value: String?)]
    let fragment: String?

    /// Splits `uri`. The primary key is found by walking `/AI/value` pairs back from the end of the path
    /// until one is a primary key; a segment that is not an AI stops the walk.
    static func split(_ uri: String, convenienceAlphas: Bool, permitUnknownAIs: Bool, trailingSlash: Bool) throws(GS1Error) -> DigitalLinkSyntax {
        let parts = try URIParts.split(uri)
        var rest = parts.path
        if trailingSlash, rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
        let segments = rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var start: Int?
        var index = segments.count - 2
        while index >= 0 {
            guard let ai = lookup(segments[index], convenienceAlphas: convenienceAlphas, permitUnknownAIs: permitUnknownAIs) else { break }
            if ai.isPrimaryKey {
                start = index
                break
            }
            index -= 2
        }
        guard let start else { throw .noPrimaryKey(uri) }
        var pairs: [(ai: ApplicationIdentifier, written: String, value: String)] = []
        var position = start
        while position + 1 < segments.count {
            let written = segments[position]
            let ai = lookup(written, convenienceAlphas: convenienceAlphas, permitUnknownAIs: permitUnknownAIs)!
            pairs.append((ai, String(written), String(segments[position + 1])))
            position += 2
        }
        let prefix = segments[..<start].map { "/" + $0 }.joined()
        return DigitalLinkSyntax(stem: parts.domain + prefix, domain: parts.domain, pathPairs: pairs, query: parts.query,
                                 fragment: parts.fragment)
    }

    /// The AI a path segment names: digits, or (when permitted) a convenience alpha such as `gtin`.
    static func lookup(_ segment: Substring, convenienceAlphas: Bool, permitUnknownAIs: Bool) -> ApplicationIdentifier? {
        if convenienceAlphas, (3...5).contains(segment.count), segment.first?.isNumber == false,
           let ai = ApplicationIdentifier.lookup(shortName: segment) {
            return ai
        }
        if let ai = ApplicationIdentifier.lookup(segment) { return ai }
        return try? ApplicationIdentifier.resolve(String(segment), permitUnknown: permitUnknownAIs)
    }
}

/// The generic parts of an http(s) URI, split before anything GS1-specific is looked at.
struct URIParts {
    /// Scheme and host, e.g. `https://example.com`.
    let domain: String
    /// The path from the `/` after the host, without query string and fragment.
    let path: Substring
    /// Query parameters in order: name and still-escaped value (nil for a parameter without `=`).
    let query: [(name: String, value: String?)]
    let fragment: String?

    /// Every character allowed anywhere in a URI (RFC 3986), including `%`.
    private static let uriCharacters = ByteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%".utf8)
    /// URI characters that may not appear in a domain.
    private static let badDomainCharacters = ByteSet("_~?#@!$&'()*+,;=%".utf8)

    static func split(_ uri: String) throws(GS1Error) -> URIParts {
        if let bad = uri.utf8.first(where: { !uriCharacters.contains($0) }) {
            throw .notADigitalLink(uri, reason: "character '\(Character(Unicode.Scalar(bad)))' is not allowed in a URI")
        }
        let schemes = ["https://", "HTTPS://", "http://", "HTTP://"]
        guard let scheme = schemes.first(where: { uri.hasPrefix($0) }) else {
            throw .notADigitalLink(uri, reason: "it must start with http:// or https://")
        }
        // Every character is ASCII from here (checked above): bytes are searched, not Characters.
        var rest = Substring(uri.dropFirst(scheme.count))
        guard let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")), slash > rest.startIndex else {
            throw .notADigitalLink(uri, reason: "it has no domain name followed by a path")
        }
        let host = rest[..<slash]
        if host.utf8.contains(where: badDomainCharacters.contains) {
            throw .notADigitalLink(uri, reason: "domain '\(host)' contains a character not allowed in a domain name")
        }
        rest = rest[slash...]
        var fragment: String?
        if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        var query: [(name: String, value: String?)] = []
        if let mark = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
            for parameter in rest[rest.index(after: mark)...].split(separator: "&") {
                if let equals = parameter.firstIndex(of: "=") {
                    query.append((String(parameter[..<equals]), String(parameter[parameter.index(after: equals)...])))
                } else {
                    query.append((String(parameter), nil))
                }
            }
            rest = rest[..<mark]
        }
        return URIParts(domain: scheme + host, path: rest, query: query, fragment: fragment)
    }
}
