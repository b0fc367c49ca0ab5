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
    public let messageTypes: Set<UInt8> = [MessageType.mqttInterest, MessageType.mqttPublish]
    private let host: BrokerHost
    private var sender: PeerSender?
    private var remote = TopicFilterIndex()
    private var announceScheduled = false
    /// Relayed publications sent and received (status, tests).
    public private(set) var relayed = 0
    public private(set) var received = 0

    init(host: BrokerHost) {
        self.host = host
        host.loop.execute {
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
                    self.received += 1
                    self.host.broker.deliver(message)
                    self.host.finishSoon()
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
            if sender.send(to: address, type: MessageType.mqttPublish, payload: w.bytes) { relayed += 1 }
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
