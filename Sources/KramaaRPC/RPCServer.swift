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
        /// An HTTP connection with no request for this long is closed (geth's idle timeout,
        /// 120 s). WebSocket connections are not timed out between messages.
        public var idleTimeout: Duration = .seconds(120)
        /// A request head must arrive whole within this long of its first byte, however slowly
        /// it trickles in (slowloris); the connection is closed otherwise.
        public var headerTimeout: Duration = .seconds(10)
        /// A request body, or a WebSocket message, must arrive whole within this long of its
        /// head (its first byte); the connection is closed otherwise.
        public var bodyTimeout: Duration = .seconds(30)
        /// An HTTP answer must be taken by the client within this long (geth's write timeout,
        /// 30 s); a client that stops reading is disconnected and its answer dropped.
        public var writeTimeout: Duration = .seconds(30)
        /// Bytes held across all connections for requests and WebSocket messages that have not
        /// fully arrived (beyond the first 16 KiB of each, so small calls always get through).
        /// A read that would pass it is refused: 503 (HTTP) or close 1013 (WebSocket), and that
        /// connection closes.
        public var maxPendingRequestBytes: Int = 64 * 1024 * 1024
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
    private let budget: RequestBudget
    private let logger: Logger
    private let stopping = NIOLockedValueBox(false)

    private init(configuration: Configuration, group: MultiThreadedEventLoopGroup, serverChannel: Channel,
                 connections: ConnectionTracker, budget: RequestBudget, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.serverChannel = serverChannel
        self.localAddress = serverChannel.localAddress!
        self.connections = connections
        self.budget = budget
        self.logger = logger
    }

    /// Binds and starts serving `handler`. Returns once the socket is listening.
    /// `routes` serve other paths of the same port over plain HTTP (REST interfaces, pages).
    public static func start(handler: some RPCHandler, routes: HTTPRoutes = HTTPRoutes(), configuration: Configuration = Configuration(),
                             logger: Logger = Logger(label: "kramaa.rpc")) async throws(RPCServerError) -> RPCServer {
        try configuration.validate()
        let core = ServerCore(dispatcher: RPCDispatcher(handler: handler, limits: configuration.limits),
                              configuration: configuration, routes: routes, logger: logger,
                              budget: RequestBudget(limit: configuration.maxPendingRequestBytes))
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
                             connections: connections, budget: core.budget, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw .bindFailed(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
    }

    /// Open client connections (HTTP keep-alive and WebSocket).
    public var connectionCount: Int { connections.count }

    /// Bytes held now for requests and WebSocket messages not fully received (at most
    /// ``Configuration/maxPendingRequestBytes``).
    public var pendingRequestBytes: Int { budget.inUse }

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
        guard idleTimeout > .zero, headerTimeout > .zero, bodyTimeout > .zero, writeTimeout > .zero else {
            throw .invalidConfiguration("idleTimeout, headerTimeout, bodyTimeout and writeTimeout must be positive")
        }
        guard maxPendingRequestBytes >= maxBodyBytes else {
            throw .invalidConfiguration("maxPendingRequestBytes must hold at least one whole body (maxBodyBytes)")
        }
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
    let budget: RequestBudget

    /// Whether a request carrying this `Origin` header (or none) may be served: no origin (not a
    /// browser), the server's own origin (`host`, a page it served), or one allowed by CORS.
    func originAllowed(_ origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        if let host, origin.equalsIgnoringCase("http://" + host) || origin.equalsIgnoringCase("https://" + host) { return true }
        return configuration.allowedOrigins.contains { $0 == "*" || $0.equalsIgnoringCase(origin) }
    }

    /// The stream a stream endpoint gives for this upgrade request, if the path has one.
    func stream(for head: HTTPRequestHead, remote: SocketAddress?) -> AsyncStream<String>? {
        guard head.method == .GET else { return nil }
        let (path, query) = HTTPRequest.split(uri: head.uri)
        guard let provider = routes.streamProvider(for: path) else { return nil }
        let request = HTTPRequest(method: "GET", path: path, query: query, headers: head.headers.map { ($0.name.lowercased(), $0.value) },
                                  target: head.uri, remoteAddress: remote.flatMap(HTTPRPCHandler.describe))
        return provider.webSocketStream(for: request)
    }

    /// Whether `uri` (path and maybe a query) is the served path.
    func pathMatches(_ uri: String) -> Bool {
        HTTPRequest.path(ofURI: uri) == configuration.path
    }

    /// HTTP/1.1 with pipelining, error handling and (if enabled) the WebSocket upgrade.
    func configurePipeline(_ channel: Channel) throws {
        let connectionGuard = ConnectionGuard(budget: budget, configuration: configuration)
        let http = HTTPRPCHandler(core: self, connectionGuard: connectionGuard)
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(connectionGuard)
        guard configuration.webSocketEnabled else {
            try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try sync.addHandler(http)
            return
        }
        let core = self
        // A stream endpoint's upgrade: the stream chosen when the upgrade is accepted, used when the pipeline is built.
        let pendingStream = NIOLoopBound(StreamSlot(), eventLoop: channel.eventLoop)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maxWebSocketMessageBytes,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let checked = core.originAllowed(head.headers.first(name: "origin"), host: head.headers.first(name: "host"))
                    && WebSocketUpgradeCheck.problem(head.headers) == nil
                if checked, !core.pathMatches(head.uri), let stream = core.stream(for: head, remote: channel.remoteAddress) {
                    pendingStream.value.stream = stream
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                }
                let allowed = core.pathMatches(head.uri) && checked
                return channel.eventLoop.makeSucceededFuture(allowed ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { [guardBox = NIOLoopBound(connectionGuard, eventLoop: channel.eventLoop)] channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let connectionGuard = guardBox.value
                    connectionGuard.webSocketUpgraded()
                    if let stream = pendingStream.value.stream {
                        try channel.pipeline.syncOperations.addHandler(WebSocketStreamHandler(stream: stream))
                        return
                    }
                    let aggregator = NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 8192,
                        maxAccumulatedFrameSize: core.configuration.maxWebSocketMessageBytes)
                    try channel.pipeline.syncOperations.addHandlers([
                        WebSocketMessageWatcher(connectionGuard: connectionGuard), aggregator,
                        WebSocketRPCHandler(core: core, channel: channel, authorization: head.headers.first(name: "authorization")),
                    ])
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

/// What RFC 6455 §4.2.1 requires of a WebSocket upgrade request beyond what NIO checks:
/// `Sec-WebSocket-Key` is the base64 of 16 bytes (24 characters ending in `==`).
enum WebSocketUpgradeCheck {
    /// Why the upgrade request is invalid, or nil.
    static func problem(_ headers: HTTPHeaders) -> String? {
        let keys = headers["sec-websocket-key"]
        guard keys.count == 1, let key = keys.first else {
            return "give one Sec-WebSocket-Key header (base64 of 16 random bytes)"
        }
        guard decodedLength(key) == 16 else { return "Sec-WebSocket-Key \(key) is not base64 of 16 bytes" }
        guard headers["sec-websocket-version"] == ["13"] else { return "Sec-WebSocket-Version must be 13" }
        return nil
    }

    /// The number of bytes `text` decodes to as padded base64, or nil when it is not base64.
    static func decodedLength(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0, !bytes.isEmpty else { return nil }
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        let isBase64: (UInt8) -> Bool = { byte in
            (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
        }
        guard bytes.dropLast(padding).allSatisfy(isBase64) else { return nil }
        return bytes.count / 4 * 3 - padding
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
