/// The protocol versions the server speaks.
public enum MQTTVersion: UInt8, Sendable {
    case v311 = 4, v5 = 5
}

/// A will message, published if the connection ends without DISCONNECT.
public struct MQTTWill: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: UInt8
    public var retain: Bool
    /// MQTT 5: Will Delay Interval, Message Expiry, Content Type, … (empty for 3.1.1).
    public var properties = MQTTProperties()

    public init(topic: String, payload: [UInt8], qos: UInt8 = 0, retain: Bool = false, properties: MQTTProperties = MQTTProperties()) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// CONNECT (§3.1): what a client asks for when it connects.
public struct MQTTConnect: Equatable, Sendable {
    public var version: MQTTVersion
    public var clientIdentifier: String
    public var cleanStart: Bool
    public var keepAlive: UInt16
    public var userName: String?
    public var password: [UInt8]?
    public var will: MQTTWill?
    public var properties = MQTTProperties()

    public init(version: MQTTVersion, clientIdentifier: String, cleanStart: Bool = true, keepAlive: UInt16 = 60,
                userName: String? = nil, password: [UInt8]? = nil, will: MQTTWill? = nil, properties: MQTTProperties = MQTTProperties()) {
        self.version = version
        self.clientIdentifier = clientIdentifier
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.userName = userName
        self.password = password
        self.will = will
        self.properties = properties
    }

    /// Decodes a CONNECT frame's body, checking the connect flags' rules (§3.1.2.3–3.1.2.9).
    public init(body: [UInt8]) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        let name = try r.string()
        let level = try r.byte()
        guard name == "MQTT", let version = MQTTVersion(rawValue: level) else {
            // 3.1's "MQIsdp" and unknown levels: refused with the unsupported-version code.
            throw .unsupportedProtocolVersion(name: name, level: level)
        }
        self.version = version
        let flags = try r.byte()
        guard flags & 0x01 == 0 else { throw .malformed("the reserved connect flag is set") }
        cleanStart = flags & 0x02 != 0
        let hasWill = flags & 0x04 != 0
        let willQoS = flags >> 3 & 0x03
        let willRetain = flags & 0x20 != 0
        guard willQoS != 3 else { throw .malformed("will QoS 3") }
        if !hasWill && (willQoS != 0 || willRetain) { throw .malformed("will QoS or retain set without a will") }
        let hasPassword = flags & 0x40 != 0, hasUserName = flags & 0x80 != 0
        if version == .v311 && hasPassword && !hasUserName { throw .protocolError("a password without a user name (MQTT 3.1.1)") }
        keepAlive = try r.uint16()
        properties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
        clientIdentifier = try r.string()
        if hasWill {
            let willProperties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
            let topic = try r.string()
            try MQTTTopic.validateName(topic)
            will = MQTTWill(topic: topic, payload: try r.binary(), qos: willQoS, retain: willRetain, properties: willProperties)
        }
        userName = hasUserName ? try r.string() : nil
        password = hasPassword ? try r.binary() : nil
        guard r.isAtEnd else { throw .malformed("\(r.remaining) bytes after the CONNECT payload") }
    }

    /// The CONNECT frame.
    public var frame: MQTTFrame {
        var w = MQTTWriter()
        w.string("MQTT")
        w.byte(version.rawValue)
        var flags: UInt8 = cleanStart ? 0x02 : 0
        if let will { flags |= 0x04 | (will.qos & 0x03) << 3 | (will.retain ? 0x20 : 0) }
        if password != nil { flags |= 0x40 }
        if userName != nil { flags |= 0x80 }
        w.byte(flags)
        w.uint16(keepAlive)
        if version == .v5 { properties.write(to: &w) }
        w.string(clientIdentifier)
        if let will {
            if version == .v5 { will.properties.write(to: &w) }
            w.string(will.topic)
            w.binary(will.payload)
        }
        if let userName { w.string(userName) }
        if let password { w.binary(password) }
        return MQTTFrame(type: .connect, body: w.bytes)
    }
}

/// CONNACK (§3.2): the server's answer to CONNECT. MQTT 3.1.1 return codes are written from
/// the MQTT 5 reason code (0x00 accepted; 0x84 → 1, 0x85 → 2, 0x88/0x89 → 3, 0x86 → 4, 0x87 → 5).
public struct MQTTConnAck: Equatable, Sendable {
    public var sessionPresent: Bool
    public var reasonCode: UInt8
    public var properties = MQTTProperties()

    public init(sessionPresent: Bool = false, reasonCode: UInt8 = 0, properties: MQTTProperties = MQTTProperties()) {
        self.sessionPresent = sessionPresent
        self.reasonCode = reasonCode
        self.properties = properties
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.byte(sessionPresent && reasonCode == 0 ? 1 : 0)
        switch version {
        case .v5:
            w.byte(reasonCode)
            properties.write(to: &w)
        case .v311:
            w.byte(Self.returnCode311(reasonCode))
        }
        return MQTTFrame(type: .connack, body: w.bytes)
    }

    /// The 3.1.1 return code for an MQTT 5 CONNACK reason code.
    public static func returnCode311(_ reasonCode: UInt8) -> UInt8 {
        switch reasonCode {
        case 0x00: 0
        case 0x84: 1
        case 0x85: 2
        case 0x88, 0x89: 3
        case 0x86: 4
        default: 5  // 0x87 Not authorized, and every other refusal
        }
    }

    public init(body: [UInt8], version: MQTTVersion) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        let flags = try r.byte()
        guard flags & 0xfe == 0 else { throw .malformed("reserved CONNACK flags set") }
        sessionPresent = flags == 1
        reasonCode = try r.byte()
        properties = version == .v5 && !r.isAtEnd ? try MQTTProperties(reading: &r) : MQTTProperties()
        guard r.isAtEnd else { throw .malformed("bytes after the CONNACK") }
    }
}
