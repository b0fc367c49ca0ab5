import KramaaMQTT
import NIOCore
import NIOPosix
import NIOSSL

/// The connection's life on the loop: dial, CONNECT and AUTH, CONNACK, keep-alive, loss and
/// reconnection.
extension MQTTClient {
    func beginConnecting() -> EventLoopFuture<MQTTConnectResult> {
        switch state {
        case .closed: return loop.makeFailedFuture(MQTTClientError.closed)
        case .connecting(let promise): return promise.futureResult
        case .connected: return loop.makeSucceededFuture(currentResult(sessionPresent: true, properties: MQTTProperties()))
        case .idle, .waitingToReconnect: break
        }
        attempt += 1
        let current = attempt
        let promise = loop.makePromise(of: MQTTConnectResult.self)
        state = .connecting(promise)
        endReason = nil
        let endpoint = configuration.endpoint
        let tls: NIOSSLContext?
        do { tls = try endpoint.tls ? makeTLSContext() : nil } catch {
            state = .idle
            promise.fail(error)
            return promise.futureResult
        }
        let serverName = configuration.tlsServerName ?? endpoint.host
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(configuration.connectTimeout.nanoseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let name = serverName.first?.isNumber == true || serverName.contains(":") ? nil : serverName
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHandler(MQTTClientChannelHandler(client: self, attempt: current))
                }
            }
        bootstrap.connect(host: endpoint.host, port: endpoint.port).whenComplete { result in
            guard self.attempt == current, case .connecting = self.state else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                return
            }
            switch result {
            case .success(let channel):
                self.channel = channel
                self.write(self.configuration.connectPacket(clientIdentifier: self.clientIdentifier).frame)
            case .failure(let error):
                self.failAttempt(.cannotConnect(endpoint: endpoint.description, reason: "\(error)"))
            }
        }
        loop.scheduleTask(in: .nanoseconds(configuration.connectTimeout.nanoseconds)) {
            guard self.attempt == current, case .connecting = self.state else { return }
            self.failAttempt(.timeout("no CONNACK from \(endpoint) within \(self.configuration.connectTimeout)"))
        }
        return promise.futureResult
    }

    private func makeTLSContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = configuration.tlsCAFile {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) } catch {
                throw MQTTClientError.tls("cannot read the CA file \(ca): \(error)")
            }
        }
        do { return try NIOSSLContext(configuration: tls) } catch { throw MQTTClientError.tls("\(error)") }
    }

    /// The connection attempt failed before CONNACK accepted it.
    func failAttempt(_ error: MQTTClientError) {
        guard case .connecting(let promise) = state else { return }
        endReason = error
        state = .idle
        let channel = self.channel
        self.channel = nil
        channel?.close(promise: nil)
        promise.fail(error)
        if wasConnected { scheduleReconnect() }
    }

    func currentResult(sessionPresent: Bool, properties: MQTTProperties) -> MQTTConnectResult {
        MQTTConnectResult(sessionPresent: sessionPresent, clientIdentifier: clientIdentifier, receiveMaximum: serverReceiveMaximum,
                          maximumQoS: serverMaximumQoS, keepAlive: keepAlive, properties: properties)
    }

    // MARK: - Receiving

    /// One packet from the server (on the loop), from the channel of attempt `from`.
    func received(_ frame: MQTTFrame, from current: Int) {
        guard current == attempt else { return }
        do {
            switch (state, frame.type) {
            case (.connecting, .connack): try connectionAccepted(MQTTConnAck(body: frame.body, version: protocolVersion))
            case (.connecting, .auth): try authenticationStep(MQTTAuth(body: frame.body), attempt: current)
            case (_, .disconnect):
                let d = try MQTTDisconnect(body: frame.body, version: protocolVersion)
                lose(.disconnectedByServer(reasonCode: d.reasonCode, reason: d.properties.string(.reasonString)))
            case (.connected, _): try dispatch(frame)
            default: throw MQTTDecodingError.protocolError("\(frame.type) before CONNACK")
            }
        } catch let error as MQTTDecodingError {
            violation(error)
        } catch let error as MQTTClientError {
            lose(error)
        } catch {
            lose(.protocolViolation("\(error)"))
        }
    }

    private func dispatch(_ frame: MQTTFrame) throws {
        switch frame.type {
        case .publish: try incoming(MQTTPublish(frame: frame, version: protocolVersion))
        case .puback, .pubrec, .pubcomp: try acknowledged(MQTTAck(frame: frame, version: protocolVersion))
        case .pubrel:
            let ack = try MQTTAck(frame: frame, version: protocolVersion)
            let known = inboundUnreleased.remove(ack.packetIdentifier) != nil
            write(MQTTAck(.pubcomp, packetIdentifier: ack.packetIdentifier, reasonCode: known ? 0 : 0x92).frame(version: protocolVersion))
        case .suback, .unsuback:
            let ack = try MQTTSubscribeAck(frame: frame, version: protocolVersion)
            pendingAcks.removeValue(forKey: ack.packetIdentifier)?.succeed(ack.reasonCodes)
        case .pingresp: pingSent = nil
        case .auth: throw MQTTDecodingError.protocolError("re-authentication was not asked for")
        default: throw MQTTDecodingError.protocolError("\(frame.type) from a server")
        }
    }

    /// An application message: to the stream, acknowledged as its QoS asks; a QoS 2 message
    /// whose identifier is still unreleased is a resend and is not yielded again.
    private func incoming(_ publish: MQTTPublish) throws {
        guard !publish.topic.isEmpty else { throw MQTTDecodingError.protocolError("a topic alias this client did not allow") }
        let message = MQTTClientMessage(topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain,
                                        properties: publish.properties)
        switch (publish.qos, publish.packetIdentifier) {
        case (1, let id?):
            messageSink.yield(message)
            write(MQTTAck(.puback, packetIdentifier: id).frame(version: protocolVersion))
        case (2, let id?):
            if inboundUnreleased.insert(id).inserted { messageSink.yield(message) }
            write(MQTTAck(.pubrec, packetIdentifier: id).frame(version: protocolVersion))
        default:
            messageSink.yield(message)
        }
    }

    private func acknowledged(_ ack: MQTTAck) throws {
        guard let out = inflight[ack.packetIdentifier] else { return }  // a late answer to a message already settled
        let result = MQTTPublishResult(reasonCode: ack.reasonCode, reasonString: ack.properties.string(.reasonString))
        switch (ack.type, out.publish.qos) {
        case (.puback, 1), (.pubcomp, 2): settle(ack.packetIdentifier, result)
        case (.pubrec, 2):
            if ack.reasonCode >= 0x80 { return settle(ack.packetIdentifier, result) }
            out.released = true
            write(MQTTAck(.pubrel, packetIdentifier: ack.packetIdentifier).frame(version: protocolVersion))
        default:
            throw MQTTDecodingError.protocolError("\(ack.type) for a QoS \(out.publish.qos) message")
        }
    }

    private func settle(_ id: UInt16, _ result: MQTTPublishResult) {
        guard let out = inflight.removeValue(forKey: id) else { return }
        if let at = inflightOrder.firstIndex(of: id) { inflightOrder.remove(at: at) }
        out.finish(.success(result))
        pump()
    }

    private func authenticationStep(_ auth: MQTTAuth, attempt current: Int) throws {
        guard auth.reasonCode == 0x18, let method = configuration.authenticationMethod, auth.method == method else {
            throw MQTTClientError.authenticationFailed("the server sent AUTH \(MQTTReasonCode.describe(auth.reasonCode)) with method \(auth.method ?? "none")")
        }
        guard let authenticate = configuration.authenticate else {
            throw MQTTClientError.authenticationFailed("the server sent a \(method) challenge and this client has no answer to it")
        }
        let challenge = auth.data
        Task {
            do {
                let answer = try await authenticate(challenge)
                self.loop.execute {
                    guard self.attempt == current, case .connecting = self.state else { return }
                    var properties = MQTTProperties()
                    properties.append(.authenticationMethod, .string(method))
                    properties.append(.authenticationData, .binary(answer))
                    self.write(MQTTAuth(reasonCode: 0x18, properties: properties).frame)
                }
            } catch {
                self.loop.execute {
                    guard self.attempt == current else { return }
                    self.failAttempt(.authenticationFailed("answering the \(method) challenge: \(error)"))
                }
            }
        }
    }

    /// CONNACK: refused, or the session settled and its flows resumed.
    private func connectionAccepted(_ ack: MQTTConnAck) throws {
        guard case .connecting(let promise) = state else { return }
        let code = protocolVersion == .v5 ? ack.reasonCode : MQTTReasonCode.fromConnectReturnCode311(ack.reasonCode)
        guard code == 0 else {
            return failAttempt(.refused(reasonCode: code, reason: ack.properties.string(.reasonString)))
        }
        let p = ack.properties
        serverReceiveMaximum = Int(p.uint16(.receiveMaximum) ?? 65_535)
        serverMaximumQoS = p.byte(.maximumQoS) ?? 2
        serverMaximumPacketSize = p.uint32(.maximumPacketSize).map(Int.init) ?? Int.max
        serverRetainAvailable = p.byte(.retainAvailable) != 0
        keepAlive = p.uint16(.serverKeepAlive) ?? configuration.keepAlive
        if let assigned = p.string(.assignedClientIdentifier) { clientIdentifier = assigned }
        state = .connected
        let resumed = wasConnected
        wasConnected = true
        reconnectAttempt = 0
        resume(sessionPresent: ack.sessionPresent, resubscribe: resumed)
        startKeepAlive()
        let result = currentResult(sessionPresent: ack.sessionPresent, properties: p)
        eventSink.yield(.connected(result))
        promise.succeed(result)
    }

    /// After CONNACK: resend what was unacknowledged — with DUP and the same identifiers when
    /// the server kept the session; as new publications when it did not (a QoS 2 message already
    /// released was received by the server and is settled).
    private func resume(sessionPresent: Bool, resubscribe: Bool) {
        if sessionPresent {
            for id in inflightOrder {
                guard let out = inflight[id] else { continue }
                if out.released {
                    write(MQTTAck(.pubrel, packetIdentifier: id).frame(version: protocolVersion), flush: false)
                } else {
                    out.publish.duplicate = true
                    write(out.publish.frame(version: protocolVersion), flush: false)
                }
            }
        } else {
            inboundUnreleased.removeAll()
            var again: [Outgoing] = []
            for id in inflightOrder {
                guard let out = inflight[id] else { continue }
                if out.released { out.finish(.success(MQTTPublishResult(reasonCode: 0))) } else { again.append(out) }
            }
            inflight.removeAll()
            inflightOrder.removeAll()
            queued = again + queued
            if resubscribe && !subscriptions.isEmpty {
                let requests = subscriptions
                _ = request { id in MQTTSubscribe(packetIdentifier: id, requests: requests).frame(version: self.protocolVersion) }
            }
        }
        channel?.flush()
        pump()
    }

    // MARK: - Keep-alive and loss

    private func startKeepAlive() {
        keepAliveTask?.cancel()
        pingSent = nil
        guard keepAlive > 0 else { return }
        let period = Int64(keepAlive) * 1_000
        let current = attempt
        keepAliveTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(max(100, period / 4)), delay: .milliseconds(max(100, period / 4))) { task in
            guard self.attempt == current, case .connected = self.state else { return task.cancel() }
            let now = NIODeadline.now()
            if let sent = self.pingSent, now - sent > .milliseconds(period) {
                return self.lose(.connectionLost("no PINGRESP within the keep-alive of \(self.keepAlive) s"))
            }
            if self.pingSent == nil, now - self.lastSent >= .milliseconds(period * 3 / 4) {
                self.pingSent = now
                self.write(MQTTFrame(type: .pingreq))
            }
        }
    }

    /// The server sent something that is not MQTT: tell it (MQTT 5) and close.
    private func violation(_ error: MQTTDecodingError) {
        if case .connected = state, protocolVersion == .v5 {
            write(MQTTDisconnect(reasonCode: error.reasonCode).frame(version: .v5))
        }
        lose(.protocolViolation("\(error)"))
    }

    /// Ends the current connection with `error` as its reason.
    func lose(_ error: MQTTClientError) {
        if case .connecting = state { return failAttempt(error) }
        if endReason == nil { endReason = error }
        channel?.close(promise: nil)
    }

    /// The channel of attempt `from` closed.
    func channelClosed(from current: Int) {
        guard current == attempt else { return }
        channel = nil
        keepAliveTask?.cancel()
        keepAliveTask = nil
        let reason = endReason ?? .connectionLost("the server closed the connection")
        for promise in pendingAcks.values { promise.fail(reason) }
        pendingAcks.removeAll()
        switch state {
        case .connecting: failAttempt(reason)
        case .connected:
            state = .idle
            eventSink.yield(.disconnected(reason))
            if configuration.reconnect != nil {
                scheduleReconnect()
            } else {
                // Nobody will reconnect: those waiting learn it now; the messages stay in the
                // session and are resent if `connect()` is called again.
                for out in inflight.values { out.finish(.failure(reason)) }
                for out in queued { out.finish(.failure(reason)) }
            }
        case .idle, .waitingToReconnect, .closed: break
        }
    }

    func scheduleReconnect() {
        guard let policy = configuration.reconnect, case .idle = state, endReason != .closed else { return }
        let delay = policy.delay(attempt: reconnectAttempt)
        eventSink.yield(.reconnecting(attempt: reconnectAttempt, delay: delay))
        reconnectAttempt += 1
        state = .waitingToReconnect
        loop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) {
            guard case .waitingToReconnect = self.state else { return }
            _ = self.beginConnecting()
        }
    }

    /// Closes the socket without DISCONNECT, as a network failure would (tests).
    func abortConnection() async {
        try? await loop.submit { self.channel?.close(promise: nil) }.get()
    }
}

/// Cuts MQTT packets from the connection's bytes and hands them to the client.
final class MQTTClientChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let client: MQTTClient
    private let attempt: Int
    private var buffer: [UInt8] = []

    init(client: MQTTClient, attempt: Int) {
        self.client = client
        self.attempt = attempt
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffer.append(contentsOf: Self.unwrapInboundIn(data).readableBytesView)
        var at = 0
        do {
            while let (frame, size) = try MQTTFrame.next(in: buffer, from: at) {
                at += size
                client.received(frame, from: attempt)
            }
        } catch {
            buffer.removeAll()
            client.lose(.protocolViolation("\(error)"))
            return
        }
        if at == buffer.count { buffer.removeAll(keepingCapacity: true) } else if at > 0 { buffer.removeFirst(at) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.channelClosed(from: attempt)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.lose(.connectionLost("\(error)"))
        context.close(promise: nil)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
