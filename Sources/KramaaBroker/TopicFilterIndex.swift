/// Topic filters by owner, matched against topic names level by level (the broker's own
/// subscription tree): the federation keeps each peer node's filters in one.
public struct TopicFilterIndex: Sendable {
    private var tree = SubscriptionTree()
    private var filters: [String: Set<String>] = [:]

    public init() {}

    /// Replaces `owner`'s filters.
    public mutating func set(_ owner: String, filters new: Set<String>) {
        let old = filters[owner] ?? []
        for f in old.subtracting(new) { tree.remove(filter: f, .init(clientID: owner, key: f)) }
        for f in new.subtracting(old) { tree.insert(filter: f, .init(clientID: owner, key: f)) }
        filters[owner] = new.isEmpty ? nil : new
    }

    /// The owners with a filter matching `topic`.
    public func owners(matching topic: String) -> Set<String> {
        var entries: [SubscriptionTree.Entry] = []
        tree.matches(topic, into: &entries)
        return Set(entries.map(\.clientID))
    }
}
