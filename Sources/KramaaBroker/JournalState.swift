/// The durable state a journal's changes add up to: what a journal replays on start-up and
/// what a compacted journal writes out. Pure, so every journal (in memory, on disk) applies
/// changes the same way.
public struct JournalState: Equatable, Sendable {
    public private(set) var sessions: [String: PersistedSession] = [:]
    public private(set) var retained: [String: BrokerMessage] = [:]

    public init() {}

    public mutating func apply(_ change: JournalChange) {
        switch change {
        case .session(let id, let principal, let expiry, let disconnectedAt):
            var s = sessions[id] ?? PersistedSession(clientID: id, principal: principal, expiryInterval: expiry)
            s.principal = principal
            s.expiryInterval = expiry
            s.disconnectedAt = disconnectedAt
            sessions[id] = s
        case .sessionRemoved(let id):
            sessions[id] = nil
        case .subscribed(let id, let sub):
            sessions[id]?.subscriptions.removeAll { $0.key == sub.key }
            sessions[id]?.subscriptions.append(sub)
        case .unsubscribed(let id, let key):
            sessions[id]?.subscriptions.removeAll { $0.key == key }
        case .queued(let id, let delivery):
            sessions[id]?.messages.append(delivery)
        case .sent(let id, let sequence, let packet):
            update(id, sequence) { $0.packetIdentifier = packet }
        case .released(let id, let sequence):
            update(id, sequence) { $0.released = true }
        case .completed(let id, let sequence):
            sessions[id]?.messages.removeAll { $0.sequence == sequence }
        case .incomingQoS2(let id, let packet, let pending):
            sessions[id]?.incomingQoS2.removeAll { $0 == packet }
            if pending { sessions[id]?.incomingQoS2.append(packet) }
        case .retained(let topic, let message):
            retained[topic] = message
        }
    }

    private mutating func update(_ id: String, _ sequence: UInt64, _ change: (inout PersistedDelivery) -> Void) {
        guard let i = sessions[id]?.messages.firstIndex(where: { $0.sequence == sequence }) else { return }
        change(&sessions[id]!.messages[i])
    }

    /// The changes that rebuild this state from nothing (a compacted journal's contents).
    public var changes: [JournalChange] {
        var out: [JournalChange] = []
        for s in sessions.values.sorted(by: { $0.clientID < $1.clientID }) { out += s.changes }
        for (topic, m) in retained.sorted(by: { $0.key < $1.key }) { out.append(.retained(topic: topic, m)) }
        return out
    }
}

extension PersistedSession {
    /// The changes that rebuild this session from nothing (a compacted journal, a session
    /// moving to another node).
    public var changes: [JournalChange] {
        var out: [JournalChange] = [.session(clientID: clientID, principal: principal, expiryInterval: expiryInterval, disconnectedAt: disconnectedAt)]
        for sub in subscriptions { out.append(.subscribed(clientID: clientID, sub)) }
        for m in messages {
            out.append(.queued(clientID: clientID, PersistedDelivery(sequence: m.sequence, message: m.message,
                                                                      subscriptionIdentifiers: m.subscriptionIdentifiers)))
            if let p = m.packetIdentifier { out.append(.sent(clientID: clientID, sequence: m.sequence, packetIdentifier: p)) }
            if m.released { out.append(.released(clientID: clientID, sequence: m.sequence)) }
        }
        for p in incomingQoS2 { out.append(.incomingQoS2(clientID: clientID, packetIdentifier: p, pending: true)) }
        return out
    }
}

/// A journal kept in memory: durable for as long as the object lives (tests hand the same
/// journal to a second broker to play a restart; `committed` is what a crash would leave).
public final class MemoryJournal: SessionJournal {
    public private(set) var committed = JournalState()
    private var pending: [JournalChange] = []
    public private(set) var commits = 0

    public init() {}

    public func load() throws -> (sessions: [PersistedSession], retained: [BrokerMessage]) {
        (Array(committed.sessions.values), Array(committed.retained.values))
    }

    public func record(_ change: JournalChange) { pending.append(change) }

    public func commit() throws {
        for c in pending { committed.apply(c) }
        pending.removeAll()
        commits += 1
    }

    /// Forgets what was recorded but not committed: what a crash does.
    public func crash() { pending.removeAll() }
}
