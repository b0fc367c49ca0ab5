import KramaaMQTT

extension Broker {
    /// CONNECT (§3.1.4): validate, authenticate (possibly over AUTH steps), then take over or
    /// start the session.
    func connect(_ c: Connection, _ connect: MQTTConnect) throws {
        c.version = connect.version
        if let will = connect.will {
            try validateWill(will)
        }
        if connect.version == .v5, let max = connect.properties.uint16(.receiveMaximum), max == 0 {
            throw MQTTDecodingError.protocolError("Receive Maximum 0")
        }
        if connect.version == .v5, let max = connect.properties.uint32(.maximumPacketSize), max == 0 {
            throw MQTTDecodingError.protocolError("Maximum Packet Size 0")
        }
        if connections.count > configuration.maximumConnections {
            return refuse(c, 0x89, "more than \(configuration.maximumConnections) connections")
        }
        if connect.clientIdentifier.isEmpty && !connect.cleanStart && connect.version == .v311 {
            return refuse(c, 0x85, "an empty client identifier needs clean session 1 in MQTT 3.1.1")
        }
        authenticated(c, connect, c.preauthenticated.map { .accept($0) } ?? authenticator.authenticate(connect))
    }

    private func validateWill(_ will: MQTTWill) throws {
        try MQTTTopic.validateName(will.topic)
        if will.properties.byte(.payloadFormatIndicator) == 1, String(validating: will.payload, as: UTF8.self) == nil {
            throw MQTTDecodingError.protocolError("a will payload marked UTF-8 that is not")
        }
    }

    /// Acts on the authenticator's decision.
    func authenticated(_ c: Connection, _ connect: MQTTConnect, _ decision: AuthenticationDecision) {
        switch decision {
        case .refuse(let code, let reason):
            refuse(c, code, reason)
        case .challenge(let method, let data):
            guard connect.version == .v5 else { return refuse(c, 0x8C, "enhanced authentication needs MQTT 5") }
            c.state = .authenticating(connect, method: method, challenge: data)
            c.authenticationMethod = method
            var properties = MQTTProperties()
            properties.append(.authenticationMethod, .string(method))
            properties.append(.authenticationData, .binary(data))
            send(MQTTAuth(reasonCode: 0x18, properties: properties).frame, to: c)
        case .accept(let principal):
            c.principal = principal
            if let will = connect.will, let refusal = authorizer.mayPublish(principal, topic: principal.mountPoint + will.topic)
                ?? inspector?.inspect(principal, topic: principal.mountPoint + will.topic, payload: will.payload) {
                return refuse(c, refusal.reasonCode, "will topic \(will.topic): \(refusal.reason)")
            }
            if needsRemoteSession(connect) {
                c.state = .awaitingSession(connect)
                sessionLocator!.locate(clientID: connect.clientIdentifier, principal: principal, for: c.id)
                return
            }
            start(c, connect)
        }
    }

    private func refuse(_ c: Connection, _ code: UInt8, _ reason: String) {
        log?.warning("mqtt \(c.remote): connection refused: \(reason)")
        var properties = MQTTProperties()
        if c.version == .v5 { properties.append(.reasonString, .string(reason)) }
        c.sink.send(MQTTConnAck(reasonCode: code, properties: properties).frame(version: c.version))
        end(c, publishWill: false)
    }

