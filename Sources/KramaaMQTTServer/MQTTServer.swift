import KramaaBroker
import KramaaPrimitives
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Why the MQTT server could not start.
public enum MQTTServerError: Error, CustomStringConvertible {
    case bindFailed(listener: String, host: String, port: Int, reason: String)
    case tls(String)

    public var description: String {
        switch self {
        case .bindFailed(let listener, let host, let port, let reason): "cannot listen for MQTT (\(listener)) on \(host):\(port): \(reason)"
        case .tls(let reason): "MQTT TLS: \(reason)"
        }
    }
}

/// The node's MQTT server: listeners for MQTT over TCP, TLS and WebSocket (subprotocol
/// `mqtt`, binary frames) feeding one ``Broker`` on one event loop, with its clock ticking
/// once a second (keep-alive, wills, expiry).
public final class MQTTServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Address every listener binds (loopback unless configured).
        public var host = "127.0.0.1"
        /// MQTT over TCP (1883 by convention; 0 picks a free port; nil: none).
        public var port: Int? = 1883
        /// MQTT over WebSocket (nil: none).
        public var webSocketPort: Int?
        /// MQTT over TLS (8883 by convention); needs the certificate chain and key (PEM files).
        public var tlsPort: Int?
        public var tlsCertificatePath: String?
        public var tlsKeyPath: String?
        public var broker = BrokerConfiguration()

        public init() {}
    }

    public let configuration: Configuration
    private let group: MultiThreadedEventLoopGroup
    let host: BrokerHost
    private var channels: [String: Channel] = [:]
    private let logger: Logger
    private var ticker: RepeatedTask?

    /// The bound ports (the real ones when 0 was asked).
    public var port: Int? { channels["tcp"]?.localAddress?.port }
    public var webSocketPort: Int? { channels["ws"]?.localAddress?.port }
    public var tlsPort: Int? { channels["tls"]?.localAddress?.port }

    private init(configuration: Configuration, group: MultiThreadedEventLoopGroup, host: BrokerHost, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.host = host
        self.logger = logger
    }

    /// Starts the broker over `journal` and binds the configured listeners.
    /// `preverifier`: the costly half of `inspector`'s work, run on a thread pool before the
    /// broker sees a publication (nil: the inspector does all of it on the loop).
    public static func start(configuration: Configuration, clock: TimeSource = SystemTime.shared,
                             authenticator: BrokerAuthenticator, authorizer: BrokerAuthorizer, inspector: BrokerPayloadInspector? = nil,
                             preverifier: PayloadPreverifier? = nil,
                             journal: SessionJournal, logger: Logger = Logger(label: "kramaa.mqtt")) async throws -> MQTTServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let broker = try Broker(configuration: configuration.broker, clock: clock, authenticator: authenticator,
                                authorizer: authorizer, inspector: inspector, journal: journal, log: LoggerBrokerLog(logger))
        let host = BrokerHost(loop: loop, broker: broker, preverification: preverifier.map { PreverificationPool($0) })
        let server = MQTTServer(configuration: configuration, group: group, host: host, logger: logger)
        do {
            try await server.bindAll()
        } catch {
            await server.shutdown()
            throw error
        }
        server.ticker = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            host.broker.tick()
            host.finishBatch()
        }
        return server
    }

    private func bindAll() async throws {
        let c = configuration
        if let port = c.port {
            channels["tcp"] = try await bind("tcp", port) { channel in
                try channel.pipeline.syncOperations.addHandler(MQTTConnectionHandler(host: self.host))
            }
        }
        if let port = c.tlsPort {
            let context = try Self.tlsContext(certificate: c.tlsCertificatePath, key: c.tlsKeyPath)
            channels["tls"] = try await bind("tls", port) { channel in
                try channel.pipeline.syncOperations.addHandlers([NIOSSLServerHandler(context: context), MQTTConnectionHandler(host: self.host)])
            }
        }
        if let port = c.webSocketPort {
            channels["ws"] = try await bind("ws", port) { channel in try self.configureWebSocket(channel) }
        }
    }

    private func bind(_ name: String, _ port: Int, _ configure: @escaping @Sendable (Channel) throws -> Void) async throws -> Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try configure(channel) } }
        do {
            let channel = try await bootstrap.bind(host: configuration.host, port: port).get()
            logger.info("MQTT (\(name)) listening on \(configuration.host):\(channel.localAddress?.port ?? port)")
            return channel
        } catch {
            throw MQTTServerError.bindFailed(listener: name, host: configuration.host, port: port, reason: "\(error)")
        }
    }

    static func tlsContext(certificate: String?, key: String?) throws -> NIOSSLContext {
        guard let certificate, let key else { throw MQTTServerError.tls("give both --mqtt-tls-cert and --mqtt-tls-key (PEM files)") }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey)))
        } catch {
            throw MQTTServerError.tls("cannot load \(certificate) and \(key): \(error)")
        }
    }

    /// HTTP/1.1 until a WebSocket upgrade that offers the `mqtt` subprotocol (MQTT 5 §6), then
    /// binary frames carrying the MQTT byte stream.
    private func configureWebSocket(_ channel: Channel) throws {
        let host = self.host
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.broker.maximumPacketSize + 16,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let offered = head.headers[canonicalForm: "sec-websocket-protocol"].map { $0.lowercased() }
                guard offered.contains("mqtt") else { return channel.eventLoop.makeSucceededFuture(nil) }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Sec-WebSocket-Protocol", "mqtt")]))
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([WebSocketByteStream(), MQTTConnectionHandler(host: host)])
                }
            })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(name: "kramaa.mqtt.ws-only", promise: nil)
            }), withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(WebSocketOnly(), name: "kramaa.mqtt.ws-only")
    }

    /// Runs `body` with the broker on its loop (status, delivery from peers, revalidation),
    /// then commits and flushes what it did; nil when the server has stopped.
    @discardableResult
    public func withBroker<T: Sendable>(_ body: @escaping @Sendable (Broker) -> T) async -> T? {
        let host = self.host
        return try? await host.loop.submit {
            let result = body(host.broker)
            host.finishSoon()
            return result
        }.get()
    }

    /// Closes the listeners and every connection, then stops the loop.
    public func shutdown() async {
        ticker?.cancel()
        for channel in channels.values { try? await channel.close() }
        channels.removeAll()
        try? await group.shutdownGracefully()
        await host.preverification?.shutdown()
    }
}

/// Swift Log behind the broker's log port.
final class LoggerBrokerLog: BrokerLog, @unchecked Sendable {
    let logger: Logger
    init(_ logger: Logger) { self.logger = logger }
    func info(_ message: String) { logger.info("\(message)") }
    func warning(_ message: String) { logger.warning("\(message)") }
}
