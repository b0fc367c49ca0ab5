import KramaaMQTT

extension Broker {
    /// PUBLISH from a client (§3.3.4): topic alias, authorisation, QoS 2 duplicates, retain,
    /// then routing; the acknowledgement waits for the journal.
    func publish(_ p: MQTTPublish, from c: Connection) throws {
        guard let s = c.session else { return }
        var topic = p.topic
        if c.version == .v5, let alias = p.properties.uint16(.topicAlias) {
            guard alias != 0 && alias <= configuration.topicAliasMaximum else {
                return disconnect(c, reasonCode: 0x94, reason: "topic alias \(alias) outside 1...\(configuration.topicAliasMaximum)")
            }
            if topic.isEmpty {
                guard let known = c.aliases[alias] else { throw MQTTDecodingError.protocolError("topic alias \(alias) was never set") }
                topic = known
            } else {
                c.aliases[alias] = topic
            }
        }
        if p.properties.byte(.payloadFormatIndicator) == 1, String(validating: p.payload, as: UTF8.self) == nil {
            return refusePublish(p, c, Refusal(0x99, "payload marked UTF-8 is not"))
        }
        if p.qos == 2 {
            if s.incomingQoS2.contains(p.packetIdentifier!) {
                return send(MQTTAck(.pubrec, packetIdentifier: p.packetIdentifier!).frame(version: c.version), to: c)
            }
            guard c.inboundUnreleased < Int(configuration.receiveMaximum) else {
                return disconnect(c, reasonCode: 0x93, reason: "more than \(configuration.receiveMaximum) QoS 2 messages unreleased")
            }
        }
        if topic.hasPrefix("$") {
            return refusePublish(p, c, Refusal(0x90, "topics starting with $ are the broker's own"))
        }
        let mounted = c.principal.mountPoint + topic
        if let refusal = authorizer.mayPublish(c.principal, topic: mounted) ?? inspector?.inspect(c.principal, topic: mounted, payload: p.payload) {
            return refusePublish(p, c, refusal)
        }
        let expiry = p.properties.uint32(.messageExpiryInterval).map { clock.unixSeconds + UInt64($0) }
        let message = BrokerMessage(topic: mounted, payload: p.payload, qos: p.qos, retain: p.retain,
                                    properties: BrokerMessage.forwarded(p.properties), expiresAt: expiry, origin: s.clientID)
        let delivered = publishLocally(message)
        let code: UInt8 = delivered == 0 && onPublish == nil && c.version == .v5 ? 0x10 : 0
        switch p.qos {
        case 1:
            sendAfterCommit(MQTTAck(.puback, packetIdentifier: p.packetIdentifier!, reasonCode: code).frame(version: c.version), to: c)
        case 2:
            s.incomingQoS2.insert(p.packetIdentifier!)
            c.inboundUnreleased += 1
            if s.persistent { record(.incomingQoS2(clientID: s.clientID, packetIdentifier: p.packetIdentifier!, pending: true)) }
            sendAfterCommit(MQTTAck(.pubrec, packetIdentifier: p.packetIdentifier!, reasonCode: code).frame(version: c.version), to: c)
        default: break
        }
    }

    /// A publication the broker will not take: MQTT 5 says why in the acknowledgement; 3.1.1
    /// has no way to, so it is acknowledged and dropped (as mosquitto does). Logged either way.
    private func refusePublish(_ p: MQTTPublish, _ c: Connection, _ refusal: Refusal) {
        log?.warning("mqtt \(c.remote) \(c.principal): PUBLISH to \(p.topic) refused: \(refusal)")
        guard let id = p.packetIdentifier else { return }
        let code = c.version == .v5 ? refusal.reasonCode : 0
        send(MQTTAck(p.qos == 1 ? .puback : .pubrec, packetIdentifier: id, reasonCode: code).frame(version: c.version), to: c)
    }

    /// Sets or (with an empty payload) clears the retained message of a topic (§3.3.1.3).
    func retain(_ message: BrokerMessage) {
        if message.payload.isEmpty {
            guard retained.removeValue(forKey: message.topic) != nil else { return }
            record(.retained(topic: message.topic, nil))
        } else {
            retained[message.topic] = message
            record(.retained(topic: message.topic, message))
        }
    }

    /// A message from elsewhere (a peer node, a bridge) to this broker's subscribers.
    @discardableResult
    public func deliver(_ message: BrokerMessage) -> Int {
        if message.retain { retain(message) }
        return route(message)
    }

