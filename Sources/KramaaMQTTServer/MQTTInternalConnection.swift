import KramaaBroker
import KramaaMQTT

/// A connection to the broker from inside the node (the bridge, the node's own services),
/// without a socket: frames submitted here reach the broker as a client's would, and what the
/// broker sends comes back through `onFrame`, on the broker's loop. Its principal is fixed when
/// it is opened (``Broker/openAuthenticated(_:remote:principal:)``): CONNECT is not checked.
public final class MQTTInternalConnection: MQTTConnectionSink, @unchecked Sendable {
    private let host: BrokerHost
    private var id: UInt64 = 0
    private var closed = false
    private let onFrame: @Sendable (MQTTFrame) -> Void
    private let onClose: @Sendable () -> Void

    init(host: BrokerHost, onFrame: @escaping @Sendable (MQTTFrame) -> Void, onClose: @escaping @Sendable () -> Void) {
        self.host = host
        self.onFrame = onFrame
        self.onClose = onClose
    }

    /// Hands `frame` to the broker (from any thread).
    public func submit(_ frame: MQTTFrame) {
        host.loop.execute {
            guard !self.closed else { return }
            self.host.broker.receive(frame, on: self.id)
            self.host.finishSoon()
        }
    }

    /// Ends the connection as a dropped client would (its will, if any, is published).
    public func end() {
        host.loop.execute { self.close() }
    }

    // MARK: MQTTConnectionSink (on the broker's loop)

    public func send(_ frame: MQTTFrame) {
        guard !closed else { return }
        onFrame(frame)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        host.broker.connectionLost(id)
        host.finishSoon()
        onClose()
    }

    fileprivate func open(remote: String, principal: Principal) {
        id = host.broker.openAuthenticated(self, remote: remote, principal: principal)
    }
}

extension MQTTServer {
    /// Opens a connection inside the node as `principal`; send CONNECT first.
    public func openInternalConnection(remote: String, principal: Principal, onFrame: @escaping @Sendable (MQTTFrame) -> Void,
                                       onClose: @escaping @Sendable () -> Void = {}) async -> MQTTInternalConnection {
        let connection = MQTTInternalConnection(host: host, onFrame: onFrame, onClose: onClose)
        try? await host.loop.submit { connection.open(remote: remote, principal: principal) }.get()
        return connection
    }
}
