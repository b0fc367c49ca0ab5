import KramaaMQTT
import NIOCore
import NIOPosix

/// An MQTT 5.0 / 3.1.1 client over SwiftNIO (TCP or TLS), built on KramaaMQTT's codec.
///
/// - `connect()` with user name and password, or MQTT 5 enhanced authentication (the
///   configuration's `authenticate` closure answers each AUTH challenge); a refusal throws
///   ``MQTTClientError/refused(reasonCode:reason:)`` with what the code means.
/// - `publish` at QoS 0, 1 or 2 returns when the server has acknowledged it (PUBACK, or
///   PUBREC + PUBCOMP), with the reason code; no more than the server's Receive Maximum are
///   unacknowledged at once (the rest wait their turn).
/// - `subscribe` / `unsubscribe` return the server's codes per filter.
/// - `messages` yields what arrives; each is acknowledged as its QoS asks when it is queued
///   for the application, and a QoS 2 message is yielded exactly once (its packet identifier is
///   remembered until PUBREL).
/// - The session lives in the client across connections: after a reconnection (automatic with
///   a ``MQTTReconnectPolicy``, or another `connect()`) unacknowledged publications are resent
///   with DUP set when the server resumed the session, or as new ones when it did not (and the
///   subscriptions are made again).
///
/// All state is confined to one event loop; the public methods hop onto it.
public final class MQTTClient: @unchecked Sendable {
    public let configuration: MQTTClientConfiguration
    /// Received application messages. The stream ends when the client is closed.
    public let messages: AsyncStream<MQTTClientMessage>
    /// Connections made and lost (the newest 64 are kept when nobody reads them).
    public let events: AsyncStream<MQTTClientEvent>
    let loop: EventLoop
    let messageSink: AsyncStream<MQTTClientMessage>.Continuation
    let eventSink: AsyncStream<MQTTClientEvent>.Continuation

    enum State {
        case idle
        case connecting(EventLoopPromise<MQTTConnectResult>)
        case connected
        case waitingToReconnect
        case closed
    }

    /// A publication of QoS 1 or 2 not yet acknowledged.
    final class Outgoing {
        var publish: MQTTPublish
        /// QoS 2: PUBREC received, PUBREL sent, waiting for PUBCOMP.
        var released = false
        let promise: EventLoopPromise<MQTTPublishResult>
        var answered = false

        init(_ publish: MQTTPublish, _ promise: EventLoopPromise<MQTTPublishResult>) {
            self.publish = publish
            self.promise = promise
        }

        func finish(_ result: Result<MQTTPublishResult, MQTTClientError>) {
            guard !answered else { return }
            answered = true
            promise.completeWith(result.mapError { $0 as Error })
        }
    }

    // Loop-confined state.
    var state = State.idle
    var channel: Channel?
    /// Counts connection attempts, so that events of an old channel are told from the current one's.
    var attempt = 0
    var protocolVersion: MQTTVersion
    var clientIdentifier: String
    var serverReceiveMaximum = 65_535
    var serverMaximumQoS: UInt8 = 2
    var serverMaximumPacketSize = Int.max
    var serverRetainAvailable = true
    var keepAlive: UInt16 = 0
    /// In flight (sent, not acknowledged), in the order sent; and waiting for a free slot.
    var inflight: [UInt16: Outgoing] = [:]
    var inflightOrder: [UInt16] = []
    var queued: [Outgoing] = []
    /// SUBSCRIBE / UNSUBSCRIBE waiting for their acknowledgement.
    var pendingAcks: [UInt16: EventLoopPromise<[UInt8]>] = [:]
    /// QoS 2 messages received (PUBREC sent) and not yet released by PUBREL.
    var inboundUnreleased = Set<UInt16>()
    /// What this client subscribed to, made again when a reconnection finds no session.
    var subscriptions: [MQTTSubscriptionRequest] = []
    var nextPacketIdentifier: UInt16 = 1
    var lastSent = NIODeadline.now()
    var pingSent: NIODeadline?
    var keepAliveTask: RepeatedTask?
    var reconnectAttempt = 0
    /// Why the current connection ended (told to those waiting on it).
    var endReason: MQTTClientError?
    var wasConnected = false

