import KramaaJSON
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// A stream of notifications to one WebSocket client, created by ``RPCContext/subscribe(notificationMethod:)``.
///
/// Each ``send(_:)`` becomes
/// `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":ID,"result":…}}`.
/// A subscription ends when the client unsubscribes, the connection closes, the server drops
/// the connection for falling behind (see ``RPCServer/Configuration/maxWebSocketPendingBytes``)
/// or the server shuts down; then `send` returns `false` and the ``onCancel(_:)`` callbacks run,
/// which is where a producer unregisters itself. `send` never blocks or suspends.
public final class RPCSubscription: Sendable {
    /// The id the client uses: `0x` and 32 hex digits, random (as geth's).
    public let id: String
    private let notificationPrefix: [UInt8]
    private let connection: RPCConnection
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// Notifications held until the answer carrying the id is written; `nil` once active.
        var held: [ByteBuffer]? = []
        var heldBytes = 0
        var cancelled = false
        var onCancel: [@Sendable () -> Void] = []
    }

    init(id: String, notificationMethod: String, connection: RPCConnection) {
        self.id = id
        self.connection = connection
        var writer = JSONWriter(capacity: 96)
        writer.writeRaw(#"{"jsonrpc":"2.0","method":"#)
        writer.writeString(notificationMethod)
        writer.writeRaw(#","params":{"subscription":"#)
        writer.writeString(id)
        writer.writeRaw(#","result":"#)
        self.notificationPrefix = writer.bytes
    }

    /// Whether the subscription has ended; a producer may poll this instead of using callbacks.
    public var isCancelled: Bool { state.withLockedValue { $0.cancelled } }

    /// Queues one notification carrying `result`. Returns `false`, sending nothing, once the
    /// subscription has ended. Serialization happens on the caller's thread.
    @discardableResult
    public func send(_ result: JSON) -> Bool {
        var writer = JSONWriter(capacity: notificationPrefix.count + 256)
        writer.writeRaw(notificationPrefix)
        writer.write(result)
        writer.writeRaw("}}")
        let frame = ByteBuffer(bytes: writer.bytes)
        let sent = state.withLockedValue { state -> Bool in
            if state.cancelled { return false }
            if state.held != nil {
                // Held back frames count against the same limit as queued ones.
                state.heldBytes += frame.readableBytes
                guard state.heldBytes <= connection.maxPendingBytes else { return false }
                state.held!.append(frame)
                return true
            }
            // Sent under the lock so that concurrent senders and activation keep their order.
            return connection.send(frame)
        }
        if !sent && !isCancelled { connection.drop() }
        return sent
    }

    /// Runs `body` once when the subscription ends (at once if it already has).
    public func onCancel(_ body: @escaping @Sendable () -> Void) {
        let runNow = state.withLockedValue { state in
            if state.cancelled { return true }
            state.onCancel.append(body)
            return false
        }
        if runNow { body() }
    }

    /// Ends the subscription from the server side (the client is not told, as in geth).
    public func cancel() {
        _ = connection.removeSubscription(id)
        end()
    }

    /// Marks the subscription ended and runs the callbacks, once.
    func end() {
        let callbacks = state.withLockedValue { state -> [@Sendable () -> Void] in
            if state.cancelled { return [] }
            state.cancelled = true
            state.held = nil
            defer { state.onCancel = [] }
            return state.onCancel
        }
        for callback in callbacks { callback() }
    }

    /// Called after the answer with the id was queued: sends what was held back, in order.
    func activate() {
        state.withLockedValue { state in
            guard let held = state.held, !state.cancelled else { return }
            state.held = nil
            for frame in held where !connection.send(frame) { break }
        }
    }
}

/// One WebSocket connection as subscriptions and responses see it: its subscriptions and its
/// outbound queue, measured so that a client that stops reading cannot grow memory without
/// bound (past ``RPCServer/Configuration/maxWebSocketPendingBytes`` queued, it is disconnected).
final class RPCConnection: Sendable {
    private let channel: Channel
    let maxPendingBytes: Int
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var subscriptions: [String: RPCSubscription] = [:]
        var pendingBytes = 0
        var closed = false
    }

    init(channel: Channel, maxPendingBytes: Int, logger: Logger) {
        self.channel = channel
        self.maxPendingBytes = maxPendingBytes
        self.logger = logger
    }

    /// Queues a text frame. Returns `false` if the connection is closed, or is being closed now
    /// because the client has fallen too far behind.
    @discardableResult
    func send(_ payload: ByteBuffer) -> Bool {
        let size = payload.readableBytes
        let accepted = state.withLockedValue { state -> Bool in
            if state.closed { return false }
            // One message larger than the limit still goes out on an idle connection.
            if state.pendingBytes > 0 && state.pendingBytes + size > maxPendingBytes { return false }
            state.pendingBytes += size
            return true
        }
        guard accepted else {
            // Over the limit (or already closed): drop the client; closing ends its subscriptions.
            drop()
            return false
        }
        // Always through the event loop's queue, even when called on it: the caller may hold a
        // subscription's lock, and a write or close run in place could re-enter it.
        let frame = WebSocketFrame(fin: true, opcode: .text, data: payload)
        channel.eventLoop.execute { [channel, state] in
            channel.writeAndFlush(frame).whenComplete { _ in
                state.withLockedValue { $0.pendingBytes -= size }
            }
        }
        return true
    }

    /// Closes the connection because its client has fallen too far behind.
    func drop() {
        let (wasOpen, pending) = state.withLockedValue { state in
            defer { state.closed = true }
            return (!state.closed, state.pendingBytes)
        }
        guard wasOpen else { return }
        logger.notice("dropping a WebSocket client that is not reading", metadata: [
            "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")", "queuedBytes": "\(pending)", "limit": "\(maxPendingBytes)",
        ])
        channel.eventLoop.execute { [channel] in channel.close(promise: nil) }
    }

    /// Bytes queued and not yet written to the socket.
    var pendingBytes: Int { state.withLockedValue { $0.pendingBytes } }

    func makeSubscription(notificationMethod: String) throws(RPCError) -> RPCSubscription {
        var random = SystemRandomNumberGenerator()
        let id = RPCHex.encodeData((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) })
        let subscription = RPCSubscription(id: id, notificationMethod: notificationMethod, connection: self)
        let added = state.withLockedValue { state -> Bool in
            if state.closed { return false }
            state.subscriptions[id] = subscription
            return true
        }
        guard added else { throw .server("connection closed") }
        return subscription
    }

    func removeSubscription(_ id: String) -> RPCSubscription? {
        state.withLockedValue { $0.subscriptions.removeValue(forKey: id) }
    }

    /// Ends the subscription `id`; `false` if this connection has none by that id.
    func cancelSubscription(_ id: String) -> Bool {
        guard let subscription = removeSubscription(id) else { return false }
        subscription.end()
        return true
    }

    var subscriptionCount: Int { state.withLockedValue { $0.subscriptions.count } }

    /// The channel has closed: end every subscription.
    func closed() {
        let ended = state.withLockedValue { state -> [RPCSubscription] in
            state.closed = true
            defer { state.subscriptions = [:] }
            return Array(state.subscriptions.values)
        }
        for subscription in ended { subscription.end() }
    }
}

/// The subscriptions created while answering one call, so the dispatcher can activate them
/// after the answer is written, or cancel them if the call failed.
final class SubscriptionCollector: Sendable {
    private let created = NIOLockedValueBox<[RPCSubscription]>([])

    func append(_ subscription: RPCSubscription) {
        created.withLockedValue { $0.append(subscription) }
    }

    func take() -> [RPCSubscription] {
        created.withLockedValue { list in
            defer { list = [] }
            return list
        }
    }
}
