import KramaaBroker
import KramaaMQTT
import NIOCore

/// The broker and the event loop it is confined to, with the work done after each batch of
/// reads: commit the journal (releasing held acknowledgements), then flush every connection
/// written to. All MQTT connections of a server run on this one loop (as mosquitto's).
final class BrokerHost: @unchecked Sendable {
    let loop: EventLoop
    let broker: Broker
    /// Signature checks ahead of the broker, off the loop (nil: none).
    let preverification: PreverificationPool?
    private var dirty: [MQTTConnectionHandler] = []
    private var finishScheduled = false

    init(loop: EventLoop, broker: Broker, preverification: PreverificationPool? = nil) {
        self.loop = loop
        self.broker = broker
        self.preverification = preverification
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
///
/// A PUBLISH the server preverifies (``PayloadPreverifier``) is held until its check returns,
/// and every later packet of the connection waits behind it, so the broker sees the client's
/// packets in the order sent; reading pauses while too many wait.
final class MQTTConnectionHandler: ChannelInboundHandler, MQTTConnectionSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A packet (or the stream's decoding error) waiting for the broker.
    private final class Held {
        let item: Result<MQTTFrame, MQTTDecodingError>
        var ready: Bool
        init(_ item: Result<MQTTFrame, MQTTDecodingError>, ready: Bool) {
            self.item = item
            self.ready = ready
        }
    }
    /// Reading pauses with this many packets held, and resumes once they are down to a quarter.
    static let maximumHeld = 256

    private let host: BrokerHost
    private var context: ChannelHandlerContext?
    private var id: UInt64 = 0
    private var buffer: [UInt8] = []
    private var closing = false
    private var written = false
    private var held = CircularBuffer<Held>()
    /// The stream broke (malformed): nothing more is read from it.
    private var broken = false
    /// The connection ended while packets were held: the broker hears of it after them.
    private var lost = false
    private var readingPaused = false

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
        guard !closing, !broken else { return }
        let bytes = Self.unwrapInboundIn(data)
        buffer.append(contentsOf: bytes.readableBytesView)
        var at = 0
        do {
            while !closing, let (frame, size) = try MQTTFrame.next(in: buffer, from: at, maximumSize: host.broker.configuration.maximumPacketSize) {
                at += size
                hand(frame)
            }
        } catch {
            broken = true
            buffer.removeAll()
            if held.isEmpty { host.broker.malformed(id, error) } else { held.append(Held(.failure(error), ready: true)) }
            return
        }
        if at == buffer.count { buffer.removeAll(keepingCapacity: buffer.count < 65_536) } else if at > 0 { buffer.removeFirst(at) }
    }

    /// Gives `frame` to the broker now, or holds it behind a preverification (its own or an
    /// earlier packet's).
    private func hand(_ frame: MQTTFrame) {
        let check = host.preverification?.start(frame, version: host.broker.protocolVersion(of: id), on: host.loop)
        guard check != nil || !held.isEmpty else {
            host.broker.receive(frame, on: id)
            return
        }
        let packet = Held(.success(frame), ready: check == nil)
        held.append(packet)
        if let check {
            // The check completes on the broker's loop, where this handler lives.
            let bound = NIOLoopBound((handler: self, packet: packet), eventLoop: host.loop)
            check.whenComplete { _ in
                bound.value.packet.ready = true
                bound.value.handler.release()
            }
        }
        if held.count >= Self.maximumHeld, !readingPaused, let context {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    /// Gives the broker the held packets whose turn has come.
    private func release() {
        while let first = held.first, first.ready {
            held.removeFirst()
            switch first.item {
            case .success(let frame): host.broker.receive(frame, on: id)
            case .failure(let error): host.broker.malformed(id, error)
            }
        }
        if held.isEmpty && lost { host.broker.connectionLost(id) }
        if readingPaused, held.count <= Self.maximumHeld / 4, let context {
            readingPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        host.finishSoon()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        host.finishBatch()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        // Packets the client sent before it went are the broker's first (a QoS 0 message, a
        // DISCONNECT that withdraws the will).
        if held.isEmpty { host.broker.connectionLost(id) } else { lost = true }
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
