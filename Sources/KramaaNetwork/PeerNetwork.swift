import Foundation
import KramaaPrimitives
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The validators' peer network: authenticated TLS 1.3 connections between nodes identified by
/// their secp256k1 addresses, carrying typed opaque messages. It knows nothing of blocks or votes.
///
/// ```swift
/// let network = try await PeerNetwork.start(configuration: .init(chainId: 4242, listenPort: 30303,
///                                                               bootnodes: [Bootnode(host: "10.0.0.2", port: 30303)]),
///                                           nodeKey: key) { network, event in … }
/// network.broadcast(type: MessageType.vote, payload: bytes)
/// network.send(to: peer, type: MessageType.blockRequest, payload: request)
/// await network.stop()
/// ```
///
/// Connections: every node listens and dials its bootnodes, redialling with capped exponential
/// back-off and jitter. There is at most one connection per peer address: when two nodes dial
/// each other, both keep the connection dialed by the node with the lower address. A peer that
/// breaks the protocol (bad or oversized frame, unknown message type, failing handshake) is
/// dropped and banned for ``Configuration/banDuration``: not redialled, and refused if it dials.
///
/// Outbound back-pressure: a peer whose unsent data passes ``Configuration/maxPendingBytes`` or
/// ``Configuration/maxPendingMessages`` is disconnected (``DisconnectReason/slowPeer``) rather than
/// having messages dropped from the middle of its stream; it reconnects and catches up.
public final class PeerNetwork: Sendable {
    public struct Configuration: Sendable {
        /// The chain id both sides of a connection must share.
        public var chainId: UInt64
        /// Address to listen on.
        public var listenHost: String
        /// Port to listen on; 0 picks a free one (read it back from ``PeerNetwork/port``).
        public var listenPort: Int
        /// Peers to dial and keep connected.
        public var bootnodes: [Bootnode]
        /// The node addresses allowed to connect (validators and configured full nodes); nil
        /// allows any node that proves an identity.
        public var allowedPeers: Set<Address>?
        /// Asked at each handshake besides `allowedPeers` (an on-chain node list that changes).
        public var admits: (@Sendable (Address) -> Bool)?
        /// Application message types accepted from peers; a frame of another type drops the peer.
        public var messageTypes: Set<UInt8> = MessageType.chain
        /// Largest frame (type byte + payload); a larger one drops the peer.
        public var maxFrameBytes: Int = 16 * 1024 * 1024
        /// Protocol version sent and required in the handshake message.
        public var protocolVersion: UInt16 = PeerNetwork.protocolVersion
        /// TCP connect + TLS + handshake message must complete within this.
        public var handshakeTimeout: Duration = .seconds(10)
        /// A ping is sent this often on an idle-or-not connection.
        public var pingInterval: Duration = .seconds(5)
        /// A peer from which nothing (not even a pong) arrives for this long is dropped.
        public var pingTimeout: Duration = .seconds(20)
        /// Redialling a bootnode after a failure or a disconnection.
        public var reconnect = Backoff()
        /// How long a misbehaving peer is neither dialled nor accepted.
        public var banDuration: Duration = .seconds(300)
        /// Per-peer bound on data handed to the connection but not yet written to the socket.
        public var maxPendingBytes: Int = 64 * 1024 * 1024
        /// Per-peer bound on messages handed to the connection but not yet written to the socket.
        public var maxPendingMessages: Int = 16384
        /// Lifetime of the node's TLS certificate (made fresh at each start).
        public var certificateLifetime: Duration = .seconds(365 * 24 * 3600)
        /// Event loop threads.
        public var threads: Int = 2

        public init(chainId: UInt64, listenHost: String = "127.0.0.1", listenPort: Int = 30303,
                    bootnodes: [Bootnode] = [], allowedPeers: Set<Address>? = nil) {
            self.chainId = chainId
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.bootnodes = bootnodes
            self.allowedPeers = allowedPeers
        }

        func validate() throws(PeerNetworkError) {
            guard (0...65535).contains(listenPort) else { throw .invalidConfiguration("listenPort \(listenPort) is not 0...65535") }
            for node in bootnodes where !(1...65535).contains(node.port) {
                throw .invalidConfiguration("bootnode \(node) has no valid port")
            }
            guard messageTypes.allSatisfy({ MessageType.applicationRange.contains($0) }) else {
                throw .invalidConfiguration("message types must be in 0x01...0xEF")
            }
            guard maxFrameBytes >= 64, maxFrameBytes <= Int(UInt32.max) else {
                throw .invalidConfiguration("maxFrameBytes must be 64...2^32-1")
            }
            guard handshakeTimeout > .zero, pingInterval > .zero, pingTimeout > pingInterval, banDuration >= .zero else {
                throw .invalidConfiguration("timeouts must be positive and pingTimeout > pingInterval")
            }
            guard maxPendingBytes > 0, maxPendingMessages > 0, threads > 0 else {
                throw .invalidConfiguration("limits must be positive")
            }
        }
    }

