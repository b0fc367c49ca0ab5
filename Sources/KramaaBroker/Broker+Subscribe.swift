import KramaaMQTT

extension Broker {
    /// SUBSCRIBE (§3.8.4): each filter authorised and granted (or refused with its reason
    /// code), SUBACK, then the retained messages its Retain Handling asks for.
    func subscribe(_ request: MQTTSubscribe, from c: Connection) throws {
        guard let s = c.session else { return }
        let identifier: Int? = if case .variableInteger(let id)? = request.properties[.subscriptionIdentifier] { id } else { nil }
        var codes: [UInt8] = []
        var retainedToSend: [(Subscription, isNew: Bool)] = []
        for r in request.requests {
            let parsed = try MQTTTopic.parseSubscription(r.filter)
            let filter = c.principal.mountPoint + parsed.filter
            if let refusal = authorizer.maySubscribe(c.principal, filter: filter) {
                log?.warning("mqtt \(c.remote) \(c.principal): SUBSCRIBE \(r.filter) refused: \(refusal)")
                codes.append(c.version == .v5 ? refusal.reasonCode : 0x80)
                continue
            }
            let sub = Subscription(filter: filter, shareGroup: parsed.shareGroup, qos: r.qos, noLocal: r.noLocal,
                                   retainAsPublished: r.retainAsPublished, retainHandling: r.retainHandling, identifier: identifier)
            let isNew = s.subscriptions[sub.key] == nil
            s.subscriptions[sub.key] = sub
            index(sub, of: s.clientID)
            if s.persistent { record(.subscribed(clientID: s.clientID, sub)) }
            codes.append(r.qos)
            if sub.shareGroup == nil { retainedToSend.append((sub, isNew)) }
        }
        sendAfterCommit(MQTTSubscribeAck(.suback, packetIdentifier: request.packetIdentifier, reasonCodes: codes).frame(version: c.version), to: c)
        for (sub, isNew) in retainedToSend where sub.retainHandling == 0 || (sub.retainHandling == 1 && isNew) {
            sendRetained(matching: sub, to: s)
        }
    }

    /// Retained messages matching a new subscription, sent with RETAIN set (§3.3.1.3).
    private func sendRetained(matching sub: Subscription, to s: Session) {
        let now = clock.unixSeconds
        for (topic, message) in retained where MQTTTopic.matches(filter: sub.filter, name: topic) {
            if message.expired(at: now) {
                retained[topic] = nil
                record(.retained(topic: topic, nil))
                continue
            }
            enqueue(message, to: s, qos: sub.qos, ids: sub.identifier.map { [$0] } ?? [], retainFlag: true)
        }
    }

    /// UNSUBSCRIBE (§3.10.4): 0x00 for each removed, 0x11 for each that did not exist.
    func unsubscribe(_ request: MQTTUnsubscribe, from c: Connection) throws {
        guard let s = c.session else { return }
        var codes: [UInt8] = []
        for text in request.filters {
            let parsed = try MQTTTopic.parseSubscription(text)
            let key = Subscription(filter: c.principal.mountPoint + parsed.filter, shareGroup: parsed.shareGroup, qos: 0).key
            if let sub = s.subscriptions.removeValue(forKey: key) {
                unindex(sub, of: s.clientID)
                if s.persistent { record(.unsubscribed(clientID: s.clientID, key: key)) }
                codes.append(0x00)
            } else {
                codes.append(0x11)
            }
        }
        sendAfterCommit(MQTTSubscribeAck(.unsuback, packetIdentifier: request.packetIdentifier, reasonCodes: codes).frame(version: c.version), to: c)
    }

    /// Asks the authoriser again about every subscription (its rules changed: a grant revoked)
    /// and removes those it now refuses.
    public func recheckSubscriptions() {
        for s in Array(sessions.values) {
            for sub in Array(s.subscriptions.values) where authorizer.maySubscribe(s.principal, filter: sub.filter) != nil {
                s.subscriptions[sub.key] = nil
                unindex(sub, of: s.clientID)
                if s.persistent { record(.unsubscribed(clientID: s.clientID, key: sub.key)) }
                log?.info("mqtt session \(s.clientID): subscription \(sub.key) removed, no longer allowed")
            }
        }
    }

    /// Rebuilds persistent sessions and retained messages from the journal (at start-up):
    /// every session starts disconnected, its expiry counted from when it was saved offline
    /// (or from now, for one that was connected when the process stopped).
    func restore() throws {
        let (saved, retainedMessages) = try journal.load()
        let now = clock.unixSeconds
        for m in retainedMessages where !m.expired(at: now) { retained[m.topic] = m }
        for p in saved { install(p, now: now) }
    }

    /// Makes a saved session (from the journal, or moved from another node) this broker's,
    /// disconnected, its expiry counted from when it went offline (or from now).
    func install(_ p: PersistedSession, now: UInt64) {
        let s = Session(clientID: p.clientID, principal: p.principal, expiryInterval: p.expiryInterval)
        s.disconnectedAt = p.disconnectedAt ?? now
        for sub in p.subscriptions {
            s.subscriptions[sub.key] = sub
            index(sub, of: s.clientID)
        }
        for m in p.messages.sorted(by: { $0.sequence < $1.sequence }) {
            s.enqueue(m)
            s.nextSequence = max(s.nextSequence, m.sequence + 1)
        }
        s.incomingQoS2 = Set(p.incomingQoS2)
        sessions[s.clientID] = s
    }
}
