import NIOCore
import NIOWebSocket

/// Where an accepted stream upgrade keeps its stream until the pipeline is built.
final class StreamSlot {
    var stream: AsyncStream<String>?
}

/// Serves one upgraded stream connection: each element of the stream is sent as a text
/// message; the stream's end closes the connection (1000), the client's close ends the stream.
/// Pings are answered; anything else the client sends is ignored. Writes wait for the socket
/// to take the previous one, so a slow client slows its stream instead of filling memory.
final class WebSocketStreamHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let stream: AsyncStream<String>
    private var task: Task<Void, Never>?
    private var closing = false

    init(stream: AsyncStream<String>) { self.stream = stream }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel, stream = self.stream
        task = Task {
            for await text in stream {
                var buffer = channel.allocator.buffer(capacity: text.utf8.count)
                buffer.writeString(text)
                do { try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer)).get() } catch { return }
            }
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            _ = try? await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).get()
            _ = try? await channel.close().get()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            guard !closing else { return }
            closing = true
            task?.cancel()
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.write(webSocketErrorCode: code)
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break
        }
    }
}