    /// The protocol version this build speaks.
    public static let protocolVersion: UInt16 = 1

    public let configuration: Configuration
    /// This node's identity.
    public let identity: NodeIdentity
    /// This node's id.
    public var address: Address { identity.address }
    /// The port it listens on.
    public let port: Int

    let group: MultiThreadedEventLoopGroup
    let handler: any PeerNetworkHandler
    let logger: Logger
    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext
    let state = NIOLockedValueBox(State())
    private let serverChannel = NIOLockedValueBox<Channel?>(nil)
    private let dialTasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    struct State {
        /// The one connection per connected peer.
        var peers: [Address: PeerConnection] = [:]
        /// Every open channel, peer or not yet.
        var channels: [ObjectIdentifier: Channel] = [:]
        var banned: [Address: ContinuousClock.Instant] = [:]
        var waiters: [Address: [CheckedContinuation<Void, Never>]] = [:]
        /// Peers whose connection the peer closed as a duplicate: the connection replacing it
        /// is expected; until it comes (or a grace period passes) nothing is reported.
        var replacing: [Address: UInt64] = [:]
        var replacements: UInt64 = 0
        var stopping = false
    }

    private init(configuration: Configuration, identity: NodeIdentity, port: Int, group: MultiThreadedEventLoopGroup,
                 handler: any PeerNetworkHandler, logger: Logger, serverContext: NIOSSLContext, clientContext: NIOSSLContext) {
        self.configuration = configuration
        self.identity = identity
        self.port = port
        self.group = group
        self.handler = handler
        self.logger = logger
        self.serverContext = serverContext
        self.clientContext = clientContext
    }

    /// Listens, starts dialling the bootnodes and returns. `handler` receives every event from
    /// then on (see ``PeerNetworkHandler`` for its threading).
    public static func start(configuration: Configuration, nodeKey: Secp256k1.PrivateKey,
                             handler: some PeerNetworkHandler,
                             logger: Logger = Logger(label: "kramaa.network")) async throws(PeerNetworkError) -> PeerNetwork {
        try configuration.validate()
        let identity: NodeIdentity
        do { identity = try NodeIdentity(nodeKey: nodeKey, lifetime: configuration.certificateLifetime) } catch {
            throw .tls("cannot make the node certificate: \(error)")
        }
        return try await start(configuration: configuration, identity: identity, handler: handler, logger: logger)
    }

    /// ``start(configuration:nodeKey:handler:logger:)`` with a closure.
    public static func start(configuration: Configuration, nodeKey: Secp256k1.PrivateKey,
                             logger: Logger = Logger(label: "kramaa.network"),
                             handler: @escaping @Sendable (PeerNetwork, PeerEvent) -> Void) async throws(PeerNetworkError) -> PeerNetwork {
        try await start(configuration: configuration, nodeKey: nodeKey, handler: PeerEventHandler(handler), logger: logger)
    }

    static func start(configuration: Configuration, identity: NodeIdentity, handler: some PeerNetworkHandler,
                      logger: Logger) async throws(PeerNetworkError) -> PeerNetwork {
        let serverContext: NIOSSLContext
        let clientContext: NIOSSLContext
        do {
            serverContext = try NIOSSLContext(configuration: TLSSetup.configuration(identity: identity, server: true))
            clientContext = try NIOSSLContext(configuration: TLSSetup.configuration(identity: identity, server: false))
        } catch {
            throw .tls("\(error)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        // The port is known only after binding, the network is needed before: bind first with
        // a forwarding initializer.
        let box = NIOLockedValueBox<PeerNetwork?>(nil)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard let network = box.withLockedValue({ $0 }) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try network.configurePipeline(channel, outbound: false, expected: nil, established: nil)
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: configuration.listenHost, port: configuration.listenPort).get()
        } catch {
            try? await group.shutdownGracefully()
            throw .bindFailed(host: configuration.listenHost, port: configuration.listenPort, reason: "\(error)")
        }
        let network = PeerNetwork(configuration: configuration, identity: identity,
                                  port: channel.localAddress?.port ?? configuration.listenPort, group: group,
                                  handler: handler, logger: logger, serverContext: serverContext, clientContext: clientContext)
        network.serverChannel.withLockedValue { $0 = channel }
        box.withLockedValue { $0 = network }
        logger.debug("peer network listening", metadata: ["address": "\(identity.address)", "port": "\(network.port)"])
        let tasks = configuration.bootnodes.map { bootnode in
            Task { await network.keepDialling(bootnode) }
        }
        network.dialTasks.withLockedValue { $0 = tasks }
        return network
    }

