import Foundation

/// The `format` values the validator asserts (JSON Schema draft-07 section 7.3). Other
/// formats are annotations only and always pass, as the draft allows.
enum SchemaFormat: String, Sendable {
    case dateTime = "date-time"
    case date
    case time
    case uri
    case uriReference = "uri-reference"
    case iri
    case iriReference = "iri-reference"
    case jsonPointer = "json-pointer"
    case relativeJSONPointer = "relative-json-pointer"
    case regex
    case ipv4
    case ipv6
    case hostname
    case email

    /// What a user is told a failing value is not, e.g. "a valid date-time (RFC 3339)".
    var expectation: String {
        switch self {
        case .dateTime: "a valid date-time (RFC 3339, e.g. 2024-05-01T12:00:00.000+02:00)"
        case .date: "a valid date (RFC 3339 full-date, YYYY-MM-DD)"
        case .time: "a valid time (RFC 3339 full-time, hh:mm:ss with an offset)"
        case .uri: "a valid absolute URI (RFC 3986, with a scheme such as urn: or https:)"
        case .uriReference: "a valid URI reference (RFC 3986)"
        case .iri: "a valid absolute IRI (RFC 3987)"
        case .iriReference: "a valid IRI reference (RFC 3987)"
        case .jsonPointer: "a valid JSON pointer (RFC 6901)"
        case .relativeJSONPointer: "a valid relative JSON pointer"
        case .regex: "a valid regular expression"
        case .ipv4: "a valid IPv4 address"
        case .ipv6: "a valid IPv6 address"
        case .hostname: "a valid host name (RFC 1123)"
        case .email: "a valid e-mail address"
        }
    }

    /// Whether `text` is in this format. With `blankNodes`, a JSON-LD blank node identifier
    /// (`_:name`) also passes where a URI or IRI is expected.
    func accepts(_ text: String, blankNodes: Bool = false) -> Bool {
        if blankNodes, self == .uri || self == .iri || self == .uriReference || self == .iriReference,
           text.hasPrefix("_:"), text.utf8.count > 2 {
            return URIGrammar.accepts(String(text.dropFirst(2)), requireScheme: false, allowNonASCII: true)
                && !text.dropFirst(2).contains("/") && !text.dropFirst(2).contains("#")
        }
        switch self {
        case .dateTime: return EPCISTimestamp(rfc3339: text) != nil
        case .date:
            var copy = text
            return copy.withUTF8 { $0.count == 10 && EPCISTimestamp.parseDate($0, at: 0) != nil }
        case .time:
            var copy = text
            return copy.withUTF8 { EPCISTimestamp.parseTime($0, at: 0) != nil }
        case .uri: return URIGrammar.accepts(text, requireScheme: true, allowNonASCII: false)
        case .uriReference: return URIGrammar.accepts(text, requireScheme: false, allowNonASCII: false)
        case .iri: return URIGrammar.accepts(text, requireScheme: true, allowNonASCII: true)
        case .iriReference: return URIGrammar.accepts(text, requireScheme: false, allowNonASCII: true)
        case .jsonPointer: return JSONPointer(text) != nil
        case .relativeJSONPointer:
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits == "0" || !digits.hasPrefix("0") else { return false }
            let rest = text.dropFirst(digits.count)
            return rest == "#" || JSONPointer(rest) != nil
        case .regex: return (try? NSRegularExpression(pattern: text)) != nil
        case .ipv4: return Self.isIPv4(Substring(text))
        case .ipv6: return Self.isIPv6(text)
        case .hostname: return Self.isHostname(text)
        case .email:
            guard let at = text.lastIndex(of: "@") else { return false }
            let local = text[..<at]
            return !local.isEmpty && !local.contains(where: \.isWhitespace) && Self.isHostname(String(text[text.index(after: at)...]))
        }
    }

