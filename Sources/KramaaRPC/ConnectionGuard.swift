import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// The server-wide bound on memory held for requests that have not fully arrived: the bytes
/// of unfinished HTTP requests and WebSocket messages across all connections, beyond the first
/// ``ConnectionGuard/freeBytesPerMessage`` of each (so a small request always gets through while
/// large ones fill the budget). Without it, 100 clients each sending 5 MB bodies and stopping
/// short held 430 MB.
final class RequestBudget: Sendable {
    let limit: Int
    private let held = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` from the budget; false (nothing taken) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        held.withLockedValue { held in
            guard held + bytes <= limit else { return false }
            held += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        held.withLockedValue { $0 -= bytes }
    }

    /// Bytes held now (for tests and metrics).
    var inUse: Int { held.withLockedValue { $0 } }
}

/// Told to the handlers behind ``ConnectionGuard`` when a read would pass the server's
/// ``RequestBudget``: the HTTP handler answers 503 and closes, the WebSocket handler closes
/// with 1013 (try again later). The bytes of that read are dropped.
struct RequestBudgetExceeded: Sendable {}

/// First handler of every connection: sees the raw bytes as they arrive, charges them to the
/// server's ``RequestBudget`` until the request or message they belong to is complete, and keeps
/// one deadline per phase of the connection, so a client that trickles bytes cannot hold a
/// connection (slowloris):
///
/// - idle (between requests): ``RPCServer/Configuration/idleTimeout``;
/// - a new connection, or a request head started: the whole head within
///   ``RPCServer/Configuration/headerTimeout`` (a connection that never sends a request is
///   dropped as soon as one that trickles it);
/// - the head arrived: the whole body within ``RPCServer/Configuration/bodyTimeout``;
/// - the call runs: no deadline (the call's own limits apply);
/// - WebSocket: no deadline between messages; a message started must be complete within the
///   body timeout.
///
/// The handlers behind it report the phases (``requestHeadReceived()``, ``requestComplete(callRunning:)``,
/// ``responded()``, ``webSocketUpgraded()``, ``webSocketMessageComplete()``). A deadline passed
/// closes the connection.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase: Equatable {
        case idle, head, body, working, webSocketIdle, webSocketMessage
    }

    /// Bytes of each request or message not charged to the budget: a request head or a small
    /// call is never refused because others hold the budget (the deadlines bound these).
    static let freeBytesPerMessage = 16 * 1024

    private let budget: RequestBudget
    private let configuration: RPCServer.Configuration
    private var phase = Phase.head
    /// Bytes received for the request or message being received.
    private var received = 0
    /// Of those, the bytes charged to the budget.
    private var held = 0
    /// A read was refused by the budget: everything after it is dropped.
    private var refused = false
    /// When the current phase must be over; nil when it has no deadline.
    private var deadline: NIODeadline?
    /// The one scheduled check of `deadline`, and when it runs.
    private var timer: Scheduled<Void>?
    private var timerFires = NIODeadline.distantFuture
    private var context: ChannelHandlerContext?

    init(budget: RequestBudget, configuration: RPCServer.Configuration) {
        self.budget = budget
        self.configuration = configuration
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { enter(.head) }
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(.head)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        received += Self.unwrapInboundIn(data).readableBytes
        let charge = max(0, received - Self.freeBytesPerMessage) - held
        guard charge <= 0 || budget.reserve(charge) else {
            refused = true
            timer?.cancel()
            context.fireUserInboundEventTriggered(RequestBudgetExceeded())
            return
        }
        held += max(charge, 0)
        switch phase {
        case .idle: enter(.head)
        case .webSocketIdle: enter(.webSocketMessage)
        default: break
        }
        context.fireChannelRead(data)
    }

    // MARK: Phases, as the handlers behind report them

    /// An HTTP request head was decoded: its body is next.
    func requestHeadReceived() { enter(.body) }

    /// An HTTP request was read to its end; `callRunning` while the server works on it (no
    /// deadline until ``responded()``), otherwise the connection is idle again.
    func requestComplete(callRunning: Bool) {
        releaseHeld()
        enter(callRunning ? .working : .idle)
    }

    /// The answer to the current request was written: the connection is idle again.
    func responded() {
        guard phase == .working else { return }
        enter(.idle)
    }

    /// The connection became a WebSocket.
    func webSocketUpgraded() {
        releaseHeld()
        enter(.webSocketIdle)
    }

    /// A whole WebSocket message (or a control frame between messages) was received.
    func webSocketMessageComplete() {
        releaseHeld()
        enter(.webSocketIdle)
    }

    // MARK: Deadlines

    /// Sets the deadline of the phase entered. The timer is moved only when the new deadline
    /// comes before it fires; otherwise it stays, and when it fires it closes the connection if
    /// the deadline has passed, or waits again until it. So a request on a busy connection
    /// schedules no timer (three scheduled and cancelled per request before: idle, head, body).
    private func enter(_ next: Phase) {
        guard next != phase || deadline == nil else { return }
        phase = next
        deadline = nil
        guard !refused, let context else { return }
        let timeout: Duration? = switch next {
        case .idle: configuration.idleTimeout
        case .head: configuration.headerTimeout
        case .body, .webSocketMessage: configuration.bodyTimeout
        case .working, .webSocketIdle: nil
        }
        guard let timeout else { return }  // a timer still armed finds no deadline when it fires
        let due = NIODeadline.now() + .nanoseconds(timeout.nanoseconds)
        deadline = due
        if timer != nil && timerFires <= due { return }
        timer?.cancel()
        arm(at: due, context: context)
    }

    private func arm(at due: NIODeadline, context: ChannelHandlerContext) {
        timerFires = due
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = bound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard let deadline, !refused else { return }
        if deadline <= .now() { context.close(promise: nil) } else { arm(at: deadline, context: context) }
    }

    private func releaseHeld() {
        budget.release(held)
        held = 0
        received = 0
    }

    private func finish() {
        timer?.cancel()
        timer = nil
        deadline = nil
        releaseHeld()
    }
}

/// Sits before the WebSocket frame aggregator and tells the ``ConnectionGuard`` when a message
/// is complete: a final data frame, or a control frame while no fragmented message is open.
final class WebSocketMessageWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    private let connectionGuard: ConnectionGuard
    private var fragmenting = false

    init(connectionGuard: ConnectionGuard) { self.connectionGuard = connectionGuard }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            fragmenting = !frame.fin
            if frame.fin { connectionGuard.webSocketMessageComplete() }
        default:
            if !fragmenting { connectionGuard.webSocketMessageComplete() }
        }
        context.fireChannelRead(data)
    }
}

extension Duration {
    /// Whole nanoseconds (for NIO's `TimeAmount`).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
