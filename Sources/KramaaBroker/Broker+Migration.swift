import KramaaMQTT

/// Finds a client's session elsewhere (another node of the federation) when the client
/// resumes a session this broker does not hold. It answers with ``Broker/sessionArrived(for:_:)``
/// on the broker's thread, with the session or nil, soon (the client waits for its CONNACK).
public protocol SessionLocator: AnyObject {
    func locate(clientID: String, principal: Principal, for connection: UInt64)
}

extension Broker {
    /// Whether this CONNECT must wait for its session to come from elsewhere.
    func needsRemoteSession(_ connect: MQTTConnect) -> Bool {
        sessionLocator != nil && !connect.cleanStart && !connect.clientIdentifier.isEmpty && sessions[connect.clientIdentifier] == nil
    }

    /// The answer to a ``SessionLocator`` request: the session moved here (installed, then the
    /// connection is answered with Session Present), or nil (a new session).
    public func sessionArrived(for id: UInt64, _ session: PersistedSession?) {
        // The holder checked the principal and gave the session up: it is kept here even if
        // the client went away meanwhile (it finds it here when it comes back).
        if let session, sessions[session.clientID] == nil {
            install(session, now: clock.unixSeconds)
            if let s = sessions[session.clientID], s.persistent { recordMoved(s) }
            log?.info("mqtt: session \(session.clientID) moved here with \(session.messages.count) message(s) queued")
        }
        guard let c = connections[id], case .awaitingSession(let connect) = c.state else { return }
        c.state = .awaitingConnect
        start(c, connect)
        let waiting = c.pendingFrames
        c.pendingFrames = []
        for frame in waiting where c.isConnected { receive(frame, on: id) }
    }

    /// Gives up a session another node's client resumes there: its connection here (if any) is
    /// told 0x8E and closed without its will (the client lives on elsewhere), and the session
    /// leaves this broker and its journal. Nil when there is no such session of `principal`,
    /// or it is not persistent.
    public func surrender(clientID: String, principal: Principal) -> PersistedSession? {
        guard let s = sessions[clientID], s.principal == principal, s.persistent else { return nil }
        if let c = s.connection {
            c.will = nil
            disconnect(c, reasonCode: 0x8E, reason: "session taken over on another node")
        }
        s.pendingWill = nil
        let moved = s.persisted
        discard(s)
        log?.info("mqtt: session \(clientID) moved to another node with \(moved.messages.count) message(s) queued")
        return moved
    }

    /// Journals a session that arrived from elsewhere, whole.
    private func recordMoved(_ s: Session) {
        for change in s.persisted.changes { record(change) }
    }
}
