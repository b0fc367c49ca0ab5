import Foundation
import KramaaRPC
import KramaaTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix

/// What the node's HTTP layer adds to a request (routing, deadlines, limits, CORS, the
/// endpoint's task) over SwiftNIO's own HTTP/1.1 server: the same GET on 4 keep-alive
/// connections, answered at once with the same body, by an endpoint served on the event loop
/// (as tag taps are) and by a bare NIO pipeline.
enum EndpointOverhead {
    static let body = Array(#"{"verdict":"replayed","uid":"04000000000001","readCounter":5}"#.utf8)

    /// Answers at once, on the connection's event loop.
    struct FixedEndpoint: HTTPEndpoint {
        func respond(to request: HTTPRequest) async -> HTTPResponse { HTTPResponse(status: 200, headers: [], body: EndpointOverhead.body) }
        func answersOnEventLoop(_ request: HTTPRequest) -> Bool { true }
    }

    /// NIO's server pipeline (with pipelining assistance and error handling, as the node's) and
    /// a handler that writes the fixed answer when a request ends.
    final class BareHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = Self.unwrapInboundIn(data) else { return }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(EndpointOverhead.body.count))
            context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: EndpointOverhead.body)))), promise: nil)
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// Requests per second through the node's server and through the bare NIO server.
    static func measure(quick: Bool) -> (ours: Double, bare: Double) {
        let clients = 4, perClient = quick ? 1_000 : 6_000
        let request = Array(LoopbackSocket.requestText("GET", path: "/fixed?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086",
                                                       headers: ["Accept": "application/json"], contentType: nil).utf8)
        var routes = HTTPRoutes()
        routes.mount("/fixed", FixedEndpoint())
        let server = RPCBench.blocking { [routes] in
            try! await RPCServer.start(handler: RPCRouter(), routes: routes, configuration: RPCServer.Configuration(host: "127.0.0.1", port: 0))
        }
        defer { RPCBench.blocking { await server.shutdown() } }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        defer { try? group.syncShutdownGracefully() }
        let bare = try! ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(BareHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? bare.close().wait() }
        func rate(_ port: Int) -> Double {
            let elapsed = Harness.time {
                Harness.onThreads(clients) { _ in
                    let socket = try! LoopbackSocket(port: port)
                    for _ in 0..<perClient {
                        try! socket.send(request)
                        let reply = try! socket.readResponse()
                        precondition(reply.status == 200 && reply.body == body, "unexpected answer: \(reply.text)")
                    }
                }
            }
            return Double(clients * perClient) / elapsed
        }
        // Alternating, best of three each: the two share the machine with the client threads.
        var ours = 0.0, reference = 0.0
        for _ in 0..<(quick ? 1 : 3) {
            ours = max(ours, rate(server.port))
            reference = max(reference, rate(bare.localAddress!.port!))
        }
        return (ours, reference)
    }
}