    /// Delivers a message to every matching subscription (§4.5): one copy per session at the
    /// highest QoS of its matching subscriptions with all their identifiers; one member of
    /// each shared group, round robin, connected members first. Returns the sessions reached.
    @discardableResult
    func route(_ message: BrokerMessage) -> Int {
        if message.expired(at: clock.unixSeconds) { return 0 }
        var entries: [SubscriptionTree.Entry] = []
        tree.matches(message.topic, into: &entries)
        guard !entries.isEmpty else { return 0 }
        var perSession: [String: (qos: UInt8, ids: [Int], retainAsPublished: Bool)] = [:]
        var groups: [String: [SubscriptionTree.Entry]] = [:]
        for e in entries {
            guard let s = sessions[e.clientID], let sub = s.subscriptions[e.key] else { continue }
            if let group = sub.shareGroup {
                groups[group + "/" + sub.filter, default: []].append(e)
                continue
            }
            if sub.noLocal && message.origin == e.clientID { continue }
            var target = perSession[e.clientID] ?? (0, [], false)
            target.qos = max(target.qos, sub.qos)
            if let id = sub.identifier { target.ids.append(id) }
            target.retainAsPublished = target.retainAsPublished || sub.retainAsPublished
            perSession[e.clientID] = target
        }
        var reached = 0
        for (clientID, target) in perSession {
            guard let s = sessions[clientID] else { continue }
            enqueue(message, to: s, qos: target.qos, ids: target.ids, retainFlag: target.retainAsPublished && message.retain)
            reached += 1
        }
        for (name, members) in groups {
            let ordered = members.sorted { $0.clientID < $1.clientID }
            let connected = ordered.filter { sessions[$0.clientID]?.connection != nil }
            let pool = connected.isEmpty ? ordered : connected
            if shareCursor.count >= 10_000 && shareCursor[name] == nil { shareCursor.removeAll() }  // groups come and go: bounded
            let cursor = shareCursor[name, default: 0]
            shareCursor[name] = cursor &+ 1
            let chosen = pool[cursor % pool.count]
            guard let s = sessions[chosen.clientID], let sub = s.subscriptions[chosen.key] else { continue }
            enqueue(message, to: s, qos: sub.qos, ids: sub.identifier.map { [$0] } ?? [], retainFlag: false)
            reached += 1
        }
        return reached
    }

    /// Queues a message for one session at `min(message QoS, granted QoS)`: QoS 0 goes out at
    /// once to a connected client and nowhere otherwise; QoS 1/2 waits in the session (saved
    /// in the journal when the session is persistent) for a send slot.
    func enqueue(_ message: BrokerMessage, to s: Session, qos: UInt8, ids: [Int], retainFlag: Bool) {
        var m = message
        m.qos = min(message.qos, qos)
        m.retain = retainFlag
        let delivery = Session.Delivery(sequence: s.nextSequence, message: m, subscriptionIdentifiers: ids)
        s.nextSequence += 1
        if m.qos == 0 {
            if let c = s.connection, transmit(delivery, s, c) { onDelivered?(m, s.principal) }
            return
        }
        if s.queuedCount >= configuration.maximumQueuedMessages, let dropped = s.dequeue() {
            log?.warning("mqtt session \(s.clientID): queue full (\(configuration.maximumQueuedMessages)), dropped the oldest message on \(dropped.message.topic)")
            if s.persistent { record(.completed(clientID: s.clientID, sequence: dropped.sequence)) }
        }
        if s.persistent {
            record(.queued(clientID: s.clientID, delivery))
        }
        s.enqueue(delivery)
        pump(s)
    }

    /// Sends queued messages while the client's Receive Maximum allows (§4.9).
    func pump(_ s: Session) {
        guard let c = s.connection, c.isConnected else { return }
        let now = clock.unixSeconds
        while s.inflight.count < c.clientReceiveMaximum, var d = s.dequeue() {
            if d.message.expired(at: now) && !d.released {
                if s.persistent { record(.completed(clientID: s.clientID, sequence: d.sequence)) }
                continue
            }
            let resend = d.packetIdentifier != nil
            if d.packetIdentifier == nil {
                guard let id = s.nextPacketIdentifier() else {
                    s.requeueFirst([d])
                    return
                }
                d.packetIdentifier = id
                if s.persistent { record(.sent(clientID: s.clientID, sequence: d.sequence, packetIdentifier: id)) }
            }
            s.inflight[d.packetIdentifier!] = d
            if d.released {
                send(MQTTAck(.pubrel, packetIdentifier: d.packetIdentifier!).frame(version: c.version), to: c)
            } else if !transmit(d, s, c, duplicate: resend) {
                complete(d.packetIdentifier!, s)
            }
        }
    }

