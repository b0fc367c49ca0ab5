import KramaaMQTT

/// Where an MQTT server listens: a host, a port, and whether the bytes go over TLS.
/// Parsed from `mqtt://host:port` (TCP, port 1883 unless given) and `mqtts://host:port`
/// (TLS, 8883), the URL forms the CLI's `--mqtt` and `--mqtt-bridge` take.
public struct MQTTEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init(host: String, port: Int, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Parses `mqtt://host[:port]` or `mqtts://host[:port]` (`tcp://` and `ssl://` as aliases;
    /// an IPv6 host in brackets).
    public init(parsing url: String) throws(MQTTClientError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalidEndpoint(url, "expected mqtt://host:port or mqtts://host:port")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "mqtt", "tcp": tls = false
        case "mqtts", "ssl": tls = true
        default: throw .invalidEndpoint(url, "the scheme \(scheme) is not mqtt (TCP) or mqtts (TLS)")
        }
        var rest = String(url[schemeEnd.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        guard !rest.contains("/"), !rest.contains("@") else {
            throw .invalidEndpoint(url, "give only host and port (credentials have their own options)")
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidEndpoint(url, "an IPv6 host needs its closing ]") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .invalidEndpoint(url, "unexpected \(after)") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalidEndpoint(url, "no host") }
        if let portText {
            guard let p = Int(portText), (1...65_535).contains(p) else { throw .invalidEndpoint(url, "the port \(portText) is not 1 to 65535") }
            port = p
        } else {
            port = tls ? 8883 : 1883
        }
    }

    public var description: String { "\(tls ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// How the client reconnects after losing an established connection: the delay before attempt
/// n (0-based) is `min(initial · 2ⁿ, maximum)`, so a broker that is down is not hammered, and
/// a brief outage is bridged quickly.
public struct MQTTReconnectPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration

    public init(initialDelay: Duration = .milliseconds(250), maximumDelay: Duration = .seconds(30)) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    public func delay(attempt: Int) -> Duration {
        var d = initialDelay
        for _ in 0..<min(attempt, 32) where d < maximumDelay { d = d * 2 }
        return min(d, maximumDelay)
    }
}

/// What a client asks for when it connects (MQTT 5 §3.1; 3.1.1 where it applies).
public struct MQTTClientConfiguration: Sendable {
    public var endpoint: MQTTEndpoint
    /// With TLS: a PEM file of the certificate authorities to trust (default: the system's).
    public var tlsCAFile: String?
    /// With TLS: the name the server's certificate must carry (default: the endpoint's host).
    public var tlsServerName: String?
    public var version: MQTTVersion = .v5
    /// Empty: the server assigns one (MQTT 5 tells it back; reconnections reuse it).
    public var clientIdentifier = ""
    /// Start a new session (true) or resume the one the server keeps for this identifier.
    public var cleanStart = true
    /// MQTT 5: seconds the server keeps the session after the connection ends (0: not at all;
    /// `UInt32.max`: forever). MQTT 3.1.1 keeps it while `cleanStart` is false.
    public var sessionExpiry: UInt32 = 0
    /// Seconds of silence after which the client pings (0: no keep-alive).
    public var keepAlive: UInt16 = 60
    public var userName: String?
    public var password: [UInt8]?
    public var will: MQTTWill?
    /// MQTT 5: how many unacknowledged QoS 1/2 messages the server may send at once.
    public var receiveMaximum: UInt16?
    /// MQTT 5 enhanced authentication (§4.12): the method and the data CONNECT carries …
    public var authenticationMethod: String?
    public var authenticationData: [UInt8] = []
    /// … and the answer to each AUTH challenge the server sends (its authentication data in,
    /// the client's answer out). Throwing abandons the connection attempt.
    public var authenticate: (@Sendable (_ challenge: [UInt8]) async throws -> [UInt8])?
    /// Further CONNECT properties (user properties, request problem information, …).
    public var connectProperties = MQTTProperties()
    /// The longest a connection attempt (TCP, TLS, CONNECT to CONNACK) may take.
    public var connectTimeout: Duration = .seconds(10)
    /// Reconnect automatically after an established connection is lost (nil: stay disconnected
    /// until `connect()` is called again). Unacknowledged messages are resent either way.
    public var reconnect: MQTTReconnectPolicy?

    public init(endpoint: MQTTEndpoint) {
        self.endpoint = endpoint
    }

    /// The CONNECT this configuration sends (the identifier the server assigned, once known).
    func connectPacket(clientIdentifier id: String) -> MQTTConnect {
        var properties = connectProperties
        if version == .v5 {
            if sessionExpiry > 0 { properties.append(.sessionExpiryInterval, .uint32(sessionExpiry)) }
            if let receiveMaximum { properties.append(.receiveMaximum, .uint16(receiveMaximum)) }
            if let authenticationMethod {
                properties.append(.authenticationMethod, .string(authenticationMethod))
                if !authenticationData.isEmpty { properties.append(.authenticationData, .binary(authenticationData)) }
            }
        }
        return MQTTConnect(version: version, clientIdentifier: id, cleanStart: cleanStart, keepAlive: keepAlive,
                           userName: userName, password: password, will: will, properties: properties)
    }
}

/// An application message the client received.
public struct MQTTClientMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: UInt8
    public var retain: Bool
    /// MQTT 5: content type, response topic, correlation data, user properties, …
    public var properties: MQTTProperties

    public init(topic: String, payload: [UInt8], qos: UInt8, retain: Bool, properties: MQTTProperties) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// The server's answer to a QoS 1 or 2 publication (PUBACK, or PUBREC then PUBCOMP); a QoS 0
/// publication is "success" once written. Codes of 0x80 and above are refusals (MQTT 5).
public struct MQTTPublishResult: Sendable, Equatable {
    public var reasonCode: UInt8
    public var reasonString: String?

    public init(reasonCode: UInt8, reasonString: String? = nil) {
        self.reasonCode = reasonCode
        self.reasonString = reasonString
    }

    public var isSuccess: Bool { reasonCode < 0x80 }
}

/// What CONNACK told the client.
public struct MQTTConnectResult: Sendable, Equatable {
    /// The server resumed the session (its subscriptions and unacknowledged messages).
    public var sessionPresent: Bool
    /// The identifier the session is kept under (the server's choice when none was given).
    public var clientIdentifier: String
    /// How many QoS 1/2 messages the client may have unacknowledged at once.
    public var receiveMaximum: Int
    public var maximumQoS: UInt8
    /// The keep-alive in force (the server's when it set one).
    public var keepAlive: UInt16
    public var properties: MQTTProperties
}

/// A change in the client's connection (logs, bridges, tests).
public enum MQTTClientEvent: Sendable {
    case connected(MQTTConnectResult)
    case disconnected(MQTTClientError)
    /// Retrying in `delay` (attempt counts from 0).
    case reconnecting(attempt: Int, delay: Duration)
}
