/// Subscriptions indexed by topic level, so a publication finds its subscribers by walking
/// the levels of its topic rather than testing every filter (as mosquitto's subscription tree).
struct SubscriptionTree: @unchecked Sendable {
    /// Who subscribed: a session and the subscription's key within it.
    struct Entry: Hashable {
        var clientID: String
        var key: String
    }

    private final class Node {
        var children: [Substring: Node] = [:]
        var entries: Set<Entry> = []
        var isEmpty: Bool { children.isEmpty && entries.isEmpty }
    }

    private var root = Node()
    private(set) var count = 0

    @discardableResult
    mutating func insert(filter: String, _ entry: Entry) -> Bool {
        var node = root
        for level in filter.split(separator: "/", omittingEmptySubsequences: false) {
            if let next = node.children[level] { node = next } else {
                let next = Node()
                node.children[level] = next
                node = next
            }
        }
        guard node.entries.insert(entry).inserted else { return false }
        count += 1
        return true
    }

    @discardableResult
    mutating func remove(filter: String, _ entry: Entry) -> Bool {
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        var path = [root]
        for level in levels {
            guard let next = path.last!.children[level] else { return false }
            path.append(next)
        }
        guard path.last!.entries.remove(entry) != nil else { return false }
        count -= 1
        // Prune the emptied branch.
        for i in stride(from: levels.count, to: 0, by: -1) where path[i].isEmpty {
            path[i - 1].children[levels[i - 1]] = nil
        }
        return true
    }

    /// Every entry whose filter matches `topic` (§4.7): `+` one level, `#` this level and
    /// below, wildcards at the first level never matching a `$` topic.
    func matches(_ topic: String, into result: inout [Entry]) {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        let dollar = topic.hasPrefix("$")
        visit(root, levels, 0, dollar, &result)
    }

    private func visit(_ node: Node, _ levels: [Substring], _ depth: Int, _ dollar: Bool, _ result: inout [Entry]) {
        let wildcardsAllowed = !(dollar && depth == 0)
        if wildcardsAllowed, let hash = node.children["#"] { result.append(contentsOf: hash.entries) }
        guard depth < levels.count else {
            result.append(contentsOf: node.entries)
            return
        }
        if let exact = node.children[levels[depth]] { visit(exact, levels, depth + 1, dollar, &result) }
        if wildcardsAllowed, let plus = node.children["+"] { visit(plus, levels, depth + 1, dollar, &result) }
    }
}
