import KramaaMQTT
import KramaaPrimitives

/// An MQTT 5.0 / 3.1.1 broker as a state machine (the pure core of the server): the edge
/// hands it each connection's decoded frames and closes, and it answers through each
/// connection's sink. Time comes from the injected clock; durability from the journal, which
/// the edge commits (`commit()`) after each batch of reads, releasing acknowledgements held
/// until then.
///
/// Not thread-safe: the edge confines a broker to one thread (as mosquitto's single loop).
public final class Broker {
    public let configuration: BrokerConfiguration
    let clock: TimeSource
    let authenticator: BrokerAuthenticator
    let authorizer: BrokerAuthorizer
    let inspector: BrokerPayloadInspector?
    let journal: SessionJournal
    public let log: BrokerLog?

    var connections: [UInt64: Connection] = [:]
    var sessions: [String: Session] = [:]
    var tree = SubscriptionTree()
    var retained: [String: BrokerMessage] = [:]
    /// Round-robin position of each shared subscription group (`group/filter`).
    var shareCursor: [String: Int] = [:]
    var nextConnectionID: UInt64 = 1
    var nextAssignedIdentifier: UInt64 = 1
    /// Connections holding packets until the journal commits.
    var holding: [Connection] = []
    var journalDirty = false
    /// Called when a client has a message: acknowledged (QoS 1 PUBACK, QoS 2 PUBCOMP) or sent
    /// (QoS 0), with the receiving session's principal (proof of delivery).
    public var onDelivered: ((BrokerMessage, Principal) -> Void)?
    /// Finds sessions on other nodes (the federation); nil: sessions are this broker's alone.
    public var sessionLocator: SessionLocator?
    /// Where messages published here (by clients, or as their wills) go besides local
    /// subscribers: the federation; nil: nowhere.
    public var onPublish: ((BrokerMessage) -> Void)?
    /// Called when the set of subscribed filters changes (a filter's first subscriber or its
    /// last one gone): what the federation tells other nodes.
    public var onInterestChanged: (() -> Void)?
    /// Subscriptions per filter (shared ones by their filter), for the interest set.
    var filterCounts: [String: Int] = [:]

    public init(configuration: BrokerConfiguration = BrokerConfiguration(), clock: TimeSource,
                authenticator: BrokerAuthenticator, authorizer: BrokerAuthorizer = AllowAll(),
                inspector: BrokerPayloadInspector? = nil, journal: SessionJournal = NoJournal(), log: BrokerLog? = nil) throws {
        self.configuration = configuration
        self.clock = clock
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.inspector = inspector
        self.journal = journal
        self.log = log
        try restore()
    }

    /// Counts for status and metrics.
    public var connectionCount: Int { connections.count }
    public var sessionCount: Int { sessions.count }
    public var retainedCount: Int { retained.count }
    public var subscriptionCount: Int { tree.count }
    /// The filters this broker's sessions subscribe to (mount points applied).
    public var interest: Set<String> { Set(filterCounts.keys) }

    /// Files a subscription in the tree and the interest set.
    func index(_ sub: Subscription, of clientID: String) {
        guard tree.insert(filter: sub.filter, .init(clientID: clientID, key: sub.key)) else { return }
        filterCounts[sub.filter, default: 0] += 1
        if filterCounts[sub.filter] == 1 { onInterestChanged?() }
    }

    func unindex(_ sub: Subscription, of clientID: String) {
        guard tree.remove(filter: sub.filter, .init(clientID: clientID, key: sub.key)) else { return }
        filterCounts[sub.filter, default: 1] -= 1
        if filterCounts[sub.filter] == 0 {
            filterCounts[sub.filter] = nil
            onInterestChanged?()
        }
    }

    /// A message published here (a client's, or a will): delivered here as one from elsewhere
    /// is, and handed to the federation. Returns the local sessions reached.
    @discardableResult
    func publishLocally(_ message: BrokerMessage) -> Int {
        let reached = deliver(message)
        onPublish?(message)
        return reached
    }

    /// Whether a commit would make something durable or release held packets.
    public var needsCommit: Bool { journalDirty || !holding.isEmpty }

    // MARK: - Connections

    /// A new network connection; the broker waits for its CONNECT.
    public func open(_ sink: MQTTConnectionSink, remote: String) -> UInt64 {
        let id = nextConnectionID
        nextConnectionID += 1
        connections[id] = Connection(id: id, sink: sink, remote: remote, now: clock.uptime)
        return id
    }

    /// The protocol version of a connection that has been accepted (nil before its CONNECT is
    /// accepted, or once it is gone): how the edge reads its PUBLISH packets ahead of the broker.
    public func protocolVersion(of id: UInt64) -> MQTTVersion? {
        guard let c = connections[id], case .connected = c.state else { return nil }
        return c.version
    }

    /// A connection inside the node (the bridge, the node's own services) whose principal is
    /// already known: its CONNECT is accepted without asking the authenticator.
    public func openAuthenticated(_ sink: MQTTConnectionSink, remote: String, principal: Principal) -> UInt64 {
        let id = open(sink, remote: remote)
        connections[id]!.preauthenticated = principal
        return id
    }

    /// The network connection ended (closed by the client, reset, or after `close`).
    public func connectionLost(_ id: UInt64) {
        guard let c = connections[id] else { return }
        end(c, publishWill: true)
    }

