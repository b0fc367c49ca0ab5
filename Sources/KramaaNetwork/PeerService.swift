import KramaaPrimitives

/// Sends on the peer network: what a ``PeerService`` is given to reach other nodes.
public protocol PeerSender: AnyObject, Sendable {
    @discardableResult func send(to peer: Address, type: UInt8, payload: [UInt8]) -> Bool
    @discardableResult func broadcast(type: UInt8, payload: [UInt8], except: Address?) -> Int
    var connectedPeerAddresses: [Address] { get }
}

extension PeerNetwork: PeerSender {
    public var connectedPeerAddresses: [Address] { connectedPeers.map(\.address) }
}

/// A service that shares the validators' peer connections (TLS, node keys) with consensus:
/// the MQTT federation relays publications and subscriptions this way. It names the message
/// types it uses; the owner of the network hands it those messages and peer arrivals, on the
/// owner's thread (the service hops to its own).
public protocol PeerService: AnyObject, Sendable {
    var messageTypes: Set<UInt8> { get }
    /// The network is up: where to send from now on.
    func attach(_ sender: PeerSender)
    func peerConnected(_ peer: Address)
    func peerDisconnected(_ peer: Address)
    func received(type: UInt8, payload: [UInt8], from peer: Address)
}

extension MessageType {
    /// MQTT federation (docs/MESSAGING.md): a node's subscription filters, a relayed
    /// publication, and a persistent session moving to the node its client reconnected to.
    public static let mqttInterest: UInt8 = 0x10
    public static let mqttPublish: UInt8 = 0x11
    public static let mqttSessionRequest: UInt8 = 0x12
    public static let mqttSessionTransfer: UInt8 = 0x13
}