    /// Writes one PUBLISH to the client: topic without its mount point, the remaining
    /// expiry, the subscription identifiers. A message larger than the client's Maximum
    /// Packet Size is not sent (§3.1.2.11.4: discarded as if delivered); returns false then.
    @discardableResult
    func transmit(_ d: Session.Delivery, _ s: Session, _ c: Connection, duplicate: Bool = false) -> Bool {
        let m = d.message
        if m.qos == 0 && c.sink.isCongested {
            c.droppedQoS0 += 1
            if c.droppedQoS0 == 1 || c.droppedQoS0 % 1_000 == 0 {
                log?.warning("mqtt \(c.remote) \(s.clientID): not reading; \(c.droppedQoS0) QoS 0 message(s) dropped")
            }
            return false
        }
        var topic = m.topic
        let mount = s.principal.mountPoint
        if !mount.isEmpty && topic.hasPrefix(mount) { topic.removeFirst(mount.count) }
        var properties = MQTTProperties()
        var alias: (number: UInt16, isNew: Bool)?
        if c.version == .v5 {
            properties = m.properties
            if let at = m.expiresAt { properties.append(.messageExpiryInterval, .uint32(UInt32(clamping: at - min(at, clock.unixSeconds)))) }
            for id in d.subscriptionIdentifiers { properties.append(.subscriptionIdentifier, .variableInteger(id)) }
            // Topic aliases toward the client, as many as it allows: the first message on a topic
            // sets one, the next ones carry only the alias.
            if let known = c.outboundAliases[topic] {
                alias = (known, false)
            } else if c.outboundAliases.count < c.clientTopicAliasMaximum {
                alias = (UInt16(c.outboundAliases.count + 1), true)
            }
            if let alias { properties.append(.topicAlias, .uint16(alias.number)) }
        }
        let publish = MQTTPublish(topic: alias.map { $0.isNew ? topic : "" } ?? topic, payload: m.payload, qos: m.qos, retain: m.retain,
                                  duplicate: duplicate && m.qos > 0, packetIdentifier: m.qos > 0 ? d.packetIdentifier : nil, properties: properties)
        let frame = publish.frame(version: c.version)
        if let max = c.clientMaximumPacketSize, frame.encodedSize > max {
            log?.info("mqtt \(s.clientID): a message on \(topic) of \(frame.encodedSize) bytes is over the client's maximum packet size \(max), not sent")
            return false
        }
        if let alias, alias.isNew { c.outboundAliases[topic] = alias.number }
        send(frame, to: c)
        return true
    }

    /// PUBACK, PUBREC, PUBCOMP for messages the broker sent; PUBREL for QoS 2 messages it received.
    func acknowledgement(_ ack: MQTTAck, from c: Connection) throws {
        guard let s = c.session else { return }
        let id = ack.packetIdentifier
        switch ack.type {
        case .puback, .pubcomp:
            guard let d = s.inflight[id], d.message.qos == (ack.type == .puback ? 1 : 2), ack.type == .puback || d.released else {
                log?.info("mqtt \(s.clientID): \(ack.type) for packet \(id), which is not awaiting one")
                return
            }
            if ack.reasonCode < 0x80 { onDelivered?(d.message, s.principal) }
            complete(id, s)
            pump(s)
        case .pubrec:
            guard var d = s.inflight[id], d.message.qos == 2 else {
                return send(MQTTAck(.pubrel, packetIdentifier: id, reasonCode: 0x92).frame(version: c.version), to: c)
            }
            if ack.reasonCode >= 0x80 {
                complete(id, s)
                return pump(s)
            }
            d.released = true
            s.inflight[id] = d
            if s.persistent { record(.released(clientID: s.clientID, sequence: d.sequence)) }
            send(MQTTAck(.pubrel, packetIdentifier: id).frame(version: c.version), to: c)
        case .pubrel:
            let known = s.incomingQoS2.remove(id) != nil
            if known {
                c.inboundUnreleased = max(0, c.inboundUnreleased - 1)
                if s.persistent { record(.incomingQoS2(clientID: s.clientID, packetIdentifier: id, pending: false)) }
            }
            sendAfterCommit(MQTTAck(.pubcomp, packetIdentifier: id, reasonCode: known ? 0 : 0x92).frame(version: c.version), to: c)
        default: break
        }
    }

    func complete(_ id: UInt16, _ s: Session) {
        guard let d = s.inflight.removeValue(forKey: id) else { return }
        if s.persistent { record(.completed(clientID: s.clientID, sequence: d.sequence)) }
    }
}

extension MQTTFrame {
    /// The size of the encoded packet, without encoding it.
    var encodedSize: Int { 1 + MQTTWriter.variableIntegerSize(body.count) + body.count }
}
