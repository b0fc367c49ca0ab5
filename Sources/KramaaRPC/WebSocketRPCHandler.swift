import NIOCore
import NIOWebSocket

/// Serves one upgraded WebSocket connection: each text (or binary) message is a JSON-RPC body,
/// answered by a text message; calls run concurrently, up to
/// ``RPCServer/Configuration/maxWebSocketConcurrentCalls``, beyond which reading pauses. Pings
/// are answered, a close is echoed, and closing the connection ends its subscriptions.
final class WebSocketRPCHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let core: ServerCore
    private let connection: RPCConnection
    private var calls: [Int: Task<Void, Never>] = [:]
    private var nextCall = 0
    /// A read was asked for while too many calls were running.
    private var readPending = false
    /// The server is shutting down: no new calls; close once the running ones are answered.
    private var quiescing = false
    /// A close frame has been sent.
    private var closing = false

    /// The upgrade request's `Authorization` header: the connection's credentials.
    private let authorization: String?

    init(core: ServerCore, channel: Channel, authorization: String? = nil) {
        self.core = core
        self.authorization = authorization
        self.connection = RPCConnection(channel: channel, maxPendingBytes: core.configuration.maxWebSocketPendingBytes,
                                        logger: core.logger)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard !closing, !quiescing else { return }
            dispatch(context: context, payload: frame.unmaskedData)
        case .ping:
            guard !closing else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the client's status code, then close.
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            sendClose(context: context, code: code)
        default:
            break
        }
    }

    func read(context: ChannelHandlerContext) {
        if calls.count >= core.configuration.maxWebSocketConcurrentCalls {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.closed()
        for call in calls.values { call.cancel() }
        calls = [:]
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestBudgetExceeded {
            // The server holds too many unfinished messages: 1013, try again later.
            return sendClose(context: context, code: .unknown(1013))
        }
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        quiescing = true
        if calls.isEmpty { sendClose(context: context, code: .goingAway) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            sendClose(context: context, code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            sendClose(context: context, code: .protocolError)
        default:
            core.logger.debug("WebSocket connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func dispatch(context: ChannelHandlerContext, payload: ByteBuffer) {
        let id = nextCall
        nextCall += 1
        let core = self.core
        let connection = self.connection
        let authorization = self.authorization
        let remote = context.channel.remoteAddress.flatMap(HTTPRPCHandler.describe)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        // The task reports back through the event loop, after this assignment has happened.
        calls[id] = Task {
            let outcome = await core.dispatcher.respond(to: payload, transport: .webSocket, remoteAddress: remote, authorization: authorization,
                                                        connection: connection)
            if let body = outcome.body { connection.send(ByteBuffer(bytes: body)) }
            for subscription in outcome.subscriptions { subscription.activate() }
            loop.execute {
                let (handler, context) = bound.value
                handler.finished(call: id, context: context)
            }
        }
    }

    private func finished(call id: Int, context: ChannelHandlerContext) {
        guard calls.removeValue(forKey: id) != nil else { return }
        if readPending && calls.count < core.configuration.maxWebSocketConcurrentCalls {
            readPending = false
            context.read()
        }
        if quiescing && calls.isEmpty { sendClose(context: context, code: .goingAway) }
    }

    /// Sends a close frame with `code` and closes the connection once it is written.
    private func sendClose(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !closing else { return }
        closing = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }
}