    // MARK: API

    /// The peers connected now.
    public var connectedPeers: [PeerInfo] {
        state.withLockedValue { $0.peers.values.map(\.info) }.sorted { $0.address < $1.address }
    }

    /// Whether `peer` is connected now.
    public func isConnected(_ peer: Address) -> Bool {
        state.withLockedValue { $0.peers[peer] != nil }
    }

    /// Whether `peer` is banned now for misbehaviour.
    public func isBanned(_ peer: Address) -> Bool {
        state.withLockedValue { state in
            guard let until = state.banned[peer] else { return false }
            return ContinuousClock.now < until
        }
    }

    /// Sends a message to every connected peer but `except`; returns how many it was queued for.
    /// `type` must be in 0x01...0xEF; a payload too large for a frame is not sent (0).
    @discardableResult
    public func broadcast(type: UInt8, payload: [UInt8], except: Address? = nil) -> Int {
        precondition(MessageType.applicationRange.contains(type), "message type \(type) is reserved")
        guard 1 + payload.count <= configuration.maxFrameBytes else {
            logger.warning("broadcast payload too large", metadata: ["bytes": "\(payload.count)"])
            return 0
        }
        let peers = state.withLockedValue { $0.peers.values.filter { $0.info.address != except } }
        let frame = Frame(type: type, payload: payload)
        for peer in peers { peer.send(frame) }
        return peers.count
    }

    /// Sends a message to one peer; false if it is not connected or the payload is too large.
    @discardableResult
    public func send(to peer: Address, type: UInt8, payload: [UInt8]) -> Bool {
        precondition(MessageType.applicationRange.contains(type), "message type \(type) is reserved")
        guard 1 + payload.count <= configuration.maxFrameBytes else { return false }
        guard let connection = state.withLockedValue({ $0.peers[peer] }) else { return false }
        connection.send(Frame(type: type, payload: payload))
        return true
    }

    /// Dials `bootnode` too and keeps it connected like the configured ones, until ``stop()``.
    public func addBootnode(_ bootnode: Bootnode) {
        let task = Task { await keepDialling(bootnode) }
        let stopping = state.withLockedValue { $0.stopping }
        if stopping { task.cancel() }
        dialTasks.withLockedValue { $0.append(task) }
    }

    /// Disconnects a peer (no ban).
    public func disconnect(_ peer: Address) {
        state.withLockedValue { $0.peers[peer] }?.close(reason: .closed)
    }

