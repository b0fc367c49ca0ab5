import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The JSON-RPC server: HTTP/1.1 POST (keep-alive, pipelining) and WebSocket on the same port
/// and path, serving any ``RPCHandler``.
///
/// ```swift
/// var router = RPCRouter()
/// router.register("web3_clientVersion") { _, _ in "Kramaa/0.1" }
/// let server = try await RPCServer.start(handler: router, configuration: .init(port: 8545))
/// …
/// await server.shutdown()
/// ```
///
/// HTTP answers: POST with a JSON content type is a JSON-RPC body; OPTIONS is a CORS preflight;
/// GET without an upgrade is a health check (`{"status":"ok"}`); a body over the limit is 413,
/// a wrong content type 415, another method 405, another path 404, a disallowed `Origin` 403,
/// each with a JSON-RPC error body. Each request runs in its own task, so a slow call holds up
/// only its own connection (HTTP) or nothing at all (WebSocket, where calls run concurrently).
public final class RPCServer: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Address to bind (`127.0.0.1` by default: reachable from this machine only).
        public var host: String
        /// Port to bind; 0 picks a free one (read it back from ``RPCServer/port``).
        public var port: Int
        /// The path served for both HTTP and WebSocket (query strings are ignored).
        public var path: String = "/"
        /// Origins allowed by CORS and for WebSocket upgrades; `*` allows any. Requests that carry
        /// an `Origin` not in the list are refused with 403. Requests without one (non-browser
        /// clients) are always served.
        public var allowedOrigins: [String] = ["*"]
        /// Largest HTTP request body (geth: 5 MiB); larger ones are answered with 413.
        public var maxBodyBytes: Int = 5 * 1024 * 1024
        /// Batch and response bounds, shared by HTTP and WebSocket.
        public var limits = RPCDispatcher.Limits()
        /// Whether GET requests with `Upgrade: websocket` on ``path`` are upgraded.
        public var webSocketEnabled = true
        /// Largest WebSocket message, after reassembling fragments (geth: 32 MiB); a larger one
        /// closes the connection with status 1009.
        public var maxWebSocketMessageBytes: Int = 32 * 1024 * 1024
        /// Back-pressure: bytes of responses and notifications queued for one WebSocket client
        /// that has stopped reading. Past this the client is disconnected (its subscriptions end)
        /// rather than letting the queue grow without bound.
        public var maxWebSocketPendingBytes: Int = 16 * 1024 * 1024
        /// Calls of one WebSocket connection running at once; past this the server stops
        /// reading from that connection until some finish.
        public var maxWebSocketConcurrentCalls: Int = 64
        /// An HTTP connection that sends nothing for this long while no call of its own is
        /// running is closed (geth's idle timeout, 120 s): idle keep-alive connections and
        /// half-sent requests do not pile up. WebSocket connections are not timed out.
        public var idleTimeout: Duration = .seconds(120)
        /// Event loop threads (one per core by default).
        public var threads: Int = System.coreCount

        public init(host: String = "127.0.0.1", port: Int = 8545) {
            self.host = host
            self.port = port
        }
    }

    public let configuration: Configuration
    /// The bound address, with the real port when port 0 was asked for.
    public let localAddress: SocketAddress
    /// The bound port.
    public var port: Int { localAddress.port ?? configuration.port }

    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: Channel
    private let connections: ConnectionTracker
    private let logger: Logger
    private let stopping = NIOLockedValueBox(false)

    private init(configuration: Configuration, group: MultiThreadedEventLoopGroup, serverChannel: Channel,
                 connections: ConnectionTracker, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.serverChannel = serverChannel
        self.localAddress = serverChannel.localAddress!
        self.connections = connections
        self.logger = logger
    }

    /// Binds and starts serving `handler`. Returns once the socket is listening.
    /// `routes` serve other paths of the same port over plain HTTP (REST interfaces, pages).
    public static func start(handler: some RPCHandler, routes: HTTPRoutes = HTTPRoutes(), configuration: Configuration = Configuration(),
                             logger: Logger = Logger(label: "kramaa.rpc")) async throws(RPCServerError) -> RPCServer {
        try configuration.validate()
        let core = ServerCore(dispatcher: RPCDispatcher(handler: handler, limits: configuration.limits),
                              configuration: configuration, routes: routes, logger: logger)
        let connections = ConnectionTracker()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try core.configurePipeline(channel)
                }
            }
        do {
            let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            logger.debug("JSON-RPC server listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            return RPCServer(configuration: configuration, group: group, serverChannel: channel,
                             connections: connections, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw .bindFailed(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
    }

    /// Open client connections (HTTP keep-alive and WebSocket).
    public var connectionCount: Int { connections.count }

    /// Stops accepting connections, lets calls in flight finish and answers them (HTTP
    /// connections close after their current response; WebSocket clients get a 1001 close once
    /// their calls are answered), then after `gracePeriod` closes whatever is left and stops the
    /// event loops. Safe to call more than once.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let first = stopping.withLockedValue { stopping in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        try? await serverChannel.close()
        for channel in connections.all() {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = ContinuousClock.now + gracePeriod
        while connections.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in connections.all() { try? await channel.close() }
        try? await group.shutdownGracefully()
        logger.debug("JSON-RPC server stopped")
    }
}

/// Why the server could not start.
public enum RPCServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case bindFailed(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid RPC server configuration: \(reason)"
        case .bindFailed(let host, let port, let reason): "cannot listen on \(host):\(port): \(reason)"
        }
    }
}

