import KramaaBroker
import KramaaMQTT
import NIOCore

/// The broker and the event loop it is confined to, with the work done after each batch of
/// reads: commit the journal (releasing held acknowledgements), then flush every connection
/// written to. All MQTT connections of a server run on this one loop (as mosquitto's).
final class BrokerHost: @unchecked Sendable {
    let loop: EventLoop
    let broker: Broker
    private var dirty: [MQTTConnectionHandler] = []
    private var finishScheduled = false

    init(loop: EventLoop, broker: Broker) {
        self.loop = loop
        self.broker = broker
    }

    func wrote(_ handler: MQTTConnectionHandler) { dirty.append(handler) }

    /// Commits and flushes now (end of a read batch, a tick).
    func finishBatch() {
        finishScheduled = false
        broker.commit()
        let flushing = dirty
        dirty.removeAll(keepingCapacity: true)
        for h in flushing { h.flush() }
    }

    /// Commits and flushes once the loop has run what is queued (work from outside a read).
    func finishSoon() {
        guard !finishScheduled else { return }
        finishScheduled = true
        loop.execute { self.finishBatch() }
    }
}

/// One client connection's bytes: cuts MQTT packets from the stream (refusing one over the
/// broker's maximum packet size as soon as its header says so) and hands them to the broker;
/// writes what the broker sends. Runs behind TLS or a WebSocket adapter unchanged.
final class MQTTConnectionHandler: ChannelInboundHandler, MQTTConnectionSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let host: BrokerHost
    private var context: ChannelHandlerContext?
    private var id: UInt64 = 0
    private var buffer: [UInt8] = []
    private var closing = false
    private var written = false

    init(host: BrokerHost) { self.host = host }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { opened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if id == 0 { opened(context) }
        context.fireChannelActive()
    }

    private func opened(_ context: ChannelHandlerContext) {
        id = host.broker.open(self, remote: context.channel.remoteAddress.map { "\($0)" } ?? "?")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let bytes = Self.unwrapInboundIn(data)
        buffer.append(contentsOf: bytes.readableBytesView)
        var at = 0
        do {
            while !closing, let (frame, size) = try MQTTFrame.next(in: buffer, from: at, maximumSize: host.broker.configuration.maximumPacketSize) {
                at += size
                host.broker.receive(frame, on: id)
            }
        } catch {
            host.broker.malformed(id, error)
            buffer.removeAll()
            return
        }
        if at == buffer.count { buffer.removeAll(keepingCapacity: buffer.count < 65_536) } else if at > 0 { buffer.removeFirst(at) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        host.finishBatch()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        host.broker.connectionLost(id)
        host.finishBatch()
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: MQTTConnectionSink

    func send(_ frame: MQTTFrame) {
        guard let context, !closing else { return }
        context.write(Self.wrapOutboundOut(ByteBuffer(bytes: frame.encoded)), promise: nil)
        if !written {
            written = true
            host.wrote(self)
        }
    }

    var isCongested: Bool { !(context?.channel.isWritable ?? true) }

    func close() {
        guard let context, !closing else { return }
        closing = true
        // What was written goes out first; then the socket closes.
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer()), promise: done)
        done.futureResult.whenComplete { _ in context.close(promise: nil) }
    }

    func flush() {
        written = false
        context?.flush()
    }
}
