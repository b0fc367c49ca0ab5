import KramaaMQTT

/// Why an MQTT client operation failed, in words that say what went wrong and what to do.
public enum MQTTClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not an MQTT endpoint.
    case invalidEndpoint(String, String)
    /// No TCP (or TLS) connection could be made.
    case cannotConnect(endpoint: String, reason: String)
    /// The TLS configuration (CA file) could not be loaded.
    case tls(String)
    /// CONNACK refused the connection; `reasonCode` is the MQTT 5 code (3.1.1 return codes mapped).
    case refused(reasonCode: UInt8, reason: String?)
    /// The server asked for enhanced authentication the client cannot answer, or the answer failed.
    case authenticationFailed(String)
    /// The server did not answer in time.
    case timeout(String)
    /// The server sent DISCONNECT.
    case disconnectedByServer(reasonCode: UInt8, reason: String?)
    /// The connection ended (reset, closed, keep-alive expired).
    case connectionLost(String)
    /// The server broke the protocol; the client closed the connection.
    case protocolViolation(String)
    /// The operation needs a connection and there is none (QoS 0, subscriptions).
    case notConnected
    /// The client was closed.
    case closed
    /// A topic name or filter MQTT does not allow.
    case invalidTopic(String, String)
    /// A QoS above what the server supports (its Maximum QoS) or above 2.
    case qosNotSupported(requested: UInt8, maximum: UInt8)
    /// The server said it keeps no retained messages.
    case retainNotSupported
    /// The packet is larger than the server accepts (its Maximum Packet Size).
    case packetTooLarge(size: Int, maximum: Int)

    public var description: String {
        switch self {
        case .invalidEndpoint(let url, let why): return "\(url) is not an MQTT endpoint: \(why)"
        case .cannotConnect(let endpoint, let reason):
            return "cannot connect to \(endpoint): \(reason); check that the broker runs there and the port is right"
        case .tls(let why): return "MQTT TLS: \(why)"
        case .refused(let code, let reason):
            let hint = switch code {
            case 0x84: "; try the other protocol version (MQTT 5 or 3.1.1)"
            case 0x86: "; check the user name and password (a device: its address and a fresh token)"
            case 0x87: "; this client is not allowed to connect"
            case 0x8A: "; the server bans this client (a revoked device)"
            case 0x8C: "; the server does not support this authentication method"
            default: ""
            }
            return "the server refused the connection with reason code \(MQTTReasonCode.describe(code))" + (reason.map { ": \($0)" } ?? "") + hint
        case .authenticationFailed(let why): return "authentication failed: \(why)"
        case .timeout(let what): return "timed out: \(what)"
        case .disconnectedByServer(let code, let reason):
            return "the server disconnected with reason code \(MQTTReasonCode.describe(code))" + (reason.map { ": \($0)" } ?? "")
        case .connectionLost(let why): return "the connection was lost: \(why)"
        case .protocolViolation(let why): return "the server broke the MQTT protocol: \(why)"
        case .notConnected: return "not connected: call connect() first (QoS 1 and 2 messages wait for a reconnection, QoS 0 and subscriptions do not)"
        case .closed: return "the client is closed"
        case .invalidTopic(let topic, let why): return "topic \(topic): \(why)"
        case .qosNotSupported(let requested, let maximum): return "QoS \(requested) is not supported: the server's maximum is QoS \(maximum)"
        case .retainNotSupported: return "the server does not keep retained messages (Retain Available 0)"
        case .packetTooLarge(let size, let maximum): return "the packet is \(size) bytes; the server accepts at most \(maximum)"
        }
    }
}
