import Foundation

/// Markup that is safe to send: literals are written as they are, and every interpolated value
/// goes through ``HTML/escape(_:)`` unless it is itself `HTML` (already built this way). Pages
/// are built only from `HTML` values, so no user text (organisation names, metadata, EPCIS
/// fields, search terms) can reach a page raw.
public struct HTML: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    public private(set) var text: String

    public init(stringLiteral value: String) { text = value }
    public init(stringInterpolation: Interpolation) { text = stringInterpolation.text }
    private init(raw: String) { text = raw }

    public var description: String { text }

    /// Nothing.
    public static let empty = HTML(raw: "")

    /// The one escaping function: `& < > " '` as character references, so text is safe both
    /// between tags and inside quoted attribute values.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Pieces one after another.
    public static func join(_ parts: [HTML], separator: HTML = .empty) -> HTML {
        HTML(raw: parts.map(\.text).joined(separator: separator.text))
    }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        public init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + 16 * interpolationCount) }
        public mutating func appendLiteral(_ literal: String) { text += literal }
        /// Markup built the same way: kept.
        public mutating func appendInterpolation(_ html: HTML) { text += html.text }
        public mutating func appendInterpolation(_ parts: [HTML]) { text += parts.map(\.text).joined() }
        /// Anything else: its description, escaped.
        public mutating func appendInterpolation<T>(_ value: T) { text += HTML.escape("\(value)") }
    }
}

/// Text for a URL's path segment or query value (RFC 3986 unreserved characters kept).
func urlComponent(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
    allowed.insert(charactersIn: "-._~:")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
}