    /// The connection is accepted: settle its session and answer CONNACK.
    func start(_ c: Connection, _ connect: MQTTConnect) {
        let v5 = connect.version == .v5
        var ack = MQTTProperties()
        var clientID = connect.clientIdentifier
        if clientID.isEmpty {
            clientID = configuration.assignedIdentifierPrefix + String(nextAssignedIdentifier)
            nextAssignedIdentifier += 1
            if v5 { ack.append(.assignedClientIdentifier, .string(clientID)) }
        }
        var expiry: UInt32
        if v5 {
            expiry = connect.properties.uint32(.sessionExpiryInterval) ?? 0
        } else {
            expiry = connect.cleanStart ? 0 : configuration.persistentSessionExpiry311
        }
        if expiry > configuration.maximumSessionExpiry {
            expiry = configuration.maximumSessionExpiry
            if v5 { ack.append(.sessionExpiryInterval, .uint32(expiry)) }
        }
        // Keep alive: the broker's maximum, told to the client when it differs (§3.2.2.3.14).
        var keepAlive = connect.keepAlive
        if let max = configuration.maximumKeepAlive, keepAlive == 0 || keepAlive > max {
            keepAlive = max
            if v5 { ack.append(.serverKeepAlive, .uint16(max)) }
        }
        c.keepAlive = keepAlive == 0 ? nil : .milliseconds(Int64(keepAlive) * 1_500)
        if v5 {
            c.clientReceiveMaximum = Int(connect.properties.uint16(.receiveMaximum) ?? 65_535)
            c.clientMaximumPacketSize = connect.properties.uint32(.maximumPacketSize).map(Int.init)
            c.clientTopicAliasMaximum = Int(connect.properties.uint16(.topicAliasMaximum) ?? 0)
            c.requestProblemInformation = connect.properties.byte(.requestProblemInformation) != 0
            c.willDelay = connect.will?.properties.uint32(.willDelayInterval) ?? 0
            ack.append(.receiveMaximum, .uint16(configuration.receiveMaximum))
            ack.append(.topicAliasMaximum, .uint16(configuration.topicAliasMaximum))
            ack.append(.maximumPacketSize, .uint32(UInt32(configuration.maximumPacketSize)))
            ack.append(.retainAvailable, .byte(1))
            ack.append(.wildcardSubscriptionAvailable, .byte(1))
            ack.append(.subscriptionIdentifierAvailable, .byte(1))
            ack.append(.sharedSubscriptionAvailable, .byte(1))
            if let method = c.authenticationMethod { ack.append(.authenticationMethod, .string(method)) }
        }
        c.will = connect.will
        // A client identifier is a principal's own: another principal's session is not taken over.
        if let existing = sessions[clientID], existing.principal != c.principal {
            return refuse(c, 0x85, "client identifier \(clientID) belongs to another principal")
        }
        // Take over a connection of the same client (§3.1.4-3): it is told 0x8E and closed; a
        // delayed will is dropped when the session continues.
        if let old = sessions[clientID]?.connection, old !== c {
            if !connect.cleanStart && old.willDelay > 0 { old.will = nil }
            disconnect(old, reasonCode: 0x8E, reason: "session taken over by a new connection")
        }
        var sessionPresent = false
        if let existing = sessions[clientID] {
            if connect.cleanStart {
                discard(existing)
            } else {
                sessionPresent = true
                existing.pendingWill = nil
            }
        }
        let session = sessions[clientID] ?? Session(clientID: clientID, principal: c.principal, expiryInterval: expiry)
        sessions[clientID] = session
        let wasPersistent = session.persistent
        session.expiryInterval = expiry
        session.connection = c
        session.disconnectedAt = nil
        c.session = session
        c.state = .connected
        if session.persistent || wasPersistent { recordSession(session) }
        log?.info("mqtt \(c.remote): \(clientID) connected as \(c.principal) (MQTT \(v5 ? "5" : "3.1.1"), session \(sessionPresent ? "resumed" : "new"))")
        send(MQTTConnAck(sessionPresent: sessionPresent, reasonCode: 0, properties: ack).frame(version: connect.version), to: c)
        // Resend what was in flight (DUP, or PUBREL if released), then what was queued.
        if sessionPresent { pump(session) }
    }

    func recordSession(_ s: Session) {
        if s.persistent {
            record(.session(clientID: s.clientID, principal: s.principal, expiryInterval: s.expiryInterval, disconnectedAt: s.disconnectedAt))
        } else {
            record(.sessionRemoved(clientID: s.clientID))
        }
    }

    /// Ends a session: its subscriptions leave the tree and its messages are dropped.
    func discard(_ s: Session) {
        for sub in s.subscriptions.values { unindex(sub, of: s.clientID) }
        sessions[s.clientID] = nil
        if s.persistent { record(.sessionRemoved(clientID: s.clientID)) }
        if let will = s.pendingWill {
            s.pendingWill = nil
            publishLocally(will.message)
        }
    }

    /// DISCONNECT from the client (§3.14.4): normal (0x00) discards the will, 0x04 publishes it.
    func clientDisconnected(_ d: MQTTDisconnect, _ c: Connection) throws {
        if c.version == .v5, let expiry = d.properties.uint32(.sessionExpiryInterval), let s = c.session {
            if s.expiryInterval == 0 && expiry != 0 {
                throw MQTTDecodingError.protocolError("a session expiry set on DISCONNECT after CONNECT set none")
            }
            s.expiryInterval = min(expiry, configuration.maximumSessionExpiry)
            recordSession(s)
        }
        if d.reasonCode != 0x04 { c.will = nil }
        end(c, publishWill: true)
    }