extension RPCServer.Configuration {
    func validate() throws(RPCServerError) {
        guard (0...65535).contains(port) else { throw .invalidConfiguration("port \(port) is not 0...65535") }
        guard path.hasPrefix("/") else { throw .invalidConfiguration("path \"\(path)\" must start with /") }
        guard maxBodyBytes > 0, maxWebSocketMessageBytes > 0, maxWebSocketPendingBytes > 0 else {
            throw .invalidConfiguration("size limits must be positive")
        }
        guard maxWebSocketMessageBytes <= Int(UInt32.max) else {
            throw .invalidConfiguration("maxWebSocketMessageBytes must fit 32 bits")
        }
        guard idleTimeout > .zero else { throw .invalidConfiguration("idleTimeout must be positive") }
        guard maxWebSocketConcurrentCalls > 0, threads > 0, limits.maxBatchItems > 0 else {
            throw .invalidConfiguration("counts must be positive")
        }
    }
}

/// What every connection of one server shares.
struct ServerCore: Sendable {
    let dispatcher: RPCDispatcher
    let configuration: RPCServer.Configuration
    let routes: HTTPRoutes
    let logger: Logger

    /// Whether a request carrying this `Origin` header (or none) may be served.
    func originAllowed(_ origin: String?) -> Bool {
        guard let origin else { return true }
        return configuration.allowedOrigins.contains { $0 == "*" || $0.equalsIgnoringCase(origin) }
    }

    /// Whether `uri` (path and maybe a query) is the served path.
    func pathMatches(_ uri: String) -> Bool {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path == configuration.path
    }

    /// HTTP/1.1 with pipelining, error handling and (if enabled) the WebSocket upgrade.
    func configurePipeline(_ channel: Channel) throws {
        let http = HTTPRPCHandler(core: self)
        let sync = channel.pipeline.syncOperations
        let (seconds, attoseconds) = configuration.idleTimeout.components
        try sync.addHandler(IdleStateHandler(readTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        guard configuration.webSocketEnabled else {
            try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try sync.addHandler(http)
            return
        }
        let core = self
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maxWebSocketMessageBytes,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let allowed = core.pathMatches(head.uri) && core.originAllowed(head.headers.first(name: "origin"))
                return channel.eventLoop.makeSucceededFuture(allowed ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let aggregator = NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 8192,
                        maxAccumulatedFrameSize: core.configuration.maxWebSocketMessageBytes)
                    try channel.pipeline.syncOperations.addHandlers([aggregator, WebSocketRPCHandler(core: core, channel: channel,
                                                                                                 authorization: head.headers.first(name: "authorization"))])
                }
            })
        let httpHandlerName = "kramaa.rpc.http"
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(name: httpHandlerName, promise: nil)
            }),
            withErrorHandling: true)
        try sync.addHandler(http, name: httpHandlerName)
    }
}

extension String {
    fileprivate func equalsIgnoringCase(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}

/// The open child channels, for graceful shutdown.
final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    func add(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { [channels] _ in
            _ = channels.withLockedValue { $0.removeValue(forKey: key) }
        }
    }

    func all() -> [Channel] { channels.withLockedValue { Array($0.values) } }
    var count: Int { channels.withLockedValue { $0.count } }
}
