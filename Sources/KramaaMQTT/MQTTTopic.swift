/// Topic names and topic filters (MQTT 5 §4.7): validation, matching with `+` and `#`, `$`
/// topics kept from wildcards at the first level, and shared subscriptions
/// (`$share/{group}/{filter}`, §4.8.2).
public enum MQTTTopic {
    /// A topic name to publish to: 1–65,535 bytes, no wildcards, no U+0000.
    public static func validateName(_ name: String) throws(MQTTDecodingError) {
        guard !name.isEmpty else { throw .protocolError("an empty topic name") }
        guard name.utf8.count <= 65_535 else { throw .malformed("a topic name longer than 65,535 bytes") }
        guard !name.contains("+") && !name.contains("#") else { throw .protocolError("wildcards in the topic name \(name)") }
        guard !name.unicodeScalars.contains("\u{0}") else { throw .malformed("U+0000 in a topic name") }
    }

    /// A topic filter to subscribe with: `+` a whole level, `#` the whole last level.
    public static func validateFilter(_ filter: String) throws(MQTTDecodingError) {
        guard !filter.isEmpty else { throw .protocolError("an empty topic filter") }
        guard !filter.unicodeScalars.contains("\u{0}") else { throw .malformed("U+0000 in a topic filter") }
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        for (i, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || i != levels.count - 1) {
                throw .protocolError("'#' must be a whole level and the last: \(filter)")
            }
            if level.contains("+") && level != "+" { throw .protocolError("'+' must be a whole level: \(filter)") }
        }
    }

    /// A subscription's filter: a shared one names its group.
    public struct Subscription: Equatable, Sendable {
        public var filter: String
        public var shareGroup: String?

        public init(filter: String, shareGroup: String?) {
            self.filter = filter
            self.shareGroup = shareGroup
        }
    }

    /// Splits `$share/{group}/{filter}`; other filters are returned as they are.
    public static func parseSubscription(_ text: String) throws(MQTTDecodingError) -> Subscription {
        guard text.hasPrefix("$share/") else {
            try validateFilter(text)
            return Subscription(filter: text, shareGroup: nil)
        }
        let rest = text.dropFirst("$share/".count)
        guard let slash = rest.firstIndex(of: "/") else { throw .protocolError("a shared subscription without a filter: \(text)") }
        let group = String(rest[..<slash]), filter = String(rest[rest.index(after: slash)...])
        guard !group.isEmpty, !group.contains("+"), !group.contains("#") else {
            throw .protocolError("a share name must be non-empty without wildcards: \(text)")
        }
        try validateFilter(filter)
        return Subscription(filter: filter, shareGroup: group)
    }

    /// Whether `name` matches `filter` (§4.7.1–4.7.2): `+` any one level, `#` this level and
    /// all below (including the parent: `a/#` matches `a`), and a name starting with `$`
    /// matched by no filter starting with a wildcard.
    public static func matches(filter: String, name: String) -> Bool {
        if name.hasPrefix("$") && (filter.hasPrefix("+") || filter.hasPrefix("#")) { return false }
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let n = name.split(separator: "/", omittingEmptySubsequences: false)
        var i = 0
        while i < f.count {
            if f[i] == "#" { return true }
            guard i < n.count else { return false }
            if f[i] != "+" && f[i] != n[i] { return false }
            i += 1
        }
        return i == n.count
    }
}
