/// A value of a `MATCH_` query parameter: an EPC pattern URI (`urn:epc:idpat:sgtin:0614141.*.*`)
/// or any other URI, which matches only itself (EPCIS 2.0 section 8.2.7.1.1, TDS pattern URIs).
///
/// Each pattern component is a value, `*` (anything) or, as EPCIS 1.x allowed, a decimal range
/// `[lo-hi]`. A pattern matches pure identities (`urn:epc:id:sgtin:…`), EPC classes
/// (`urn:epc:class:lgtin:…`) and class-level patterns written as quantity classes
/// (`urn:epc:idpat:sgtin:0614141.107346.*`, where a `*` only matches a `*`) of the same scheme.
public struct EPCPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let scheme: String?
    private let components: [Component]

    private enum Component: Sendable, Hashable {
        case any
        case value(Substring)
        case range(ClosedRange<UInt64>)
    }

    private static let patternPrefix = "urn:epc:idpat:"
    private static let valuePrefixes = ["urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:"]

    /// Reads `text`; nil when it starts like a pattern URI but a component is malformed.
    public init?(_ text: String) {
        self.text = text
        guard text.hasPrefix(Self.patternPrefix) else {
            scheme = nil
            components = []
            return
        }
        let body = text.dropFirst(Self.patternPrefix.count)
        guard let colon = body.firstIndex(of: ":"), colon != body.startIndex else { return nil }
        scheme = String(body[..<colon])
        var parsed: [Component] = []
        for part in body[body.index(after: colon)...].split(separator: ".", omittingEmptySubsequences: false) {
            if part == "*" {
                parsed.append(.any)
            } else if part.hasPrefix("[") && part.hasSuffix("]") {
                let bounds = part.dropFirst().dropLast().split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count == 2, let low = UInt64(bounds[0]), let high = UInt64(bounds[1]), low <= high else { return nil }
                parsed.append(.range(low...high))
            } else if part.isEmpty || part.contains("*") || part.contains("[") {
                return nil
            } else {
                parsed.append(.value(part))
            }
        }
        components = parsed
    }

    /// Whether this is a pattern URI rather than a single identifier.
    public var isPattern: Bool { scheme != nil }

    /// Whether `value` (an EPC or EPC class as an event writes it) matches.
    public func matches(_ value: String) -> Bool {
        guard let scheme else { return value == text }
        guard let prefix = Self.valuePrefixes.first(where: { value.hasPrefix($0) }) else { return false }
        let body = value.dropFirst(prefix.count)
        guard body.hasPrefix(scheme), body.dropFirst(scheme.count).first == ":" else { return false }
        let parts = body.dropFirst(scheme.count + 1).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == components.count else { return false }
        for (component, part) in zip(components, parts) {
            switch component {
            case .any: continue
            case .value(let expected): guard part == expected else { return false }
            case .range(let range):
                // TDS: a range matches decimal values without leading zeros.
                guard let number = UInt64(part), part == "0" || !part.hasPrefix("0"), range.contains(number) else { return false }
            }
        }
        return true
    }

    public var description: String { text }
}
