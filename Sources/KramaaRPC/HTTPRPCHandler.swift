import NIOCore
import NIOHTTP1

/// Serves one HTTP connection (after NIO's HTTP decoder and pipelining handler, which hands
/// over one request at a time): routes by method and path, applies CORS and the body limit,
/// and runs JSON-RPC bodies through the dispatcher in a task of their own.
final class HTTPRPCHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Reading a JSON-RPC body (kept in `body`).
        case receiving(HTTPRequestHead)
        /// Reading the body of a request for another endpoint (REST, pages).
        case receivingForEndpoint(HTTPRequestHead, any HTTPEndpoint)
        /// Already answered (an error, a preflight, a health check); the rest of the request
        /// is read and dropped, up to `budget` bytes, then the connection closes if `close`.
        case discarding(budget: Int, close: Bool)
        /// The call is running; the next request waits in the pipelining handler.
        case calling
    }

    private let core: ServerCore
    private var state = State.idle
    private var body = ByteBuffer()
    private var call: Task<Void, Never>?
    /// The last response's write, so a close waits for it.
    private var lastWrite: EventLoopFuture<Void>?

    /// Media types geth accepts for JSON-RPC bodies.
    private static let acceptedContentTypes: Set<String> = ["application/json", "application/json-rpc", "application/jsonrequest"]

    init(core: ServerCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            begin(context: context, head: head)
        case .body(var chunk):
            switch state {
            case .receiving(let head), .receivingForEndpoint(let head, _):
                let limit = core.configuration.maxBodyBytes
                if body.readableBytes + chunk.readableBytes > limit {
                    body = ByteBuffer()
                    reject(context: context, head: head, status: .payloadTooLarge, close: true,
                           error: .invalidRequest("request body too large (> \(limit) bytes)"))
                } else {
                    body.writeBuffer(&chunk)
                }
            case .discarding(let budget, let close):
                if chunk.readableBytes > budget {
                    closeAfterWrites(context: context)
                } else {
                    state = .discarding(budget: budget - chunk.readableBytes, close: close)
                }
            case .idle, .calling:
                break
            }
        case .end:
            switch state {
            case .receiving(let head):
                state = .calling
                let request = body
                body = ByteBuffer()
                dispatch(context: context, head: head, body: request)
            case .receivingForEndpoint(let head, let endpoint):
                state = .calling
                let request = body
                body = ByteBuffer()
                serve(context: context, head: head, endpoint: endpoint, body: request)
            case .discarding(_, let close):
                state = .idle
                if close { closeAfterWrites(context: context) }
            case .idle, .calling:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.cancel()
        call = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case IdleStateHandler.IdleStateEvent.read = event else { return context.fireUserInboundEventTriggered(event) }
        // Silent for the idle timeout: close, unless our own call is still being worked on.
        if case .calling = state { return }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        core.logger.debug("HTTP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Routing

    private func begin(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let configuration = core.configuration
        if !core.pathMatches(head.uri), let endpoint = core.routes.endpoint(for: HTTPRequest.split(uri: head.uri).path) {
            return beginForEndpoint(context: context, head: head, endpoint: endpoint)
        }
        guard core.pathMatches(head.uri) else {
            return reject(context: context, head: head, status: .notFound, error: .invalidRequest("not found"))
        }
        guard core.originAllowed(head.headers.first(name: "origin")) else {
            return reject(context: context, head: head, status: .forbidden, error: .invalidRequest("origin not allowed"))
        }
        switch head.method {
        case .POST:
            let length = head.headers.first(name: "content-length").flatMap { Int($0) }
            if let length, length > configuration.maxBodyBytes {
                return reject(context: context, head: head, status: .payloadTooLarge, close: true,
                              error: .invalidRequest("content length too large (\(length)>\(configuration.maxBodyBytes))"))
            }
            guard Self.acceptsContentType(head.headers.first(name: "content-type")) else {
                return reject(context: context, head: head, status: .unsupportedMediaType,
                              error: .invalidRequest("invalid content type, only application/json is supported"))
            }
            body = context.channel.allocator.buffer(capacity: min(length ?? 1024, configuration.maxBodyBytes))
            state = .receiving(head)
        case .OPTIONS:
            var headers = HTTPHeaders()
            if head.headers.contains(name: "origin") {
                headers.add(name: "access-control-allow-methods", value: "POST, GET, OPTIONS")
                let requested = head.headers.first(name: "access-control-request-headers")
                headers.add(name: "access-control-allow-headers", value: requested ?? "content-type")
                headers.add(name: "access-control-max-age", value: "600")
                headers.add(name: "vary", value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
            }
            headers.add(name: "allow", value: "POST, GET, OPTIONS")
            answerWithoutBody(context: context, head: head, status: .noContent, headers: headers, body: nil)
        case .GET:
            answerWithoutBody(context: context, head: head, status: .ok, headers: [:], body: Self.healthBody)
        default:
            reject(context: context, head: head, status: .methodNotAllowed, headers: ["allow": "POST, GET, OPTIONS"],
                   error: .invalidRequest("method not allowed"))
        }
    }

    /// A request for another endpoint: any method; the body is read (within the limit) and the
    /// endpoint answers. Preflights are answered here, as for JSON-RPC.
    private func beginForEndpoint(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: any HTTPEndpoint) {
        guard core.originAllowed(head.headers.first(name: "origin")) else {
            return reject(context: context, head: head, status: .forbidden, error: .invalidRequest("origin not allowed"))
        }
        if head.method == .OPTIONS && head.headers.contains(name: "access-control-request-method") {
            var headers = HTTPHeaders()
            headers.add(name: "access-control-allow-methods", value: "GET, POST, PUT, DELETE, OPTIONS")
            headers.add(name: "access-control-allow-headers", value: head.headers.first(name: "access-control-request-headers") ?? "content-type")
            headers.add(name: "access-control-max-age", value: "600")
            return answerWithoutBody(context: context, head: head, status: .noContent, headers: headers, body: nil)
        }
        let length = head.headers.first(name: "content-length").flatMap { Int($0) }
        if let length, length > core.configuration.maxBodyBytes {
            return reject(context: context, head: head, status: .payloadTooLarge, close: true,
                          error: .invalidRequest("content length too large (\(length)>\(core.configuration.maxBodyBytes))"))
        }
        body = context.channel.allocator.buffer(capacity: min(length ?? 0, core.configuration.maxBodyBytes))
        state = .receivingForEndpoint(head, endpoint)
    }

    private func serve(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: any HTTPEndpoint, body: ByteBuffer) {
        let (path, query) = HTTPRequest.split(uri: head.uri)
        let request = HTTPRequest(method: head.method.rawValue, path: path, query: query,
                                  headers: head.headers.map { ($0.name.lowercased(), $0.value) },
                                  body: Array(body.readableBytesView), target: head.uri,
                                  remoteAddress: context.channel.remoteAddress.flatMap(Self.describe))
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        call = Task {
            let response = await endpoint.respond(to: request)
            loop.execute {
                let (handler, context) = bound.value
                handler.call = nil
                guard case .calling = handler.state else { return }
                handler.state = .idle
                var headers = HTTPHeaders()
                var contentType: String?
                for (name, value) in response.headers {
                    if name.lowercased() == "content-type" { contentType = value } else { headers.add(name: name, value: value) }
                }
                handler.write(context: context, head: head, status: HTTPResponseStatus(statusCode: response.status), headers: headers,
                              body: head.method == .HEAD ? [] : response.body, contentType: contentType, close: false)
            }
        }
    }

    private static let healthBody: [UInt8] = Array(#"{"status":"ok"}"#.utf8)

    /// `application/json` and geth's other JSON-RPC types, with any parameters (`; charset=utf-8`).
    static func acceptsContentType(_ value: String?) -> Bool {
        guard let value else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingWhitespace().lowercased()
        } ?? ""
        return acceptedContentTypes.contains(mediaType)
    }

    // MARK: Answers

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let core = self.core
        let remote = context.channel.remoteAddress.flatMap(Self.describe)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        call = Task {
            let outcome = await core.dispatcher.respond(to: body, transport: .http, remoteAddress: remote,
                                                        authorization: head.headers.first(name: "authorization"), connection: nil)
            loop.execute {
                let (handler, context) = bound.value
                handler.call = nil
                guard case .calling = handler.state else { return }
                handler.state = .idle
                handler.write(context: context, head: head, status: .ok, headers: [:], body: outcome.body ?? [],
                              contentType: outcome.body == nil ? nil : "application/json", close: false)
            }
        }
    }

    /// Answers at once (no JSON-RPC call), then drops the rest of the request.
    private func answerWithoutBody(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                                   headers: HTTPHeaders, body: [UInt8]?) {
        state = .discarding(budget: core.configuration.maxBodyBytes, close: !head.isKeepAlive)
        write(context: context, head: head, status: status, headers: headers, body: body ?? [],
              contentType: body == nil ? nil : "application/json", close: false, closeNow: false)
    }

    /// Answers with an HTTP error status and a JSON-RPC error body; with `close`, the connection
    /// closes once the rest of the request has been read (or at once if it is too large).
    private func reject(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                        headers: HTTPHeaders = [:], close: Bool = false, error: RPCError) {
        state = .discarding(budget: 4 * core.configuration.maxBodyBytes, close: close || !head.isKeepAlive)
        write(context: context, head: head, status: status, headers: headers, body: RPCDispatcher.errorBody(error),
              contentType: "application/json", close: close, closeNow: false)
    }

    /// Writes a whole response. `close` adds `Connection: close`; the connection is closed after
    /// the write when `closeNow` (default: when the request did not ask for keep-alive).
    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                       headers extra: HTTPHeaders, body: [UInt8], contentType: String?, close: Bool, closeNow: Bool? = nil) {
        let keepAlive = head.isKeepAlive && !close
        var headers = extra
        if let contentType { headers.add(name: "content-type", value: contentType) }
        headers.add(name: "content-length", value: String(body.count))
        if let origin = head.headers.first(name: "origin"), core.originAllowed(origin) {
            let any = core.configuration.allowedOrigins.contains("*")
            headers.add(name: "access-control-allow-origin", value: any ? "*" : origin)
            if !any { headers.add(name: "vary", value: "Origin") }
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if head.version.major == 1 && head.version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(Self.wrapOutboundOut(.head(response)), promise: nil)
        if !body.isEmpty {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        lastWrite = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if closeNow ?? !keepAlive { closeAfterWrites(context: context) }
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        guard let lastWrite else { return context.close(promise: nil) }
        lastWrite.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
    }

    /// `127.0.0.1:53122` (or `[::1]:53122`).
    static func describe(_ address: SocketAddress) -> String? {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}