    /// A client for `configuration` on `group`'s next loop (NIO's shared group by default).
    public init(configuration: MQTTClientConfiguration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.loop = group.next()
        self.protocolVersion = configuration.version
        self.clientIdentifier = configuration.clientIdentifier
        (messages, messageSink) = AsyncStream.makeStream(of: MQTTClientMessage.self)
        (events, eventSink) = AsyncStream.makeStream(of: MQTTClientEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    deinit {
        messageSink.finish()
        eventSink.finish()
    }

    // MARK: - Public operations

    /// Connects (TCP or TLS, CONNECT, any AUTH steps, CONNACK) and resumes the session's flows.
    @discardableResult
    public func connect() async throws(MQTTClientError) -> MQTTConnectResult {
        try await Self.wait(loop.flatSubmit { self.beginConnecting() })
    }

    /// Publishes `payload` to `topic`; returns once the server acknowledged it (QoS 1, 2) or
    /// it was written (QoS 0). QoS 1 and 2 publications made while a reconnection is pending
    /// wait for it; QoS 0 needs a connection.
    @discardableResult
    public func publish(_ topic: String, _ payload: [UInt8], qos: UInt8 = 0, retain: Bool = false,
                        properties: MQTTProperties = MQTTProperties()) async throws(MQTTClientError) -> MQTTPublishResult {
        do { try MQTTTopic.validateName(topic) } catch { throw .invalidTopic(topic, "\(error)") }
        guard qos <= 2 else { throw .qosNotSupported(requested: qos, maximum: 2) }
        let publish = MQTTPublish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
        return try await Self.wait(loop.flatSubmit { self.enqueue(publish) })
    }

    /// Subscribes; returns the server's code per request (the granted QoS, or a refusal ≥ 0x80).
    public func subscribe(_ requests: [MQTTSubscriptionRequest], properties: MQTTProperties = MQTTProperties()) async throws(MQTTClientError) -> [UInt8] {
        for r in requests {
            do { _ = try MQTTTopic.parseSubscription(r.filter) } catch { throw .invalidTopic(r.filter, "\(error)") }
        }
        return try await Self.wait(loop.flatSubmit {
            self.request { id in MQTTSubscribe(packetIdentifier: id, requests: requests, properties: properties).frame(version: self.protocolVersion) }
                .map { codes in
                    for (r, code) in zip(requests, codes) where code < 0x80 {
                        self.subscriptions.removeAll { $0.filter == r.filter }
                        self.subscriptions.append(r)
                    }
                    return codes
                }
        })
    }

    /// Subscribes to one filter; returns the server's code.
    public func subscribe(_ filter: String, qos: UInt8 = 1) async throws(MQTTClientError) -> UInt8 {
        try await subscribe([MQTTSubscriptionRequest(filter: filter, qos: qos)]).first ?? 0x80
    }

    /// Unsubscribes; returns the server's code per filter (MQTT 3.1.1 has none: all 0).
    public func unsubscribe(_ filters: [String]) async throws(MQTTClientError) -> [UInt8] {
        try await Self.wait(loop.flatSubmit {
            self.subscriptions.removeAll { filters.contains($0.filter) }
            return self.request { id in MQTTUnsubscribe(packetIdentifier: id, filters: filters).frame(version: self.protocolVersion) }
                .map { $0.isEmpty ? Array(repeating: 0, count: filters.count) : $0 }
        })
    }

    /// Sends DISCONNECT (normal disconnection: no will) and closes the connection; the session
    /// stays in the client (and, with a session expiry, in the server) for a later `connect()`.
    public func disconnect() async {
        try? await loop.flatSubmit { self.sendDisconnect() }.get()
    }

    /// Disconnects and ends the client: what waits fails with ``MQTTClientError/closed``, the
    /// streams finish.
    public func close() async {
        await disconnect()
        try? await loop.submit { self.terminate() }.get()
    }

    /// The number of QoS 1/2 publications not yet acknowledged (in flight and waiting).
    public var unacknowledged: Int {
        get async { (try? await loop.submit { self.inflight.count + self.queued.count }.get()) ?? 0 }
    }

    static func wait<T: Sendable>(_ future: EventLoopFuture<T>) async throws(MQTTClientError) -> T {
        do { return try await future.get() } catch let error as MQTTClientError { throw error } catch {
            throw .connectionLost("\(error)")
        }
    }

    // MARK: - Sending (on the loop)

    func enqueue(_ publish: MQTTPublish) -> EventLoopFuture<MQTTPublishResult> {
        switch state {
        case .closed: return loop.makeFailedFuture(MQTTClientError.closed)
        case .idle, .connecting where publish.qos == 0, .waitingToReconnect where publish.qos == 0:
            return loop.makeFailedFuture(MQTTClientError.notConnected)
        case .connected, .connecting, .waitingToReconnect: break
        }
        if wasConnected {
            guard publish.qos <= serverMaximumQoS else {
                return loop.makeFailedFuture(MQTTClientError.qosNotSupported(requested: publish.qos, maximum: serverMaximumQoS))
            }
            guard !publish.retain || serverRetainAvailable else { return loop.makeFailedFuture(MQTTClientError.retainNotSupported) }
        }
        let size = publish.frame(version: protocolVersion).encoded.count
        guard size <= serverMaximumPacketSize else {
            return loop.makeFailedFuture(MQTTClientError.packetTooLarge(size: size, maximum: serverMaximumPacketSize))
        }
        let promise = loop.makePromise(of: MQTTPublishResult.self)
        if publish.qos == 0 {
            write(publish.frame(version: protocolVersion)).whenComplete { result in
                switch result {
                case .success: promise.succeed(MQTTPublishResult(reasonCode: 0))
                case .failure(let error): promise.fail(MQTTClientError.connectionLost("\(error)"))
                }
            }
            return promise.futureResult
        }
        queued.append(Outgoing(publish, promise))
        pump()
        return promise.futureResult
    }

    /// Sends waiting publications while the server's Receive Maximum allows.
    func pump() {
        guard case .connected = state else { return }
        var sent = false
        while inflight.count < serverReceiveMaximum, !queued.isEmpty {
            let out = queued.removeFirst()
            let id = newPacketIdentifier()
            out.publish.packetIdentifier = id
            out.publish.duplicate = false
            inflight[id] = out
            inflightOrder.append(id)
            write(out.publish.frame(version: protocolVersion), flush: false)
            sent = true
        }
        if sent { channel?.flush() }
    }

    /// A SUBSCRIBE or UNSUBSCRIBE with a fresh packet identifier; its acknowledgement's codes.
    func request(_ frame: (UInt16) -> MQTTFrame) -> EventLoopFuture<[UInt8]> {
        guard case .connected = state else {
            return loop.makeFailedFuture(MQTTClientError.notConnected)
        }
        let id = newPacketIdentifier()
        let promise = loop.makePromise(of: [UInt8].self)
        pendingAcks[id] = promise
        write(frame(id))
        return promise.futureResult
    }

    func newPacketIdentifier() -> UInt16 {
        while inflight[nextPacketIdentifier] != nil || pendingAcks[nextPacketIdentifier] != nil || nextPacketIdentifier == 0 {
            nextPacketIdentifier &+= 1
        }
        defer { nextPacketIdentifier &+= 1 }
        return nextPacketIdentifier
    }

    @discardableResult
    func write(_ frame: MQTTFrame, flush: Bool = true) -> EventLoopFuture<Void> {
        guard let channel else { return loop.makeFailedFuture(MQTTClientError.notConnected) }
        lastSent = .now()
        let buffer = channel.allocator.buffer(bytes: frame.encoded)
        return flush ? channel.writeAndFlush(buffer) : channel.write(buffer)
    }

    func sendDisconnect() -> EventLoopFuture<Void> {
        reconnectAttempt = 0
        switch state {
        case .connected:
            state = .idle
            endReason = .closed
            let done = write(MQTTDisconnect().frame(version: protocolVersion))
            let channel = self.channel
            return done.flatMap { channel?.close() ?? self.loop.makeSucceededVoidFuture() }.recover { _ in }
        case .connecting, .waitingToReconnect:
            state = .idle
            endReason = .closed
            return channel?.close().recover { _ in } ?? loop.makeSucceededVoidFuture()
        case .idle, .closed:
            return loop.makeSucceededVoidFuture()
        }
    }

    /// Ends the client for good.
    func terminate() {
        state = .closed
        for out in inflight.values { out.finish(.failure(.closed)) }
        for out in queued { out.finish(.failure(.closed)) }
        inflight.removeAll()
        inflightOrder.removeAll()
        queued.removeAll()
        for promise in pendingAcks.values { promise.fail(MQTTClientError.closed) }
        pendingAcks.removeAll()
        messageSink.finish()
        eventSink.finish()
    }
}
