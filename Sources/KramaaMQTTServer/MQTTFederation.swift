import KramaaBroker
import KramaaMQTT
import KramaaNetwork
import KramaaPrimitives
import NIOCore

/// Federation of the nodes' MQTT servers over the validators' peer network (TLS, node keys):
/// each node tells its peers which topic filters its clients subscribe to (the whole set,
/// again whenever it changes and to each peer that connects), and relays a publication made
/// here to each peer with a matching filter, once per node. A relayed publication is delivered
/// to that node's subscribers and never relayed again, so there are no loops (the validators
/// are fully meshed). Retained publications go to every peer, so a later subscriber anywhere
/// sees them.
///
/// All state lives on the broker's loop; peer events hop there.
public final class MQTTFederation: PeerService, @unchecked Sendable {
    public let messageTypes: Set<UInt8> = [MessageType.mqttInterest, MessageType.mqttPublish,
                                           MessageType.mqttSessionRequest, MessageType.mqttSessionTransfer]
    let host: BrokerHost
    private(set) var sender: PeerSender?
    private var locator: FederatedSessionLocator?
    private var remote = TopicFilterIndex()
    private var announceScheduled = false

    init(host: BrokerHost) {
        self.host = host
        let locator = FederatedSessionLocator(federation: self)
        self.locator = locator
        host.loop.execute {
            host.broker.sessionLocator = locator
            host.broker.onPublish = { [unowned self] in self.relay($0) }
            host.broker.onInterestChanged = { [unowned self] in self.scheduleAnnouncement() }
        }
    }

    public func attach(_ sender: PeerSender) {
        host.loop.execute { self.sender = sender }
    }

    public func peerConnected(_ peer: Address) {
        host.loop.execute { self.sender?.send(to: peer, type: MessageType.mqttInterest, payload: self.interestPayload()) }
    }

    public func peerDisconnected(_ peer: Address) {
        host.loop.execute { self.remote.set(peer.lowercased, filters: []) }
    }

    public func received(type: UInt8, payload: [UInt8], from peer: Address) {
        host.loop.execute {
            do {
                var r = MQTTReader(payload)
                switch type {
                case MessageType.mqttInterest:
                    var filters = Set<String>()
                    for _ in 0..<(try r.variableInteger()) { filters.insert(try r.string()) }
                    self.remote.set(peer.lowercased, filters: filters)
                case MessageType.mqttPublish:
                    let message = try JournalCoding.message(&r)
                    self.host.broker.deliver(message)
                    self.host.finishSoon()
                case MessageType.mqttSessionRequest:
                    let id = try JournalCoding.uint64(&r), clientID = try r.string()
                    let principal = Principal(name: try r.string(), mountPoint: try r.string(), group: try r.string())
                    let session = self.host.broker.surrender(clientID: clientID, principal: principal)
                    self.host.finishSoon()
                    var w = MQTTWriter()
                    JournalCoding.uint64(&w, id)
                    for change in session?.changes ?? [] { JournalCoding.encode(change, into: &w) }
                    self.sender?.send(to: peer, type: MessageType.mqttSessionTransfer, payload: w.bytes)
                case MessageType.mqttSessionTransfer:
                    let id = try JournalCoding.uint64(&r)
                    var state = JournalState()
                    while !r.isAtEnd { state.apply(try JournalCoding.decode(&r)) }
                    self.locator?.answered(id, by: peer.lowercased, state.sessions.values.first)
                default: break
                }
            } catch {
                self.host.broker.log?.warning("mqtt federation: a message from \(peer) cannot be read: \(error)")
            }
        }
    }

    /// A publication made here: to every peer node with a matching filter (every peer when retained).
    private func relay(_ message: BrokerMessage) {
        guard let sender else { return }
        let peers = message.retain ? Set(sender.connectedPeerAddresses.map(\.lowercased)) : remote.owners(matching: message.topic)
        guard !peers.isEmpty else { return }
        var w = MQTTWriter()
        var m = message
        m.origin = nil  // a client identifier means nothing on another node
        JournalCoding.messageTo(&w, m)
        for peer in peers {
            guard let address = try? Address(hex: peer) else { continue }
            sender.send(to: address, type: MessageType.mqttPublish, payload: w.bytes)
        }
    }

    private func scheduleAnnouncement() {
        guard !announceScheduled else { return }
        announceScheduled = true
        // Changes within 50 ms go out as one announcement.
        host.loop.scheduleTask(in: .milliseconds(50)) {
            self.announceScheduled = false
            _ = self.sender?.broadcast(type: MessageType.mqttInterest, payload: self.interestPayload(), except: nil)
        }
    }

    private func interestPayload() -> [UInt8] {
        let filters = host.broker.interest.sorted()
        var w = MQTTWriter()
        w.variableInteger(filters.count)
        for f in filters { w.string(f) }
        return w.bytes
    }
}

extension MQTTServer {
    /// The federation of this server with other nodes' (attach it to the validator's peer network).
    public func makeFederation() -> MQTTFederation { MQTTFederation(host: host) }
}

// MARK: - Sessions moving between nodes

/// Asks the other nodes for a session a client resumes here; the node holding it gives it up
/// (`Broker.surrender`) and sends it whole. The first session found is installed; when every
/// peer has answered without one, or after a second, the client gets a new session.
final class FederatedSessionLocator: SessionLocator {
    private unowned let federation: MQTTFederation
    private var pending: [UInt64: (connection: UInt64, waitingFor: Set<String>)] = [:]
    private var nextRequest: UInt64 = 1
    let timeout: TimeAmount = .seconds(1)

    init(federation: MQTTFederation) { self.federation = federation }

    func locate(clientID: String, principal: Principal, for connection: UInt64) {
        let peers = Set(federation.sender?.connectedPeerAddresses.map(\.lowercased) ?? [])
        guard !peers.isEmpty else { return federation.host.broker.sessionArrived(for: connection, nil) }
        let id = nextRequest
        nextRequest += 1
        pending[id] = (connection, peers)
        var w = MQTTWriter()
        JournalCoding.uint64(&w, id)
        w.string(clientID)
        w.string(principal.name); w.string(principal.mountPoint); w.string(principal.group)
        _ = federation.sender?.broadcast(type: MessageType.mqttSessionRequest, payload: w.bytes, except: nil)
        federation.host.loop.scheduleTask(in: timeout) { self.finish(id, with: nil) }
    }

    /// A peer's answer to request `id`: the session, or none.
    func answered(_ id: UInt64, by peer: String, _ session: PersistedSession?) {
        guard var request = pending[id] else { return }
        if let session { return finish(id, with: session) }
        request.waitingFor.remove(peer)
        pending[id] = request
        if request.waitingFor.isEmpty { finish(id, with: nil) }
    }

    private func finish(_ id: UInt64, with session: PersistedSession?) {
        guard let request = pending.removeValue(forKey: id) else { return }
        federation.host.broker.sessionArrived(for: request.connection, session)
        federation.host.finishSoon()
    }
}
