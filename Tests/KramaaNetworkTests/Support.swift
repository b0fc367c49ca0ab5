import Foundation
@testable import KramaaNetwork
import KramaaPrimitives
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Records a network's events.
final class EventLog: PeerNetworkHandler {
    private let box = NIOLockedValueBox<[PeerEvent]>([])

    func network(_ network: PeerNetwork, didReceive event: PeerEvent) {
        box.withLockedValue { $0.append(event) }
    }

    var events: [PeerEvent] { box.withLockedValue { $0 } }

    var messages: [(from: Address, type: UInt8, payload: [UInt8])] {
        events.compactMap { if case .message(let from, let type, let payload) = $0 { (from, type, payload) } else { nil } }
    }

    var failures: [(peer: Address?, reason: DisconnectReason)] {
        events.compactMap { if case .connectionFailed(let peer, _, let reason) = $0 { (peer, reason) } else { nil } }
    }

    var disconnections: [(peer: Address, reason: DisconnectReason)] {
        events.compactMap { if case .disconnected(let peer, let reason) = $0 { (peer, reason) } else { nil } }
    }

    var connections: [PeerInfo] {
        events.compactMap { if case .connected(let info) = $0 { info } else { nil } }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A deterministic key per index.
func nodeKey(_ index: Int) -> Secp256k1.PrivateKey {
    var bytes = [UInt8](repeating: 0, count: 32)
    bytes[31] = UInt8(index + 1)
    bytes[0] = 0x42
    return try! Secp256k1.PrivateKey(rawRepresentation: bytes)
}

/// Fast timings for loopback tests.
func testConfiguration(chainId: UInt64 = 4242, port: Int = 0, bootnodes: [Bootnode] = [],
                       allowed: Set<Address>? = nil) -> PeerNetwork.Configuration {
    var configuration = PeerNetwork.Configuration(chainId: chainId, listenHost: "127.0.0.1", listenPort: port,
                                                  bootnodes: bootnodes, allowedPeers: allowed)
    configuration.handshakeTimeout = .seconds(3)
    configuration.pingInterval = .milliseconds(200)
    configuration.pingTimeout = .seconds(2)
    configuration.reconnect = Backoff(initial: .milliseconds(50), maximum: .milliseconds(400))
    configuration.banDuration = .seconds(30)
    configuration.threads = 1
    return configuration
}

struct TestNode {
    let network: PeerNetwork
    let log: EventLog
    var address: Address { network.address }
    var port: Int { network.port }
    var bootnode: Bootnode { Bootnode(host: "127.0.0.1", port: port, address: address) }
}

func startNode(_ index: Int, _ configuration: PeerNetwork.Configuration) async throws -> TestNode {
    let log = EventLog()
    let network = try await PeerNetwork.start(configuration: configuration, nodeKey: nodeKey(index), handler: log)
    return TestNode(network: network, log: log)
}

/// A TLS (or plain TCP) endpoint driven by the test: presents any identity, accepts any
/// certificate, records what it receives and writes raw bytes.
final class RawPeer: Sendable {
    let channel: Channel
    let state: NIOLockedValueBox<(bytes: [UInt8], handshake: Bool)>
    let group: MultiThreadedEventLoopGroup

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let state: NIOLockedValueBox<(bytes: [UInt8], handshake: Bool)>
        init(state: NIOLockedValueBox<(bytes: [UInt8], handshake: Bool)>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            state.withLockedValue { $0.bytes += bytes }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
                state.withLockedValue { $0.handshake = true }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    private init(channel: Channel, state: NIOLockedValueBox<(bytes: [UInt8], handshake: Bool)>,
                 group: MultiThreadedEventLoopGroup) {
        self.channel = channel
        self.state = state
        self.group = group
    }

    /// Connects to `port`; with an identity over TLS 1.3, without one in plain TCP.
    static func connect(port: Int, identity: NodeIdentity?) async throws -> RawPeer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = NIOLockedValueBox<(bytes: [UInt8], handshake: Bool)>(([], false))
        let context = try identity.map { try NIOSSLContext(configuration: TLSSetup.configuration(identity: $0, server: false)) }
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: nil,
                                                customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) }))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(state: state))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawPeer(channel: channel, state: state, group: group)
    }

    var received: [UInt8] { state.withLockedValue { $0.bytes } }
    var handshakeCompleted: Bool { state.withLockedValue { $0.handshake } }

    /// Frames received so far (a trailing partial frame is left out).
    var frames: [Frame] {
        var buffer = ByteBuffer(bytes: received)
        var frames: [Frame] = []
        while let frame = try? FrameDecoder.next(from: &buffer, maxFrameBytes: 1 << 30) { frames.append(frame) }
        return frames
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    var isOpen: Bool { channel.isActive }

    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// A TLS server driven by the test: on each connection it sends `script` after the handshake.
final class RawServer: Sendable {
    let channel: Channel
    let group: MultiThreadedEventLoopGroup
    let accepted = NIOLockedValueBox(0)
    var port: Int { channel.localAddress!.port! }

    final class Scripted: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: [UInt8]
        let closeAfter: Bool
        init(script: [UInt8], closeAfter: Bool) {
            self.script = script
            self.closeAfter = closeAfter
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: script)), promise: nil)
                if closeAfter { context.close(promise: nil) }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    init(identity: NodeIdentity, script: [UInt8], closeAfter: Bool = false) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let context = try NIOSSLContext(configuration: TLSSetup.configuration(identity: identity, server: true))
        let accepted = self.accepted
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLServerHandler(context: context, customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) }))
                    try channel.pipeline.syncOperations.addHandler(Scripted(script: script, closeAfter: closeAfter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}
