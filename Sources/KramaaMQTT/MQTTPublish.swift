/// PUBLISH (§3.3): an application message.
public struct MQTTPublish: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: UInt8
    public var retain: Bool
    public var duplicate: Bool
    /// Present for QoS 1 and 2 (never 0).
    public var packetIdentifier: UInt16?
    public var properties = MQTTProperties()

    public init(topic: String, payload: [UInt8], qos: UInt8 = 0, retain: Bool = false, duplicate: Bool = false,
                packetIdentifier: UInt16? = nil, properties: MQTTProperties = MQTTProperties()) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.duplicate = duplicate
        self.packetIdentifier = packetIdentifier
        self.properties = properties
    }

    /// Decodes a PUBLISH frame. An empty topic is allowed in MQTT 5 only with a Topic Alias.
    public init(frame: MQTTFrame, version: MQTTVersion) throws(MQTTDecodingError) {
        qos = frame.flags >> 1 & 0x03
        retain = frame.flags & 0x01 != 0
        duplicate = frame.flags & 0x08 != 0
        guard qos != 3 else { throw .malformed("PUBLISH with QoS 3") }
        guard !(qos == 0 && duplicate) else { throw .malformed("DUP set on a QoS 0 PUBLISH") }
        var r = MQTTReader(frame.body)
        topic = try r.string()
        if qos > 0 {
            let id = try r.uint16()
            guard id != 0 else { throw .malformed("packet identifier 0") }
            packetIdentifier = id
        }
        properties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
        if topic.isEmpty {
            guard version == .v5, properties.uint16(.topicAlias) != nil else { throw .protocolError("an empty topic name without a topic alias") }
        } else {
            try MQTTTopic.validateName(topic)
        }
        payload = r.rest()
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.string(topic)
        if qos > 0 { w.uint16(packetIdentifier ?? 1) }
        if version == .v5 { properties.write(to: &w) }
        w.append(payload)
        let flags = (duplicate ? 0x08 : 0) | (qos & 0x03) << 1 | (retain ? 0x01 : 0)
        return MQTTFrame(type: .publish, flags: flags, body: w.bytes)
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4–3.7):
/// a packet identifier with, in MQTT 5, a reason code and properties (both omitted when the
/// code is 0 and there are no properties, as §3.4.2.1 allows).
public struct MQTTAck: Equatable, Sendable {
    public var type: MQTTPacketType
    public var packetIdentifier: UInt16
    public var reasonCode: UInt8
    public var properties = MQTTProperties()

    public init(_ type: MQTTPacketType, packetIdentifier: UInt16, reasonCode: UInt8 = 0, properties: MQTTProperties = MQTTProperties()) {
        precondition([.puback, .pubrec, .pubrel, .pubcomp].contains(type), "\(type) is not a publish acknowledgement")
        self.type = type
        self.packetIdentifier = packetIdentifier
        self.reasonCode = reasonCode
        self.properties = properties
    }

    public init(frame: MQTTFrame, version: MQTTVersion) throws(MQTTDecodingError) {
        guard [.puback, .pubrec, .pubrel, .pubcomp].contains(frame.type) else { throw .protocolError("\(frame.type) is not a publish acknowledgement") }
        type = frame.type
        var r = MQTTReader(frame.body)
        packetIdentifier = try r.uint16()
        guard packetIdentifier != 0 else { throw .malformed("packet identifier 0") }
        (reasonCode, properties) = try ReasonTail.read(&r, version: version)
        guard r.isAtEnd else { throw .malformed("bytes after the \(type) packet") }
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.uint16(packetIdentifier)
        ReasonTail.write(reasonCode, properties, to: &w, version: version)
        return MQTTFrame(type: type, flags: type == .pubrel ? 0b0010 : 0, body: w.bytes)
    }
}
