import KramaaPrimitives

/// A peer to dial: host, port and (optionally) the node address it must prove.
public struct Bootnode: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// When set, a node presenting another identity is refused.
    public var address: Address?

    public init(host: String, port: Int, address: Address? = nil) {
        self.host = host
        self.port = port
        self.address = address
    }

    public var description: String { "\(address.map { "\($0)@" } ?? "")\(host):\(port)" }
}

/// A connected peer.
public struct PeerInfo: Sendable, Hashable, CustomStringConvertible {
    /// Its node id, proven in the TLS handshake.
    public let address: Address
    /// Where the connection comes from or goes to (`ip:port`).
    public let remoteAddress: String
    /// The port it says it listens on (from its handshake message).
    public let listenPort: Int
    /// Whether this node dialed it.
    public let outbound: Bool

    public var description: String { "\(address)@\(remoteAddress)\(outbound ? " (out)" : " (in)")" }
}

/// Why a connection ended or never became a peer.
public enum DisconnectReason: Sendable, Equatable, CustomStringConvertible {
    /// The connection closed (by the peer or a network error).
    case closed
    /// This node is stopping.
    case stopped
    /// The peer said goodbye with this code (see ``DisconnectCode``).
    case remoteRequested(UInt8)
    /// A second connection to an already connected peer (the tie-break kept the other one).
    case duplicate
    /// Nothing received for ``PeerNetwork/Configuration/pingTimeout``.
    case keepaliveTimeout
    /// TLS and the handshake message did not complete within ``PeerNetwork/Configuration/handshakeTimeout``.
    case handshakeTimeout
    /// Its outbound queue passed ``PeerNetwork/Configuration/maxPendingBytes`` or
    /// ``PeerNetwork/Configuration/maxPendingMessages``: it does not read fast enough.
    case slowPeer
    /// A bad frame, an unknown message type, an oversized frame, a message out of order. The peer is banned.
    case protocolViolation(String)
    /// The handshake message was malformed or named another chain or protocol version. The peer is banned.
    case handshakeFailed(String)
    /// This node refused the peer's certificate.
    case identityRejected(IdentityError)
    /// TLS failed (the peer refused us, it does not speak TLS 1.3, …).
    case tlsFailed(String)

    /// Whether the peer is banned for it ("dropped, not followed").
    public var isMisbehaviour: Bool {
        switch self {
        case .protocolViolation, .handshakeFailed: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .closed: "connection closed"
        case .stopped: "node stopping"
        case .remoteRequested(let code): "peer disconnected (code \(code))"
        case .duplicate: "duplicate connection"
        case .keepaliveTimeout: "keepalive timeout"
        case .handshakeTimeout: "handshake timeout"
        case .slowPeer: "outbound queue full (slow peer)"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .handshakeFailed(let why): "handshake failed: \(why)"
        case .identityRejected(let why): "identity rejected: \(why)"
        case .tlsFailed(let why): "TLS failed: \(why)"
        }
    }
}

/// Codes of the network's disconnect message (type 0xF3, one byte of payload).
public enum DisconnectCode {
    public static let handshakeFailed: UInt8 = 1
    public static let protocolViolation: UInt8 = 2
    public static let duplicate: UInt8 = 3
    public static let stopping: UInt8 = 4
}

/// What the network reports.
public enum PeerEvent: Sendable, Equatable {
    /// A peer completed TLS and the handshake message (once per peer while connected, whatever
    /// the number of connections it took).
    case connected(PeerInfo)
    /// A connected peer's connection ended.
    case disconnected(Address, DisconnectReason)
    /// A connection that never became a peer (TLS refused, handshake refused, duplicate, …);
    /// `peer` is nil when the peer's identity was not learnt.
    case connectionFailed(peer: Address?, remote: String, DisconnectReason)
    /// A message of one of the accepted types from a connected peer.
    case message(from: Address, type: UInt8, payload: [UInt8])
}

/// Receives the network's events. Called on the network's event loop threads, possibly on
/// several at once (one connection's events are in order): it must be thread-safe and must not
/// block; hand long work to a task or a queue.
public protocol PeerNetworkHandler: Sendable {
    func network(_ network: PeerNetwork, didReceive event: PeerEvent)
}

/// A ``PeerNetworkHandler`` from a closure.
public struct PeerEventHandler: PeerNetworkHandler {
    let body: @Sendable (PeerNetwork, PeerEvent) -> Void
    public init(_ body: @escaping @Sendable (PeerNetwork, PeerEvent) -> Void) { self.body = body }
    public func network(_ network: PeerNetwork, didReceive event: PeerEvent) { body(network, event) }
}

/// Why the network could not start.
public enum PeerNetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case bindFailed(host: String, port: Int, reason: String)
    case tls(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "invalid network configuration: \(why)"
        case .bindFailed(let host, let port, let why): "cannot listen on \(host):\(port): \(why)"
        case .tls(let why): "TLS setup failed: \(why)"
        }
    }
}