    /// Stops dialling and listening, closes every connection (telling peers it is stopping) and
    /// stops the event loops. Safe to call more than once.
    public func stop() async {
        let (first, channels, waiters) = state.withLockedValue { state in
            defer { state.stopping = true }
            let waiters = state.waiters.values.flatMap { $0 }
            state.waiters = [:]
            return (!state.stopping, Array(state.channels.values), waiters)
        }
        for waiter in waiters { waiter.resume() }
        guard first else { return }
        for task in dialTasks.withLockedValue({ $0 }) { task.cancel() }
        if let server = serverChannel.withLockedValue({ $0 }) { try? await server.close() }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(StopEvent())
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while state.withLockedValue({ !$0.channels.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for channel in state.withLockedValue({ Array($0.channels.values) }) { try? await channel.close() }
        for task in dialTasks.withLockedValue({ $0 }) { await task.value }
        try? await group.shutdownGracefully()
        logger.debug("peer network stopped", metadata: ["address": "\(address)"])
    }

    /// Open connections, peers or not yet (tests).
    var openConnectionCount: Int { state.withLockedValue { $0.channels.count } }

    // MARK: Connections

    func configurePipeline(_ channel: Channel, outbound: Bool, expected: Address?,
                           established: EventLoopPromise<Address>?) throws {
        let handler = PeerHandler(network: self, outbound: outbound, established: established)
        let verification = handler.verification
        let callback: NIOSSLCustomVerificationCallback = { [self] certificates, promise in
            promise.succeed(self.verifyPeer(certificates, expected: expected, into: verification))
        }
        let sync = channel.pipeline.syncOperations
        if outbound {
            try sync.addHandler(NIOSSLClientHandler(context: clientContext, serverHostname: nil,
                                                    customVerificationCallback: callback))
        } else {
            try sync.addHandler(NIOSSLServerHandler(context: serverContext, customVerificationCallback: callback))
        }
        try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: configuration.maxFrameBytes)))
        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
        try sync.addHandler(handler)
        let id = ObjectIdentifier(channel)
        let stopping = state.withLockedValue { state in
            if !state.stopping { state.channels[id] = channel }
            return state.stopping
        }
        if stopping {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLockedValue { $0.channels.removeValue(forKey: id) }
        }
    }

    /// The TLS verification callback's work: the certificate's binding and the admission rules.
    func verifyPeer(_ certificates: [NIOSSLCertificate], expected: Address?,
                    into verification: PeerHandler.Verification) -> NIOSSLVerificationResult {
        do throws(IdentityError) {
            guard certificates.count == 1 else {
                throw .malformedCertificate("expected exactly one certificate, got \(certificates.count)")
            }
            let der: [UInt8]
            do { der = try certificates[0].toDERBytes() } catch { throw .malformedCertificate("\(error)") }
            let peer = try IdentityCertificate.verify(der)
            verification.address = peer
            if let error = admissionError(peer, expected: expected) { throw error }
            return .certificateVerified
        } catch {
            verification.rejection = error
            return .failed
        }
    }

    func admissionError(_ peer: Address, expected: Address?) -> IdentityError? {
        if peer == address { return .selfConnection }
        if let expected, expected != peer { return .unexpectedPeer(expected: expected, got: peer) }
        if let allowed = configuration.allowedPeers, !allowed.contains(peer) { return .notAllowed(peer) }
        if let admits = configuration.admits, !admits(peer) { return .notAllowed(peer) }
        if isBanned(peer) { return .banned(peer) }
        return nil
    }

    enum Registration { case accepted, duplicate, refused }

    /// A connection completed the handshake message: make it the peer's connection, or not.
    /// At most one per peer: of two, both sides keep the one dialed by the lower address.
    func register(_ connection: PeerConnection) -> Registration {
        let peer = connection.info.address
        let preferred = connection.info.outbound == (address < peer)
        let (result, replaced): (Registration, PeerConnection?) = state.withLockedValue { state in
            if state.stopping { return (.refused, nil) }
            if let until = state.banned[peer], ContinuousClock.now < until { return (.refused, nil) }
            if let existing = state.peers[peer] {
                let existingPreferred = existing.info.outbound == (address < peer)
                guard preferred && !existingPreferred else { return (.duplicate, nil) }
                state.peers[peer] = connection
                return (.accepted, existing)
            }
            state.peers[peer] = connection
            return (.accepted, state.replacing.removeValue(forKey: peer) != nil ? connection : nil)
        }
        if replaced === connection {
            logger.debug("duplicate connection replaced by the peer", metadata: ["peer": "\(peer)"])
        } else if let replaced {
            logger.debug("replacing duplicate connection", metadata: ["peer": "\(peer)"])
            replaced.close(reason: .duplicate)
        } else if result == .accepted {
            logger.debug("peer connected", metadata: ["peer": "\(connection.info)"])
            handler.network(self, didReceive: .connected(connection.info))
        }
        return result
    }

    /// A registered connection closed.
    func unregister(_ connection: PeerConnection, reason: DisconnectReason) {
        let peer = connection.info.address
        let (removed, waiters, replacement): (Bool, [CheckedContinuation<Void, Never>], UInt64?) = state.withLockedValue { state in
            if reason.isMisbehaviour { state.banned[peer] = ContinuousClock.now + configuration.banDuration }
            guard state.peers[peer] === connection else { return (false, [], nil) }
            state.peers[peer] = nil
            if reason == .remoteRequested(DisconnectCode.duplicate) && !state.stopping {
                // The peer kept our other connection (both dialed): it is about to complete here too.
                state.replacements += 1
                state.replacing[peer] = state.replacements
                return (true, [], state.replacements)
            }
            return (true, state.waiters.removeValue(forKey: peer) ?? [], nil)
        }
        if let replacement {
            let grace = min(configuration.handshakeTimeout, .seconds(2))
            group.next().scheduleTask(in: .nanoseconds(Int64(Backoff.seconds(grace) * 1e9))) { [self] in
                replacementMissed(peer, replacement, reason: reason)
            }
            return
        }
        for waiter in waiters { waiter.resume() }
        if removed {
            logger.debug("peer disconnected", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
            handler.network(self, didReceive: .disconnected(peer, reason))
        }
    }

    /// No connection replaced the one the peer closed as a duplicate: it is disconnected after all.
    private func replacementMissed(_ peer: Address, _ replacement: UInt64, reason: DisconnectReason) {
        let (missed, waiters): (Bool, [CheckedContinuation<Void, Never>]) = state.withLockedValue { state in
            guard state.replacing[peer] == replacement else { return (false, []) }
            state.replacing[peer] = nil
            return (true, state.waiters.removeValue(forKey: peer) ?? [])
        }
        for waiter in waiters { waiter.resume() }
        if missed { handler.network(self, didReceive: .disconnected(peer, reason)) }
    }

    /// A connection ended before it became a peer's.
    func failed(peer: Address?, remote: String, reason: DisconnectReason) {
        if let peer, reason.isMisbehaviour {
            state.withLockedValue { $0.banned[peer] = ContinuousClock.now + configuration.banDuration }
        }
        logger.debug("connection failed", metadata: ["peer": "\(peer.map { "\($0)" } ?? "?")", "remote": "\(remote)", "reason": "\(reason)"])
        handler.network(self, didReceive: .connectionFailed(peer: peer, remote: remote, reason))
    }

    func deliver(from peer: Address, frame: Frame) {
        handler.network(self, didReceive: .message(from: peer, type: frame.type, payload: frame.payload))
    }

    // MARK: Dialling

    /// Dials `bootnode` and, once connected, returns its address.
    func dial(_ bootnode: Bootnode) async throws -> Address {
        let eventLoop = group.next()
        let established = eventLoop.makePromise(of: Address.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(Backoff.seconds(configuration.handshakeTimeout) * 1e9)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try configurePipeline(channel, outbound: true, expected: bootnode.address, established: established)
                }
            }
        do {
            _ = try await bootstrap.connect(host: bootnode.host, port: bootnode.port).get()
        } catch {
            established.fail(error)
            throw error
        }
        return try await established.futureResult.get()
    }

    /// Keeps one bootnode connected until the network stops.
    func keepDialling(_ bootnode: Bootnode) async {
        var attempt = 0
        var known = bootnode.address
        while !Task.isCancelled && !state.withLockedValue({ $0.stopping }) {
            if let peer = known {
                if isConnected(peer) {
                    await waitUntilDisconnected(peer)
                    try? await Task.sleep(for: configuration.reconnect.delay(attempt: 0))
                    continue
                }
                if let until = state.withLockedValue({ $0.banned[peer] }), ContinuousClock.now < until {
                    try? await Task.sleep(for: until - ContinuousClock.now)
                    continue
                }
            }
            do {
                let peer = try await dial(bootnode)
                known = peer
                let since = ContinuousClock.now
                await waitUntilDisconnected(peer)
                // A connection that did not last counts as a failure, so a flapping peer backs off.
                attempt = ContinuousClock.now - since >= configuration.reconnect.maximum ? 0 : attempt + 1
            } catch {
                // Learn who answers even when it was refused, so a ban holds off the next dial.
                if known == nil, let failure = error as? PeerConnectionFailure, let peer = failure.peer { known = peer }
                logger.trace("dial failed", metadata: ["bootnode": "\(bootnode)", "error": "\(error)"])
                attempt += 1
            }
            try? await Task.sleep(for: configuration.reconnect.delay(attempt: max(0, attempt - 1)))
        }
    }

    func waitUntilDisconnected(_ peer: Address) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { state in
                if state.stopping || (state.peers[peer] == nil && state.replacing[peer] == nil) { return true }
                state.waiters[peer, default: []].append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

struct StopEvent {}

/// A peer's connection, usable from any thread.
final class PeerConnection: Sendable {
    let info: PeerInfo
    let channel: Channel
    private let handler: NIOLoopBound<PeerHandler>
    private let pending = NIOLockedValueBox((bytes: 0, messages: 0))
    private let maxBytes: Int
    private let maxMessages: Int

    init(info: PeerInfo, channel: Channel, handler: PeerHandler, maxBytes: Int, maxMessages: Int) {
        self.info = info
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.maxBytes = maxBytes
        self.maxMessages = maxMessages
    }

    func send(_ frame: Frame) {
        let size = frame.encodedSize
        let overLimit = pending.withLockedValue { pending in
            pending.bytes += size
            pending.messages += 1
            return pending.bytes > maxBytes || pending.messages > maxMessages
        }
        if overLimit {
            close(reason: .slowPeer)
            return
        }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [pending] _ in
            pending.withLockedValue { pending in
                pending.bytes -= size
                pending.messages -= 1
            }
        }
        channel.writeAndFlush(frame, promise: promise)
    }

    func close(reason: DisconnectReason) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.close(reason: reason) }
    }
}
