import Foundation
import KramaaBroker
import KramaaMQTT
import KramaaPrimitives

/// What this node's MQTT server saw of each device since the node started: how many times it
/// connected and how many messages it published, and when it last did each. Kept in memory and
/// per node (every node serves its own clients), for the dashboard's device page. Only devices
/// that authenticated are recorded, so the table holds at most the registered devices.
public final class DeviceActivity: @unchecked Sendable {
    /// One device's activity; times are Unix seconds.
    public struct Record: Sendable, Equatable {
        public var connections: UInt64 = 0
        public var messages: UInt64 = 0
        public var lastConnected: UInt64?
        public var lastMessage: UInt64?

        /// The latest of the two times: when the device was last seen.
        public var lastSeen: UInt64? { [lastConnected, lastMessage].compactMap { $0 }.max() }
    }

    private let lock = NSLock()
    private var records: [Address: Record] = [:]
    private let clock: TimeSource
    /// When counting began (the node's start).
    public let since: UInt64

    public init(clock: TimeSource = SystemTime.shared) {
        self.clock = clock
        since = clock.unixSeconds
    }

    /// The device's activity, nil when it has not connected to this node since its start.
    public func record(of device: Address) -> Record? { lock.withLock { records[device] } }

    func connected(_ principal: Principal) {
        update(principal) { record, now in
            record.connections += 1
            record.lastConnected = now
        }
    }

    func published(_ principal: Principal) {
        update(principal) { record, now in
            record.messages += 1
            record.lastMessage = now
        }
    }

    private func update(_ principal: Principal, _ change: (inout Record, UInt64) -> Void) {
        // Device principals are named by their address; anonymous and operator clients are not devices.
        guard let device = try? Address(hex: principal.name) else { return }
        let now = clock.unixSeconds
        lock.withLock { change(&records[device, default: Record()], now) }
    }
}

/// An authenticator that records each accepted connection in a ``DeviceActivity``.
final class ActivityRecordingAuthenticator: BrokerAuthenticator {
    let inner: any BrokerAuthenticator
    let activity: DeviceActivity

    init(_ inner: any BrokerAuthenticator, activity: DeviceActivity) {
        self.inner = inner
        self.activity = activity
    }

    func authenticate(_ connect: MQTTConnect) -> AuthenticationDecision {
        recorded(inner.authenticate(connect))
    }

    func continueAuthentication(_ connect: MQTTConnect, method: String, data: [UInt8], challenge: [UInt8]) -> AuthenticationDecision {
        recorded(inner.continueAuthentication(connect, method: method, data: data, challenge: challenge))
    }

    func stillValid(_ principal: Principal) -> Bool { inner.stillValid(principal) }

    private func recorded(_ decision: AuthenticationDecision) -> AuthenticationDecision {
        if case .accept(let principal) = decision { activity.connected(principal) }
        return decision
    }
}

/// A payload inspector that counts each publication the inner inspector takes.
final class ActivityRecordingInspector: BrokerPayloadInspector {
    let inner: any BrokerPayloadInspector
    let activity: DeviceActivity

    init(_ inner: any BrokerPayloadInspector, activity: DeviceActivity) {
        self.inner = inner
        self.activity = activity
    }

    func inspect(_ principal: Principal, topic: String, payload: [UInt8]) -> Refusal? {
        let refusal = inner.inspect(principal, topic: topic, payload: payload)
        if refusal == nil { activity.published(principal) }
        return refusal
    }
}