    private static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || !part.hasPrefix("0"), let value = Int(part) else { return false }
            return value <= 255
        }
    }

    private static func isIPv6(_ text: String) -> Bool {
        var groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var needed = 8
        if let last = groups.last, last.contains(".") {
            guard isIPv4(last) else { return false }
            groups.removeLast()
            groups.append("0")  // stands for the two groups of the IPv4 tail
            needed = 7
        }
        let compressed = text.components(separatedBy: "::").count - 1
        guard compressed <= 1 else { return false }
        if compressed == 1 {
            // "::" makes empty tokens at the gap (and at an edge); drop them and fill the gap.
            let nonEmpty = groups.filter { !$0.isEmpty }
            guard nonEmpty.count < needed else { return false }
            groups = nonEmpty
        } else if groups.count != needed {
            return false
        }
        return groups.allSatisfy { (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) }
    }

    private static func isHostname(_ text: String) -> Bool {
        let host = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

/// RFC 3986 (and, allowing non-ASCII characters, RFC 3987) URI syntax, checked byte by byte.
enum URIGrammar {
    /// Whether `text` is a URI (`requireScheme`) or a URI reference.
    static func accepts(_ text: String, requireScheme: Bool, allowNonASCII: Bool) -> Bool {
        var text = text
        return text.withUTF8 { check($0[...], requireScheme: requireScheme, allowNonASCII: allowNonASCII) }
    }

    private static func check(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, requireScheme: Bool, allowNonASCII: Bool) -> Bool {
        var rest = bytes
        var hasScheme = false
        if let colon = schemeEnd(bytes) {
            hasScheme = true
            rest = bytes[(colon + 1)...]
        } else if requireScheme {
            return false
        }
        // Fragment, then query.
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            guard rest[(hash + 1)...].allSatisfy({ isPChar($0, allowNonASCII) || $0 == 0x2F || $0 == 0x3F }),
                  validPercentEscapes(rest[(hash + 1)...]) else { return false }
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            guard rest[(question + 1)...].allSatisfy({ isPChar($0, allowNonASCII) || $0 == 0x2F || $0 == 0x3F }),
                  validPercentEscapes(rest[(question + 1)...]) else { return false }
            rest = rest[..<question]
        }
        var path = rest
        if rest.starts(with: [0x2F, 0x2F]) {
            let afterSlashes = rest.dropFirst(2)
            let authorityEnd = afterSlashes.firstIndex(of: 0x2F) ?? afterSlashes.endIndex
            guard checkAuthority(afterSlashes[..<authorityEnd], allowNonASCII) else { return false }
            path = afterSlashes[authorityEnd...]
        } else if !hasScheme, let firstSlash = path.firstIndex(of: 0x2F) ?? Optional(path.endIndex),
                  path[..<firstSlash].contains(UInt8(ascii: ":")) {
            return false  // a relative reference's first segment cannot hold a colon (path-noscheme)
        }
        return path.allSatisfy({ isPChar($0, allowNonASCII) || $0 == 0x2F }) && validPercentEscapes(path)
    }

    /// The index of the colon ending a valid scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
    private static func schemeEnd(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard let first = bytes.first, isAlpha(first) else { return nil }
        for i in bytes.indices.dropFirst() {
            let byte = bytes[i]
            if byte == UInt8(ascii: ":") { return i }
            guard isAlpha(byte) || isDigit(byte) || byte == 0x2B || byte == 0x2D || byte == 0x2E else { return nil }
        }
        return nil
    }

    private static func checkAuthority(_ authority: Slice<UnsafeBufferPointer<UInt8>>, _ allowNonASCII: Bool) -> Bool {
        var hostPort = authority
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            let userinfo = authority[..<at]
            guard userinfo.allSatisfy({ isUnreservedOrSubDelim($0, allowNonASCII) || $0 == 0x25 || $0 == 0x3A }),
                  validPercentEscapes(userinfo) else { return false }
            hostPort = authority[(at + 1)...]
        }
        var host = hostPort
        if hostPort.first == UInt8(ascii: "[") {
            guard let close = hostPort.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = hostPort[(hostPort.startIndex + 1)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ isHex($0) || $0 == 0x3A || $0 == 0x2E || isUnreservedOrSubDelim($0, false) })
            else { return false }
            let afterHost = hostPort[(close + 1)...]
            if afterHost.isEmpty { return true }
            guard afterHost.first == UInt8(ascii: ":") else { return false }
            return afterHost.dropFirst().allSatisfy(isDigit)
        }
        if let colon = hostPort.lastIndex(of: UInt8(ascii: ":")) {
            guard hostPort[(colon + 1)...].allSatisfy(isDigit) else { return false }
            host = hostPort[..<colon]
        }
        return host.allSatisfy({ isUnreservedOrSubDelim($0, allowNonASCII) || $0 == 0x25 }) && validPercentEscapes(host)
    }

    /// Every `%` is followed by two hex digits.
    private static func validPercentEscapes(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var i = bytes.startIndex
        while let percent = bytes[i...].firstIndex(of: 0x25) {
            guard percent + 2 < bytes.endIndex, isHex(bytes[percent + 1]), isHex(bytes[percent + 2]) else { return false }
            i = percent + 3
        }
        return true
    }

    private static func isPChar(_ byte: UInt8, _ allowNonASCII: Bool) -> Bool {
        isUnreservedOrSubDelim(byte, allowNonASCII) || byte == 0x25 || byte == 0x3A || byte == 0x40
    }

    private static func isUnreservedOrSubDelim(_ byte: UInt8, _ allowNonASCII: Bool) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: true  // ALPHA, DIGIT
        case 0x2D, 0x2E, 0x5F, 0x7E: true  // - . _ ~
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: true  // ! $ & ' ( ) * + , ; =
        case 0x80...: allowNonASCII
        default: false
        }
    }

    private static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
}
