/// A persistent session's state as saved: what a broker restored from its journal holds.
public struct PersistedSession: Equatable, Sendable {
    public var clientID: String
    public var principal: Principal
    public var expiryInterval: UInt32
    /// When the session's connection ended (unix seconds); nil if it was connected when saved.
    public var disconnectedAt: UInt64?
    public var subscriptions: [Subscription]
    /// Messages not yet acknowledged, in order, with the packet identifier they were sent
    /// under (if sent) and whether PUBREC came back (QoS 2, then PUBREL is what is resent).
    public var messages: [PersistedDelivery]
    /// QoS 2 packet identifiers received whose PUBREL has not come yet.
    public var incomingQoS2: [UInt16]

    public init(clientID: String, principal: Principal, expiryInterval: UInt32, disconnectedAt: UInt64? = nil,
                subscriptions: [Subscription] = [], messages: [PersistedDelivery] = [], incomingQoS2: [UInt16] = []) {
        self.clientID = clientID
        self.principal = principal
        self.expiryInterval = expiryInterval
        self.disconnectedAt = disconnectedAt
        self.subscriptions = subscriptions
        self.messages = messages
        self.incomingQoS2 = incomingQoS2
    }
}

/// A message on its way to one session, as the session holds it and the journal saves it: its
/// sequence (the journal's key), the message at the QoS it is delivered at, the identifiers of
/// the subscriptions it matched, and once sent its packet identifier and whether PUBREC came.
public struct PersistedDelivery: Equatable, Sendable {
    public var sequence: UInt64
    public var message: BrokerMessage
    public var subscriptionIdentifiers: [Int]
    public var packetIdentifier: UInt16?
    public var released: Bool

    public init(sequence: UInt64, message: BrokerMessage, subscriptionIdentifiers: [Int] = [], packetIdentifier: UInt16? = nil,
                released: Bool = false) {
        self.sequence = sequence
        self.message = message
        self.subscriptionIdentifiers = subscriptionIdentifiers
        self.packetIdentifier = packetIdentifier
        self.released = released
    }
}

/// One change to the broker's durable state.
public enum JournalChange: Equatable, Sendable {
    /// A persistent session began or its expiry or principal changed; `disconnectedAt` set when it went offline.
    case session(clientID: String, principal: Principal, expiryInterval: UInt32, disconnectedAt: UInt64?)
    case sessionRemoved(clientID: String)
    case subscribed(clientID: String, Subscription)
    case unsubscribed(clientID: String, key: String)
    case queued(clientID: String, PersistedDelivery)
    case sent(clientID: String, sequence: UInt64, packetIdentifier: UInt16)
    case released(clientID: String, sequence: UInt64)
    case completed(clientID: String, sequence: UInt64)
    case incomingQoS2(clientID: String, packetIdentifier: UInt16, pending: Bool)
    /// A retained message set (`message` non-nil) or cleared.
    case retained(topic: String, BrokerMessage?)
}

/// The broker's durable state: persistent sessions and retained messages. The broker records
/// changes as they happen and calls `commit` before it acknowledges what they carry, so a
/// PUBACK is never sent for a message a crash could lose.
public protocol SessionJournal: AnyObject {
    /// Everything saved, for a broker starting up.
    func load() throws -> (sessions: [PersistedSession], retained: [BrokerMessage])
    func record(_ change: JournalChange)
    /// Makes every recorded change durable (survives the process being killed).
    func commit() throws
}

/// A journal that keeps nothing: sessions last as long as the process.
public final class NoJournal: SessionJournal {
    public init() {}
    public func load() throws -> (sessions: [PersistedSession], retained: [BrokerMessage]) { ([], []) }
    public func record(_ change: JournalChange) {}
    public func commit() throws {}
}
