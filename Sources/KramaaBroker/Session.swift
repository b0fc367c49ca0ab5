import KramaaMQTT

/// A client's session (§4.1): its subscriptions and the QoS 1/2 messages on their way to it,
/// which outlive a connection for as long as its expiry interval says.
final class Session {
    let clientID: String
    var principal: Principal
    /// Seconds the session outlives its connection; 0 ends it with the connection, `UInt32.max` never.
    var expiryInterval: UInt32
    var subscriptions: [String: Subscription] = [:]
    /// Messages waiting for a free send slot (the client's Receive Maximum) or for the client.
    var queue: [Delivery] = []
    var queueStart = 0
    /// Sent, waiting for PUBACK / PUBREC / PUBCOMP, by packet identifier.
    var inflight: [UInt16: Delivery] = [:]
    var incomingQoS2: Set<UInt16> = []
    var nextSequence: UInt64 = 1
    var lastPacketIdentifier: UInt16 = 0
    var connection: Connection?
    /// Unix seconds when the connection ended, for the expiry.
    var disconnectedAt: UInt64?
    /// A will waiting out its delay after the connection ended.
    var pendingWill: (message: BrokerMessage, due: Duration)?

    init(clientID: String, principal: Principal, expiryInterval: UInt32) {
        self.clientID = clientID
        self.principal = principal
        self.expiryInterval = expiryInterval
    }

    var persistent: Bool { expiryInterval > 0 }
    var queuedCount: Int { queue.count - queueStart }

    /// A message to this session (the form the journal saves, so nothing is converted).
    typealias Delivery = PersistedDelivery

    func enqueue(_ delivery: Delivery) { queue.append(delivery) }

    func dequeue() -> Delivery? {
        guard queueStart < queue.count else { return nil }
        let d = queue[queueStart]
        queueStart += 1
        if queueStart > 64 && queueStart * 2 > queue.count {
            queue.removeFirst(queueStart)
            queueStart = 0
        }
        return d
    }

    /// Puts messages back at the head of the queue (in-flight ones of a lost connection, to be
    /// resent first on the next one, in their original order).
    func requeueFirst(_ deliveries: [Delivery]) {
        let rest = Array(queue[queueStart...])
        queue = deliveries + rest
        queueStart = 0
    }

    /// A packet identifier not in flight (§2.2.1: non-zero, unique among unacknowledged packets).
    func nextPacketIdentifier() -> UInt16? {
        guard inflight.count < 65_535 else { return nil }
        repeat {
            lastPacketIdentifier = lastPacketIdentifier == 65_535 ? 1 : lastPacketIdentifier + 1
        } while inflight[lastPacketIdentifier] != nil
        return lastPacketIdentifier
    }

    var persisted: PersistedSession {
        let sent = inflight.values.sorted { $0.sequence < $1.sequence }
        let all = sent + queue[queueStart...]
        return PersistedSession(
            clientID: clientID, principal: principal, expiryInterval: expiryInterval, disconnectedAt: disconnectedAt,
            subscriptions: Array(subscriptions.values),
            messages: Array(all),
            incomingQoS2: Array(incomingQoS2))
    }
}

/// One client connection as the broker sees it.
final class Connection {
    enum State { case awaitingConnect, authenticating(MQTTConnect, method: String, challenge: [UInt8]), awaitingSession(MQTTConnect), connected, closed }

    let id: UInt64
    let sink: MQTTConnectionSink
    let remote: String
    var state: State = .awaitingConnect
    var version: MQTTVersion = .v5
    var session: Session?
    var principal = Principal(name: "unauthenticated")
    /// The keep-alive the broker holds the client to (1.5 times it, §3.1.2.10); nil: none.
    var keepAlive: Duration?
    var lastActivity: Duration
    let openedAt: Duration
    /// Topic aliases the client set (client to broker).
    var aliases: [UInt16: String] = [:]
    /// The client's Receive Maximum: QoS 1/2 messages the broker may have unacknowledged at once.
    var clientReceiveMaximum = 65_535
    var clientMaximumPacketSize: Int?
    /// Topic aliases the client lets the broker set (its Topic Alias Maximum), and those set.
    var clientTopicAliasMaximum = 0
    var outboundAliases: [String: UInt16] = [:]
    /// QoS 0 messages dropped because the client stopped reading.
    var droppedQoS0 = 0
    /// QoS 2 PUBLISHes received whose PUBREL has not come (against the broker's Receive Maximum).
    var inboundUnreleased = 0
    var will: MQTTWill?
    var willDelay: UInt32 = 0
    var requestProblemInformation = true
    /// The enhanced authentication method the client used (said again in CONNACK).
    var authenticationMethod: String?
    /// Packets that came after CONNECT while its session was being fetched from another node.
    var pendingFrames: [MQTTFrame] = []
    /// Set for connections inside the node: the principal, no authentication asked.
    var preauthenticated: Principal?
    /// The data of the last AUTH challenge sent in a re-authentication.
    var reauthenticationChallenge: [UInt8] = []
    /// Packets held until the journal commits (an acknowledgement and what follows it).
    var held: [MQTTFrame]?

    init(id: UInt64, sink: MQTTConnectionSink, remote: String, now: Duration) {
        self.id = id
        self.sink = sink
        self.remote = remote
        self.lastActivity = now
        self.openedAt = now
    }

    var isConnected: Bool { if case .connected = state { true } else { false } }
}
