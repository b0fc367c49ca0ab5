import KramaaPrimitives
import NIOCore
import NIOSSL
import NIOTLS

/// TLS 1.3 only; both sides present their identity certificate and require the other's. The
/// certificate checks themselves are the custom verification callback's
/// (``PeerNetwork/verifyPeer(_:expected:into:)``): no trust roots, no host names.
enum TLSSetup {
    static func configuration(identity: NodeIdentity, server: Bool) throws -> TLSConfiguration {
        let certificate = try NIOSSLCertificate(bytes: identity.certificateDER, format: .der)
        let key = try NIOSSLPrivateKey(bytes: Array(identity.tlsKeyPEM.utf8), format: .pem)
        var configuration = server
            ? TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
            : TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = [.certificate(certificate)]
        configuration.privateKey = .privateKey(key)
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        // Requires the peer's certificate (servers ask clients for one); the callback replaces
        // the chain and host name checks.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        // Closing waits this long for the peer's close_notify (a peer that stopped reading sends none).
        configuration.shutdownTimeout = .seconds(1)
        return configuration
    }
}

/// One connection: TLS verification result, the handshake message, keepalive, dispatch.
final class PeerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    /// Filled by the TLS verification callback (on this channel's event loop).
    final class Verification {
        var address: Address?
        var rejection: IdentityError?
    }

    enum Phase { case tls, awaitingHello, active, closing }

    let network: PeerNetwork
    let outbound: Bool
    let verification = Verification()
    private var established: EventLoopPromise<Address>?
    private var phase = Phase.tls
    private var connection: PeerConnection?
    private var closeReason: DisconnectReason?
    private var lastReceived = NIODeadline.now()
    private var timeout: Scheduled<Void>?
    private var keepalive: RepeatedTask?
    private var remote = "?"

    init(network: PeerNetwork, outbound: Bool, established: EventLoopPromise<Address>?) {
        self.network = network
        self.outbound = outbound
        self.established = established
    }

    private var configuration: PeerNetwork.Configuration { network.configuration }

    func handlerAdded(context: ChannelHandlerContext) {
        currentContext = context
        remote = context.channel.remoteAddress.map(Self.describe) ?? "?"
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(Backoff.seconds(configuration.handshakeTimeout) * 1e9))) {
            if handler.value.phase != .active { handler.value.close(context: contextBox.value, reason: .handshakeTimeout) }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        remote = context.channel.remoteAddress.map(Self.describe) ?? remote
        context.fireChannelActive()
    }

    static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, phase == .tls {
            phase = .awaitingHello
            let hello = Hello(protocolVersion: configuration.protocolVersion, chainId: configuration.chainId,
                              listenPort: UInt16(network.port))
            context.writeAndFlush(wrapOutboundOut(hello.frame), promise: nil)
        } else if event is StopEvent {
            close(context: context, reason: .stopped)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closing else { return }
        let frame = unwrapInboundIn(data)
        lastReceived = .now()
        switch phase {
        case .tls, .closing:
            return
        case .awaitingHello:
            guard frame.type == MessageType.hello else {
                return close(context: context, reason: .handshakeFailed("expected the handshake message, got type \(frame.type)"))
            }
            guard let hello = Hello(payload: frame.payload) else {
                return close(context: context, reason: .handshakeFailed("malformed handshake message"))
            }
            guard hello.protocolVersion == configuration.protocolVersion else {
                return close(context: context, reason: .handshakeFailed("protocol version \(hello.protocolVersion), expected \(configuration.protocolVersion)"))
            }
            guard hello.chainId == configuration.chainId else {
                return close(context: context, reason: .handshakeFailed("chain id \(hello.chainId), expected \(configuration.chainId)"))
            }
            guard let peer = verification.address else {
                return close(context: context, reason: .tlsFailed("no verified peer identity"))
            }
            let info = PeerInfo(address: peer, remoteAddress: remote, listenPort: Int(hello.listenPort), outbound: outbound)
            let connection = PeerConnection(info: info, channel: context.channel, handler: self,
                                            maxBytes: configuration.maxPendingBytes, maxMessages: configuration.maxPendingMessages)
            timeout?.cancel()
            timeout = nil
            switch network.register(connection) {
            case .accepted:
                self.connection = connection
                phase = .active
                established?.succeed(peer)
                established = nil
                startKeepalive(context: context)
            case .duplicate:
                // The peer is connected through the other connection.
                established?.succeed(peer)
                established = nil
                close(context: context, reason: .duplicate)
            case .refused:
                close(context: context, reason: .stopped)
            }
        case .active:
            switch frame.type {
            case MessageType.ping:
                context.writeAndFlush(wrapOutboundOut(Frame(type: MessageType.pong, payload: frame.payload)), promise: nil)
            case MessageType.pong:
                break
            case MessageType.hello:
                close(context: context, reason: .protocolViolation("a second handshake message"))
            case MessageType.disconnect:
                closeReason = .remoteRequested(frame.payload.first ?? 0)
                phase = .closing
                context.close(promise: nil)
            case let type where configuration.messageTypes.contains(type):
                network.deliver(from: connection!.info.address, frame: frame)
            default:
                close(context: context, reason: .protocolViolation("unknown message type \(frame.type)"))
            }
        }
    }

    private func startKeepalive(context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        let interval = TimeAmount.nanoseconds(Int64(Backoff.seconds(configuration.pingInterval) * 1e9))
        let limit = TimeAmount.nanoseconds(Int64(Backoff.seconds(configuration.pingTimeout) * 1e9))
        keepalive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = handler.value
            guard handler.phase == .active else { return }
            if NIODeadline.now() - handler.lastReceived > limit {
                handler.close(context: contextBox.value, reason: .keepaliveTimeout)
            } else {
                contextBox.value.writeAndFlush(handler.wrapOutboundOut(Frame(type: MessageType.ping, payload: [])), promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let reason: DisconnectReason
        if let rejection = verification.rejection {
            reason = .identityRejected(rejection)
        } else if let error = error as? FrameError {
            reason = .protocolViolation("\(error)")
        } else if error is NIOSSLError || error is BoringSSLError {
            reason = .tlsFailed("\(error)")
        } else if case .awaitingHello = phase, error is ByteToMessageDecoderError {
            reason = .handshakeFailed("\(error)")
        } else {
            reason = .closed
        }
        if case .protocolViolation = reason {
            close(context: context, reason: reason)
        } else if phase != .closing {
            closeReason = reason
            phase = .closing
            context.close(promise: nil)
        }
    }

    /// Closes with `reason`, first telling the peer why when there is something to tell.
    func close(context: ChannelHandlerContext, reason: DisconnectReason) {
        guard phase != .closing else { return }
        let wasTLS = phase == .tls
        phase = .closing
        closeReason = reason
        // Reported now: TLS may take a while to close a connection whose peer is not reading.
        finish(reason: reason)
        let code: UInt8? = switch reason {
        case .handshakeFailed: DisconnectCode.handshakeFailed
        case .protocolViolation: DisconnectCode.protocolViolation
        case .duplicate: DisconnectCode.duplicate
        case .stopped: DisconnectCode.stopping
        default: nil
        }
        guard let code, !wasTLS else {
            context.close(promise: nil)
            return
        }
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(Frame(type: MessageType.disconnect, payload: [code])), promise: promise)
        let backstop = context.eventLoop.scheduleTask(in: .seconds(1)) { contextBox.value.close(promise: nil) }
        promise.futureResult.whenComplete { _ in
            backstop.cancel()
            contextBox.value.close(promise: nil)
        }
    }

    /// Called from ``PeerConnection`` (on this event loop).
    func close(reason: DisconnectReason) {
        guard let context = currentContext else { return }
        close(context: context, reason: reason)
    }

    private var currentContext: ChannelHandlerContext?

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        keepalive?.cancel()
        phase = .closing
        finish(reason: closeReason ?? .closed)
        currentContext = nil
        context.fireChannelInactive()
    }

    private var finished = false

    /// Reports the end of this connection, once.
    private func finish(reason: DisconnectReason) {
        guard !finished else { return }
        finished = true
        if let connection {
            network.unregister(connection, reason: reason)
        } else {
            network.failed(peer: verification.address, remote: remote, reason: reason)
            established?.fail(PeerConnectionFailure(peer: verification.address, reason: reason))
            established = nil
        }
    }
}

/// A dial that did not become a peer.
struct PeerConnectionFailure: Error {
    /// The peer's address if its certificate was valid.
    let peer: Address?
    let reason: DisconnectReason
}
