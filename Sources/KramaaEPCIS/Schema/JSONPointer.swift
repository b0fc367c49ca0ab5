import KramaaJSON
import KramaaPrimitives

/// A JSON Pointer (RFC 6901): the path of a value inside a JSON document, such as
/// `/epcisBody/eventList/0/bizStep`. Validation errors name the failing value with one.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The unescaped reference tokens, outermost first (array indices as decimal text).
    public internal(set) var tokens: [String]

    /// The pointer to the whole document (`""`).
    public init() { tokens = [] }

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses the RFC 6901 text form (`""`, `/a/0`, with `~0` for `~` and `~1` for `/`).
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty else { tokens = []; return }
        guard text.first == "/" else { return nil }
        var parsed: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let token = Self.unescape(Substring(raw)) else { return nil }
            parsed.append(token)
        }
        tokens = parsed
    }

    /// Parses the fragment of a URI (`#/definitions/%40context`): percent-decoded, then RFC 6901.
    public init?(uriFragment fragment: some StringProtocol) {
        guard let decoded = percentDecoded(fragment) else { return nil }
        self.init(decoded)
    }

    public var isRoot: Bool { tokens.isEmpty }

    /// This pointer with one more token.
    public func appending(_ token: String) -> JSONPointer {
        var copy = self
        copy.tokens.append(token)
        return copy
    }

    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    public mutating func append(_ token: String) { tokens.append(token) }

    /// The value this pointer names inside `document`, or nil if there is none.
    public func resolve(in document: JSON) -> JSON? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Self.arrayIndex(token), index < array.count else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The RFC 6901 text form.
    public var description: String {
        var text = ""
        for token in tokens {
            text.append("/")
            for character in token {
                switch character {
                case "~": text.append("~0")
                case "/": text.append("~1")
                default: text.append(character)
                }
            }
        }
        return text
    }

    public static func < (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        lhs.tokens.lexicographicallyPrecedes(rhs.tokens)
    }

    /// An array index token: `0` or digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        guard let first = token.utf8.first, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if first == 0x30 && token.utf8.count > 1 { return nil }
        return Int(token)
    }

    private static func unescape(_ raw: Substring) -> String? {
        guard raw.contains("~") else { return String(raw) }
        var result = ""
        var iterator = raw.makeIterator()
        while let character = iterator.next() {
            guard character == "~" else { result.append(character); continue }
            switch iterator.next() {
            case "0": result.append("~")
            case "1": result.append("/")
            default: return nil
            }
        }
        return result
    }
}

/// Decodes `%XX` escapes (UTF-8); nil when an escape is malformed or the bytes are not UTF-8.
func percentDecoded(_ text: some StringProtocol) -> String? {
    guard text.contains("%") else { return String(text) }
    var bytes: [UInt8] = []
    var utf8 = Array(text.utf8)[...]
    while let byte = utf8.popFirst() {
        guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
        guard utf8.count >= 2, let high = Hex.nibble(utf8.popFirst()!), let low = Hex.nibble(utf8.popFirst()!) else { return nil }
        bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
}