    /// MQTT 5 re-authentication (§4.12.1): the same method, answered by the authenticator.
    func reauthenticate(_ auth: MQTTAuth, _ c: Connection) throws {
        guard auth.reasonCode == 0x19 || auth.reasonCode == 0x18, let method = auth.method else {
            throw MQTTDecodingError.protocolError("AUTH without re-authenticate and a method")
        }
        let connect = MQTTConnect(version: .v5, clientIdentifier: c.session?.clientID ?? "", userName: c.principal.name)
        let challenge = c.reauthenticationChallenge
        c.reauthenticationChallenge = []
        switch authenticator.continueAuthentication(connect, method: method, data: auth.data, challenge: challenge) {
        case .accept(let principal) where principal == c.principal:
            var p = MQTTProperties()
            p.append(.authenticationMethod, .string(method))
            send(MQTTAuth(reasonCode: 0, properties: p).frame, to: c)
        case .accept:
            disconnect(c, reasonCode: 0x87, reason: "re-authentication as another principal")
        case .challenge(let m, let data):
            c.reauthenticationChallenge = data
            var p = MQTTProperties()
            p.append(.authenticationMethod, .string(m))
            p.append(.authenticationData, .binary(data))
            send(MQTTAuth(reasonCode: 0x18, properties: p).frame, to: c)
        case .refuse(let code, let reason):
            disconnect(c, reasonCode: code, reason: reason)
        }
    }

    /// The connection is gone: publish (or delay) its will and let its session expire.
    func end(_ c: Connection, publishWill: Bool) {
        if case .closed = c.state { return }
        let wasConnected = c.isConnected
        c.state = .closed
        connections[c.id] = nil
        c.sink.close()
        guard wasConnected, let s = c.session, s.connection === c else { return }
        s.connection = nil
        let now = clock.unixSeconds
        s.disconnectedAt = now
        // In-flight messages go back to the head of the queue, to be resent on reconnection.
        let inflight = s.inflight.values.sorted { $0.sequence < $1.sequence }
        s.inflight.removeAll()
        s.requeueFirst(inflight)
        if publishWill, let will = c.will {
            let message = willMessage(will, c)
            let delay = min(c.willDelay, s.expiryInterval)
            if delay == 0 { publishLocally(message) } else { s.pendingWill = (message, clock.uptime + .seconds(Int64(delay))) }
        }
        if s.expiryInterval == 0 {
            discard(s)
        } else {
            recordSession(s)
        }
    }

    private func willMessage(_ will: MQTTWill, _ c: Connection) -> BrokerMessage {
        let expiry = will.properties.uint32(.messageExpiryInterval).map { clock.unixSeconds + UInt64($0) }
        return BrokerMessage(topic: c.principal.mountPoint + will.topic, payload: will.payload, qos: will.qos, retain: will.retain,
                             properties: BrokerMessage.forwarded(will.properties), expiresAt: expiry, origin: c.session?.clientID)
    }

    /// Periodic work (call about once a second): keep-alive and connect timeouts, delayed
    /// wills, and session expiry.
    public func tick() {
        let now = clock.uptime, wall = clock.unixSeconds
        for c in Array(connections.values) {
            switch c.state {
            case .awaitingConnect, .authenticating, .awaitingSession:
                if now - c.openedAt > configuration.connectTimeout {
                    log?.warning("mqtt \(c.remote): no CONNECT within \(configuration.connectTimeout)")
                    end(c, publishWill: false)
                }
            case .connected:
                if let keepAlive = c.keepAlive, now - c.lastActivity > keepAlive {
                    log?.info("mqtt \(c.remote) \(c.principal): keep-alive timeout")
                    disconnect(c, reasonCode: 0x8D, reason: "keep alive timeout")
                }
            case .closed: break
            }
        }
        for s in Array(sessions.values) where s.connection == nil {
            if let will = s.pendingWill, will.due <= now {
                s.pendingWill = nil
                publishLocally(will.message)
            }
            if let at = s.disconnectedAt, s.expiryInterval != .max, at + UInt64(s.expiryInterval) <= wall {
                discard(s)
            }
        }
    }

    /// Asks the authenticator whether each connected principal (or only those named in
    /// `names`) may still be; those that may not (a revoked or suspended device) are
    /// disconnected with 0x87.
    public func revalidate(names: Set<String>? = nil) {
        for c in Array(connections.values) where c.isConnected && (names?.contains(c.principal.name) ?? true)
            && !authenticator.stillValid(c.principal) {
            log?.warning("mqtt \(c.remote) \(c.principal): no longer authorised, disconnected")
            disconnect(c, reasonCode: 0x87, reason: "no longer authorised")
        }
    }
}