    /// The edge could not decode what the client sent: the specification's answer is a
    /// DISCONNECT with the error's reason code (MQTT 5, after CONNECT) and closing.
    public func malformed(_ id: UInt64, _ error: MQTTDecodingError) {
        guard let c = connections[id] else { return }
        log?.warning("mqtt \(c.remote) \(c.principal): \(error)")
        if case .awaitingConnect = c.state, case .unsupportedProtocolVersion = error {
            c.sink.send(MQTTConnAck(reasonCode: 0x84).frame(version: .v311))
        } else if case .awaitingConnect = c.state {
            // Before CONNECT the version is unknown: close without a packet (§4.13.1).
        } else {
            disconnect(c, reasonCode: error.reasonCode, reason: error.description)
            return
        }
        end(c, publishWill: true)
    }

    /// One packet from a connection.
    public func receive(_ frame: MQTTFrame, on id: UInt64) {
        guard let c = connections[id] else { return }
        c.lastActivity = clock.uptime
        do {
            switch c.state {
            case .awaitingConnect:
                guard frame.type == .connect else { throw MQTTDecodingError.protocolError("\(frame.type) before CONNECT") }
                try connect(c, MQTTConnect(body: frame.body))
            case .authenticating(let connect, let method, let challenge):
                guard frame.type == .auth else { throw MQTTDecodingError.protocolError("\(frame.type) during authentication") }
                let auth = try MQTTAuth(body: frame.body)
                guard auth.reasonCode == 0x18, auth.method == method else {
                    throw MQTTDecodingError.protocolError("AUTH without continue or with another method")
                }
                authenticated(c, connect, authenticator.continueAuthentication(connect, method: method, data: auth.data, challenge: challenge))
            case .awaitingSession:
                guard c.pendingFrames.count < 64 else { throw MQTTDecodingError.protocolError("too many packets before CONNACK") }
                c.pendingFrames.append(frame)
            case .connected:
                try dispatch(frame, c)
            case .closed:
                return
            }
        } catch let error as MQTTDecodingError {
            malformed(id, error)
        } catch {
            malformed(id, .malformed("\(error)"))
        }
    }

    private func dispatch(_ frame: MQTTFrame, _ c: Connection) throws {
        switch frame.type {
        case .publish: try publish(MQTTPublish(frame: frame, version: c.version), from: c)
        case .puback, .pubrec, .pubrel, .pubcomp: try acknowledgement(MQTTAck(frame: frame, version: c.version), from: c)
        case .subscribe: try subscribe(MQTTSubscribe(body: frame.body, version: c.version), from: c)
        case .unsubscribe: try unsubscribe(MQTTUnsubscribe(body: frame.body, version: c.version), from: c)
        case .pingreq:
            guard frame.body.isEmpty else { throw MQTTDecodingError.malformed("PINGREQ with a body") }
            send(MQTTFrame(type: .pingresp), to: c)
        case .disconnect: try clientDisconnected(MQTTDisconnect(body: frame.body, version: c.version), c)
        case .auth:
            guard c.version == .v5 else { throw MQTTDecodingError.malformed("AUTH in MQTT 3.1.1") }
            try reauthenticate(MQTTAuth(body: frame.body), c)
        case .connect: throw MQTTDecodingError.protocolError("a second CONNECT")
        default: throw MQTTDecodingError.protocolError("\(frame.type) from a client")
        }
    }

    // MARK: - Sending

    /// Sends (or holds until the next commit, behind an acknowledgement that is held).
    func send(_ frame: MQTTFrame, to c: Connection) {
        guard c.isConnected || frame.type == .connack || frame.type == .auth || frame.type == .disconnect else { return }
        if c.held != nil { c.held!.append(frame) } else { c.sink.send(frame) }
    }

    /// Sends `frame` only once what the journal recorded is durable.
    func sendAfterCommit(_ frame: MQTTFrame, to c: Connection) {
        guard journalDirty else { return send(frame, to: c) }
        if c.held == nil {
            c.held = []
            holding.append(c)
        }
        c.held!.append(frame)
    }

    /// Makes recorded changes durable, then sends what was held for them.
    public func commit() {
        if journalDirty {
            do {
                try journal.commit()
                journalDirty = false
            } catch {
                // Nothing held is released: the client will resend what it did not see acknowledged.
                log?.warning("mqtt journal commit failed, acknowledgements withheld: \(error)")
                for c in holding where c.isConnected { disconnect(c, reasonCode: 0x80, reason: "the broker could not save its state") }
                holding.removeAll()
                return
            }
        }
        let released = holding
        holding.removeAll()
        for c in released {
            let frames = c.held ?? []
            c.held = nil
            if case .closed = c.state { continue }  // gone: the client resends what it did not see acknowledged
            for f in frames { c.sink.send(f) }
        }
    }

    func record(_ change: JournalChange) {
        journal.record(change)
        journalDirty = true
    }

    /// Sends DISCONNECT with a reason (MQTT 5 only) and closes the connection; the will is published.
    func disconnect(_ c: Connection, reasonCode: UInt8, reason: String) {
        if c.isConnected && c.version == .v5 {
            var properties = MQTTProperties()
            if c.requestProblemInformation { properties.append(.reasonString, .string(reason)) }
            flushHeld(c)
            c.sink.send(MQTTDisconnect(reasonCode: reasonCode, properties: properties).frame(version: .v5))
        }
        end(c, publishWill: true)
    }

    /// Sends what a connection holds before it goes (it would otherwise be dropped).
    private func flushHeld(_ c: Connection) {
        guard let frames = c.held, !journalDirty else { return }
        c.held = nil
        for f in frames { c.sink.send(f) }
    }
}
