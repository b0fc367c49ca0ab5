import KramaaMQTT

/// Who a connection is, as its authenticator decided: what the broker's authorisation and
/// namespace rules are applied to.
public struct Principal: Hashable, Sendable, CustomStringConvertible {
    /// A stable name for logs and policies (a device address, `anonymous`, an operator name).
    public var name: String
    /// Prefixed to every topic the client names and removed from every topic it is sent
    /// (as mosquitto's `mount_point`): a client under a mount point sees a namespace of its own.
    public var mountPoint: String
    /// What the authoriser groups principals by (a device's organisation), opaque to the broker.
    public var group: String

    public init(name: String, mountPoint: String = "", group: String = "") {
        self.name = name
        self.mountPoint = mountPoint
        self.group = group
    }

    public var description: String { name }
}

/// What the authenticator decided about a CONNECT or an AUTH step.
public enum AuthenticationDecision: Sendable {
    case accept(Principal)
    /// MQTT 5 enhanced authentication: send this AUTH data (reason 0x18, continue) and wait.
    case challenge(method: String, data: [UInt8])
    /// Refused with a CONNACK reason code (0x86 bad user name or password, 0x87 not authorised,
    /// 0x8C bad authentication method, …) and a reason for the log.
    case refuse(reasonCode: UInt8, reason: String)
}

/// Decides who may connect. Called on the broker's thread: answers must be quick (local
/// state reads, signature checks), never waits on the network.
public protocol BrokerAuthenticator: AnyObject {
    func authenticate(_ connect: MQTTConnect) -> AuthenticationDecision
    /// The client's AUTH packet in an enhanced authentication exchange begun by `challenge`;
    /// `challenge` is the data the broker sent in the step it answers (the broker keeps it, so
    /// authenticators need keep no state per connection).
    func continueAuthentication(_ connect: MQTTConnect, method: String, data: [UInt8], challenge: [UInt8]) -> AuthenticationDecision
    /// Whether an authenticated principal may still be connected (checked on `revalidate`).
    func stillValid(_ principal: Principal) -> Bool
}

/// Decides what an authenticated principal may do, on topic names as the broker holds them
/// (after the principal's mount point is applied). Nil means allowed; else the reason code
/// (0x87 not authorised) and why.
public protocol BrokerAuthorizer: AnyObject {
    func mayPublish(_ principal: Principal, topic: String) -> Refusal?
    func maySubscribe(_ principal: Principal, filter: String) -> Refusal?
}

/// Looks at what is published before the broker takes it (after authorisation): refuses
/// payloads a topic's rules forbid (a forged or replayed envelope on a device's inbox). Nil:
/// taken. Called for client publications and wills, never for what peers relay (checked
/// where they were published).
public protocol BrokerPayloadInspector: AnyObject {
    func inspect(_ principal: Principal, topic: String, payload: [UInt8]) -> Refusal?
}

/// A refused action: its MQTT reason code and a reason for the log.
public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var reasonCode: UInt8
    public var reason: String

    public init(_ reasonCode: UInt8, _ reason: String) {
        self.reasonCode = reasonCode
        self.reason = reason
    }

    public var description: String { "\(reason) (reason code 0x\(String(reasonCode, radix: 16)))" }
}

/// The network side of one client connection. The broker calls it on its own thread.
public protocol MQTTConnectionSink: AnyObject {
    /// Queues a packet for the client.
    func send(_ frame: MQTTFrame)
    /// Closes the connection once queued packets are written.
    func close()
    /// Whether the client has stopped reading (its unsent bytes are past a high-water mark):
    /// QoS 0 messages to it are then dropped (QoS 1/2 are bounded by its Receive Maximum).
    var isCongested: Bool { get }
}

extension MQTTConnectionSink {
    public var isCongested: Bool { false }
}

/// Where the broker reports what it refused and why (one line per event).
public protocol BrokerLog: AnyObject, Sendable {
    func info(_ message: String)
    func warning(_ message: String)
}

/// Allows every principal every topic: for tests and for brokers whose only confinement is
/// the mount point.
public final class AllowAll: BrokerAuthorizer {
    public init() {}
    public func mayPublish(_ principal: Principal, topic: String) -> Refusal? { nil }
    public func maySubscribe(_ principal: Principal, filter: String) -> Refusal? { nil }
}
