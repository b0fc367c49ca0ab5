import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Serves one HTTP connection (after NIO's HTTP decoder and pipelining handler, which hands
/// over one request at a time): routes by method and path, applies CORS, the body limit and the
/// endpoints' media types, and runs JSON-RPC bodies through the dispatcher in a task of their
/// own. Refusals at the JSON-RPC path carry JSON-RPC error bodies; everywhere else they are
/// `application/problem+json`. It reports each request's phases to the ``ConnectionGuard``.
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

    /// How a refusal is written: a JSON-RPC error (the JSON-RPC path) or an RFC 9457 problem.
    private enum Form { case jsonRPC, problem }

    private let core: ServerCore
    private let connectionGuard: ConnectionGuard
    private var state = State.idle
    private var form = Form.jsonRPC
    private var body = ByteBuffer()
    private var call: Task<Void, Never>?
    /// The peer as endpoints and the dispatcher see it (`describe`), taken once when the
    /// connection's handler is added, not for every request.
    private var peer: String?
    /// The last response's write, so a close waits for it.
    private var lastWrite: EventLoopFuture<Void>?

    /// Media types geth accepts for JSON-RPC bodies.
    private static let acceptedContentTypes: Set<String> = ["application/json", "application/json-rpc", "application/jsonrequest"]

    init(core: ServerCore, connectionGuard: ConnectionGuard) {
        self.core = core
        self.connectionGuard = connectionGuard
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress.flatMap(Self.describe)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            connectionGuard.requestHeadReceived()
            begin(context: context, head: head)
        case .body(var chunk):
            switch state {
            case .receiving(let head), .receivingForEndpoint(let head, _):
                let limit = core.configuration.maxBodyBytes
                if body.readableBytes + chunk.readableBytes > limit {
                    body = ByteBuffer()
                    reject(context: context, head: head, status: .payloadTooLarge, close: true,
                           "request body too large (> \(limit) bytes)")
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
            if case .calling = state { connectionGuard.requestComplete(callRunning: true) } else { connectionGuard.requestComplete(callRunning: false) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        call?.cancel()
        call = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is RequestBudgetExceeded else { return context.fireUserInboundEventTriggered(event) }
        // The server holds too many unfinished requests: refuse the one being read, then close.
        switch state {
        case .receiving(let head), .receivingForEndpoint(let head, _):
            body = ByteBuffer()
            reject(context: context, head: head, status: .serviceUnavailable, close: true, closeNow: true,
                   "the server is holding too many unfinished requests (\(core.configuration.maxPendingRequestBytes) bytes); send the body at once or retry later")
        case .calling:
            context.close(promise: nil)  // more input while a call runs, past the budget: a flood
        case .idle, .discarding:
            closeAfterWrites(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A refused WebSocket upgrade: the request comes next and is answered with the reason.
        if error is NIOWebSocketUpgradeError { return }
        core.logger.debug("HTTP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Routing

    private func begin(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let configuration = core.configuration
        let path = HTTPRequest.path(ofURI: head.uri)
        let isJSONRPC = path == configuration.path
        form = isJSONRPC ? .jsonRPC : .problem
        if !isJSONRPC, let endpoint = core.routes.endpoint(for: path) {
            return beginForEndpoint(context: context, head: head, endpoint: endpoint)
        }
        guard isJSONRPC else {
            return reject(context: context, head: head, status: .notFound,
                          "no resource at \(path): JSON-RPC is served at \(configuration.path)")
        }
        guard core.originAllowed(head.headers.first(name: "origin"), host: head.headers.first(name: "host")) else {
            return reject(context: context, head: head, status: .forbidden, Self.originRefusal(head))
        }
        switch head.method {
        case .POST:
            let length = head.headers.first(name: "content-length").flatMap { Int($0) }
            if let length, length > configuration.maxBodyBytes {
                return reject(context: context, head: head, status: .payloadTooLarge, close: true,
                              "content length too large (\(length)>\(configuration.maxBodyBytes))")
            }
            guard Self.acceptsContentType(head.headers.first(name: "content-type")) else {
                return reject(context: context, head: head, status: .unsupportedMediaType,
                              "invalid content type, only application/json is supported")
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
            if head.headers.contains(name: "upgrade") {
                // An upgrade the WebSocket upgrader refused: say why rather than answer the health check.
                let why = WebSocketUpgradeCheck.problem(head.headers) ?? (configuration.webSocketEnabled ? "only WebSocket upgrades are served" : "WebSocket is disabled on this server")
                return reject(context: context, head: head, status: .badRequest, close: true, "invalid upgrade request: \(why)")
            }
            if head.headers[canonicalForm: "accept"].contains(where: { $0.lowercased().hasPrefix("text/html") }),
               let home = core.routes.endpoint(for: HTTPRoutes.browserHomePrefix) {
                return beginForEndpoint(context: context, head: head, endpoint: home)  // a browser: the dashboard's home page
            }
            answerWithoutBody(context: context, head: head, status: .ok, headers: [:], body: Self.healthBody)
        default:
            reject(context: context, head: head, status: .methodNotAllowed, headers: ["allow": "POST, GET, OPTIONS"],
                   "method not allowed: POST JSON-RPC calls, GET for the health check")
        }
    }

    /// A request for another endpoint: any method; the body is read (within the limit) and the
    /// endpoint answers. Preflights are answered here, as for JSON-RPC.
    private func beginForEndpoint(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: any HTTPEndpoint) {
        guard core.originAllowed(head.headers.first(name: "origin"), host: head.headers.first(name: "host")) else {
            return reject(context: context, head: head, status: .forbidden, Self.originRefusal(head))
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
                          "the body is \(length) bytes; at most \(core.configuration.maxBodyBytes) are taken")
        }
        let hasBody = (length ?? 0) > 0 || head.headers.contains(name: "transfer-encoding")
        if hasBody && [.POST, .PUT, .PATCH].contains(head.method) {
            let type = HTTPMediaType.of(head.headers.first(name: "content-type"))
            guard let type, endpoint.acceptedBodyTypes.contains(type) else {
                let accepted = endpoint.acceptedBodyTypes.sorted().joined(separator: " or ")
                return reject(context: context, head: head, status: .unsupportedMediaType,
                              "the body's Content-Type is \(type ?? "missing"); send it as \(accepted)")
            }
        }
        body = context.channel.allocator.buffer(capacity: min(length ?? 0, core.configuration.maxBodyBytes))
        state = .receivingForEndpoint(head, endpoint)
    }

    private func serve(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: any HTTPEndpoint, body: ByteBuffer) {
        let (path, query) = HTTPRequest.split(uri: head.uri)
        let request = HTTPRequest(method: head.method.rawValue, path: path, query: query,
                                  headers: head.headers.map { ($0.name.lowercased(), $0.value) },
                                  body: Array(body.readableBytesView), target: head.uri,
                                  remoteAddress: peer)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let answer: @Sendable () async -> Void = {
            let response = await endpoint.respond(to: request)
            loop.execute {
                let (handler, context) = bound.value
                handler.finishCall(context: context, head: head, response: response)
            }
        }
        // An answer that never waits runs on this connection's event loop: no hop to the
        // concurrency pool and back (two thread wake-ups, more than a tag verification costs).
        // (Starting it at once with `Task.immediate` and writing it in the same read was
        // measured slower: replayed taps 14.0 against 17.8 k/s on 16 connections.)
        if endpoint.answersOnEventLoop(request), #available(macOS 15.0, *) {
            call = Task(executorPreference: EventLoopTaskExecutor(loop), operation: answer)
        } else {
            call = Task(operation: answer)
        }
    }

    /// Writes an endpoint's answer (or starts its streamed body) and makes the connection
    /// ready for the next request.
    private func finishCall(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse) {
        call = nil
        guard case .calling = state else { return }
        state = .idle
        var headers = HTTPHeaders()
        var contentType: String?
        for (name, value) in response.headers {
            if name.lowercased() == "content-type" { contentType = value } else { headers.add(name: name, value: value) }
        }
        if let stream = response.stream, head.method != .HEAD {
            state = .calling
            return self.stream(context: context, head: head, status: HTTPResponseStatus(statusCode: response.status),
                               headers: headers, contentType: contentType, stream: stream)
        }
        connectionGuard.responded()  // before the write, which may hand over a pipelined request
        if head.method == .HEAD, response.stream != nil, let length = headers.first(name: "content-length") {
            // A HEAD of a streamed body: its length as the GET would send it, no body.
            headers.remove(name: "content-length")
            return writeHeadOnly(context: context, head: head, status: HTTPResponseStatus(statusCode: response.status),
                                 headers: headers, contentType: contentType, length: length)
        }
        write(context: context, head: head, status: HTTPResponseStatus(statusCode: response.status), headers: headers,
              body: head.method == .HEAD ? [] : response.body, contentType: contentType, close: false)
    }

    /// Sends a streamed body: the head, then each piece the producer writes once the previous
    /// one reached the socket, then the end. A producer that fails part way closes the
    /// connection, so the client sees a truncated body rather than a complete-looking one.
    private func stream(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, headers extra: HTTPHeaders,
                        contentType: String?, stream: HTTPBodyStream) {
        var headers = extra
        if let contentType { headers.add(name: "content-type", value: contentType) }
        let known = headers.contains(name: "content-length")
        if !known { headers.add(name: "transfer-encoding", value: "chunked") }
        addCORS(&headers, head: head)
        let keepAlive = head.isKeepAlive && (known || head.version.minor >= 1)
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.writeAndFlush(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let writer = Self.bodyWriter(channel: context.channel, timeout: .nanoseconds(core.configuration.writeTimeout.nanoseconds))
        call = Self.streamTask(stream: stream, writer: writer, loop: loop, bound: bound, keepAlive: keepAlive)
    }

    private static func streamTask(stream: HTTPBodyStream, writer: HTTPBodyWriter, loop: any EventLoop,
                                   bound: NIOLoopBound<(HTTPRPCHandler, ChannelHandlerContext)>, keepAlive: Bool) -> Task<Void, Never> {
        Task {
            let failed = await produce(stream, into: writer)
            loop.execute {
                let (handler, context) = bound.value
                handler.finishStream(context: context, failed: failed, keepAlive: keepAlive)
            }
        }
    }

    private func finishStream(context: ChannelHandlerContext, failed: Bool, keepAlive: Bool) {
        call = nil
        guard case .calling = state else { return }
        if failed {
            context.close(promise: nil)
            return
        }
        state = .idle
        connectionGuard.responded()
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        lastWrite = written
        if !keepAlive { closeAfterWrites(context: context) }
    }

    /// Writes body parts to `channel`, each awaited until it reached the socket; a part not
    /// written within `timeout` closes the connection.
    private static func bodyWriter(channel: Channel, timeout: TimeAmount) -> HTTPBodyWriter {
        HTTPBodyWriter { bytes in
            let buffer = channel.allocator.buffer(bytes: bytes)
            let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            defer { timer.cancel() }
            try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)))
        }
    }

    /// Runs a producer; true when it failed part way.
    private static func produce(_ stream: HTTPBodyStream, into writer: HTTPBodyWriter) async -> Bool {
        do {
            try await stream.produce(writer)
            return false
        } catch {
            return true
        }
    }

    /// The head of an answer whose body is not sent (HEAD), with the body's length.
    private func writeHeadOnly(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, headers extra: HTTPHeaders,
                               contentType: String?, length: String) {
        var headers = extra
        if let contentType { headers.add(name: "content-type", value: contentType) }
        headers.add(name: "content-length", value: length)
        addCORS(&headers, head: head)
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        lastWrite = written
        if !head.isKeepAlive { closeAfterWrites(context: context) }
    }

    private func addCORS(_ headers: inout HTTPHeaders, head: HTTPRequestHead) {
        if let origin = head.headers.first(name: "origin"), core.originAllowed(origin, host: nil) {
            let any = core.configuration.allowedOrigins.contains("*")
            headers.add(name: "access-control-allow-origin", value: any ? "*" : origin)
            if !any { headers.add(name: "vary", value: "Origin") }
        }
    }

    private static let healthBody: [UInt8] = Array(#"{"status":"ok"}"#.utf8)

    /// Why a request's `Origin` is refused, and what the operator can do about it.
    static func originRefusal(_ head: HTTPRequestHead) -> String {
        "origin \(head.headers.first(name: "origin") ?? "") not allowed: the node serves browsers from other origins only when started with --cors naming them"
    }

    /// `application/json` and geth's other JSON-RPC types, with any parameters (`; charset=utf-8`).
    static func acceptsContentType(_ value: String?) -> Bool {
        HTTPMediaType.of(value).map(acceptedContentTypes.contains) ?? false
    }

    // MARK: Answers

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let core = self.core
        let peer = self.peer
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        call = Task {
            let outcome = await core.dispatcher.respond(to: body, transport: .http, remoteAddress: peer,
                                                        authorization: head.headers.first(name: "authorization"), connection: nil)
            loop.execute {
                let (handler, context) = bound.value
                handler.call = nil
                guard case .calling = handler.state else { return }
                handler.state = .idle
                handler.connectionGuard.responded()  // before the write, which may hand over a pipelined request
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

    /// Answers with an HTTP error status and `detail` (what was wrong, what to do) as a JSON-RPC
    /// error at the JSON-RPC path, as a problem elsewhere; with `close`, the connection closes
    /// once the rest of the request has been read (or at once if it is too large, or `closeNow`).
    private func reject(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                        headers: HTTPHeaders = [:], close: Bool = false, closeNow: Bool = false, _ detail: String) {
        state = .discarding(budget: 4 * core.configuration.maxBodyBytes, close: close || !head.isKeepAlive)
        switch form {
        case .jsonRPC:
            write(context: context, head: head, status: status, headers: headers, body: RPCDispatcher.errorBody(.invalidRequest(detail)),
                  contentType: "application/json", close: close, closeNow: closeNow)
        case .problem:
            let problem = HTTPResponse.problem(status: Int(status.code), detail: detail)
            write(context: context, head: head, status: status, headers: headers, body: problem.body,
                  contentType: "application/problem+json", close: close, closeNow: closeNow)
        }
    }

    /// Writes a whole response. `close` adds `Connection: close`; the connection is closed after
    /// the write when `closeNow` (default: when the request did not ask for keep-alive).
    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus,
                       headers extra: HTTPHeaders, body: [UInt8], contentType: String?, close: Bool, closeNow: Bool? = nil) {
        let keepAlive = head.isKeepAlive && !close
        var headers = extra
        if let contentType { headers.add(name: "content-type", value: contentType) }
        headers.add(name: "content-length", value: String(body.count))
        if let origin = head.headers.first(name: "origin"), core.originAllowed(origin, host: nil) {
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
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        lastWrite = written
        closeUnlessWritten(written, context: context)
        if closeNow ?? !keepAlive { closeAfterWrites(context: context) }
    }

    /// A client that does not read its answer within the write timeout is disconnected, so an
    /// unread answer (up to the answer limit) is not held for longer.
    /// A write that completed at once (the socket took it all, the usual case) needs no timer.
    private func closeUnlessWritten(_ written: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        let done = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        written.whenComplete { _ in done.value = true }
        guard !done.value else { return }
        let channel = context.channel
        let timer = context.eventLoop.scheduleTask(in: .nanoseconds(core.configuration.writeTimeout.nanoseconds)) {
            channel.close(promise: nil)
        }
        written.whenComplete { _ in timer.cancel() }
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


/// Runs a task's jobs on a NIO event loop: for answers that never block (see
/// ``HTTPEndpoint/answersOnEventLoop(_:)``), which then start, resume after their awaits and
/// write on the connection's own thread.
@available(macOS 15.0, *)
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
