import NIOCore
import NIOHTTP1
import NIOWebSocket

/// After the upgrade: WebSocket binary frames in, their bytes out to the MQTT handler (an MQTT
/// packet may span frames, and a frame may hold several); bytes from the MQTT handler out as
/// binary frames. Pings are answered; a close is answered and ends the connection.
final class WebSocketByteStream: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation:
            context.fireChannelRead(Self.wrapInboundOut(frame.unmaskedData))
        case .ping:
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            guard !closeSent else { return context.close(promise: nil) }
            closeSent = true
            let data = frame.data.readSlice(length: min(2, frame.data.readableBytes)) ?? ByteBuffer()
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
                context.close(promise: nil)
            }
        case .text:
            // MQTT over WebSocket is binary only (MQTT 5 §6.0.0-1): close with 1003.
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .unacceptableData)
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // An empty buffer (written to learn when what precedes it is out) is an empty binary frame: no MQTT bytes.
        let bytes = Self.unwrapOutboundIn(data)
        context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: bytes)), promise: promise)
    }
}

/// Before the upgrade: anything but a WebSocket upgrade offering `mqtt` is answered 400.
final class WebSocketOnly: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = Self.unwrapInboundIn(data) else { return }
        let body = "MQTT over WebSocket: upgrade with Sec-WebSocket-Protocol: mqtt\n"
        var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Connection", "close")])
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
