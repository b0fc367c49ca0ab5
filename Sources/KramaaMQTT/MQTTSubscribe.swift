/// One topic filter of a SUBSCRIBE with its options (§3.8.3.1).
public struct MQTTSubscriptionRequest: Equatable, Sendable {
    public var filter: String
    public var qos: UInt8
    /// MQTT 5: do not send this client's own publications back to it.
    public var noLocal: Bool
    /// MQTT 5: keep the RETAIN flag as published.
    public var retainAsPublished: Bool
    /// MQTT 5: 0 send retained messages at subscribe, 1 only for a new subscription, 2 never.
    public var retainHandling: UInt8

    public init(filter: String, qos: UInt8 = 0, noLocal: Bool = false, retainAsPublished: Bool = false, retainHandling: UInt8 = 0) {
        self.filter = filter
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}

/// SUBSCRIBE (§3.8) and UNSUBSCRIBE (§3.10): a packet identifier, MQTT 5 properties, and a
/// non-empty list of filters (with options, for SUBSCRIBE).
public struct MQTTSubscribe: Equatable, Sendable {
    public var packetIdentifier: UInt16
    public var requests: [MQTTSubscriptionRequest]
    public var properties = MQTTProperties()

    public init(packetIdentifier: UInt16, requests: [MQTTSubscriptionRequest], properties: MQTTProperties = MQTTProperties()) {
        self.packetIdentifier = packetIdentifier
        self.requests = requests
        self.properties = properties
    }

    public init(body: [UInt8], version: MQTTVersion) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        packetIdentifier = try MQTTSubscribe.identifier(&r)
        properties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
        requests = []
        while !r.isAtEnd {
            let filter = try r.string()
            _ = try MQTTTopic.parseSubscription(filter)
            let options = try r.byte()
            let qos = options & 0x03
            guard qos != 3 else { throw .malformed("subscription QoS 3 for \(filter)") }
            switch version {
            case .v311:
                guard options & 0xfc == 0 else { throw .malformed("reserved subscription option bits set for \(filter)") }
                requests.append(MQTTSubscriptionRequest(filter: filter, qos: qos))
            case .v5:
                guard options & 0xc0 == 0 else { throw .malformed("reserved subscription option bits set for \(filter)") }
                let handling = options >> 4 & 0x03
                guard handling != 3 else { throw .protocolError("retain handling 3 for \(filter)") }
                if options & 0x04 != 0 && filter.hasPrefix("$share/") { throw .protocolError("no local on the shared subscription \(filter)") }
                requests.append(MQTTSubscriptionRequest(filter: filter, qos: qos, noLocal: options & 0x04 != 0,
                                                        retainAsPublished: options & 0x08 != 0, retainHandling: handling))
            }
        }
        guard !requests.isEmpty else { throw .protocolError("a SUBSCRIBE without topic filters") }
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.uint16(packetIdentifier)
        if version == .v5 { properties.write(to: &w) }
        for request in requests {
            w.string(request.filter)
            var options = request.qos & 0x03
            if version == .v5 {
                options |= (request.noLocal ? 0x04 : 0) | (request.retainAsPublished ? 0x08 : 0) | (request.retainHandling & 0x03) << 4
            }
            w.byte(options)
        }
        return MQTTFrame(type: .subscribe, flags: 0b0010, body: w.bytes)
    }

    static func identifier(_ r: inout MQTTReader) throws(MQTTDecodingError) -> UInt16 {
        let id = try r.uint16()
        guard id != 0 else { throw .malformed("packet identifier 0") }
        return id
    }
}

/// UNSUBSCRIBE (§3.10).
public struct MQTTUnsubscribe: Equatable, Sendable {
    public var packetIdentifier: UInt16
    public var filters: [String]
    public var properties = MQTTProperties()

    public init(packetIdentifier: UInt16, filters: [String], properties: MQTTProperties = MQTTProperties()) {
        self.packetIdentifier = packetIdentifier
        self.filters = filters
        self.properties = properties
    }

    public init(body: [UInt8], version: MQTTVersion) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        packetIdentifier = try MQTTSubscribe.identifier(&r)
        properties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
        filters = []
        while !r.isAtEnd {
            let filter = try r.string()
            _ = try MQTTTopic.parseSubscription(filter)
            filters.append(filter)
        }
        guard !filters.isEmpty else { throw .protocolError("an UNSUBSCRIBE without topic filters") }
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.uint16(packetIdentifier)
        if version == .v5 { properties.write(to: &w) }
        for filter in filters { w.string(filter) }
        return MQTTFrame(type: .unsubscribe, flags: 0b0010, body: w.bytes)
    }
}

/// SUBACK (§3.9) and UNSUBACK (§3.11): the identifier, MQTT 5 properties, and a reason code
/// per filter (SUBACK in 3.1.1: 0x00–0x02 granted QoS or 0x80 failure; UNSUBACK in 3.1.1: none).
public struct MQTTSubscribeAck: Equatable, Sendable {
    public var type: MQTTPacketType
    public var packetIdentifier: UInt16
    public var reasonCodes: [UInt8]
    public var properties = MQTTProperties()

    public init(_ type: MQTTPacketType, packetIdentifier: UInt16, reasonCodes: [UInt8], properties: MQTTProperties = MQTTProperties()) {
        precondition(type == .suback || type == .unsuback, "\(type) is not SUBACK or UNSUBACK")
        self.type = type
        self.packetIdentifier = packetIdentifier
        self.reasonCodes = reasonCodes
        self.properties = properties
    }

    /// Decodes a SUBACK or UNSUBACK (a client's side).
    public init(frame: MQTTFrame, version: MQTTVersion) throws(MQTTDecodingError) {
        guard frame.type == .suback || frame.type == .unsuback else { throw .protocolError("\(frame.type) is not SUBACK or UNSUBACK") }
        type = frame.type
        var r = MQTTReader(frame.body)
        packetIdentifier = try r.uint16()
        properties = version == .v5 ? try MQTTProperties(reading: &r) : MQTTProperties()
        reasonCodes = r.rest()
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        w.uint16(packetIdentifier)
        if version == .v5 { properties.write(to: &w) }
        if version == .v5 || type == .suback {
            // 3.1.1 SUBACK knows only granted QoS and 0x80.
            for code in reasonCodes { w.byte(version == .v5 || code <= 2 ? code : 0x80) }
        }
        return MQTTFrame(type: type, body: w.bytes)
    }
}

/// DISCONNECT (§3.14): in MQTT 5 a reason code and properties, both omitted for a normal
/// disconnection without properties; in 3.1.1 nothing.
public struct MQTTDisconnect: Equatable, Sendable {
    public var reasonCode: UInt8
    public var properties = MQTTProperties()

    public init(reasonCode: UInt8 = 0, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }

    public init(body: [UInt8], version: MQTTVersion) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        (reasonCode, properties) = try ReasonTail.read(&r, version: version)
        guard r.isAtEnd else { throw .malformed("bytes after the DISCONNECT") }
    }

    public func frame(version: MQTTVersion) -> MQTTFrame {
        var w = MQTTWriter()
        ReasonTail.write(reasonCode, properties, to: &w, version: version)
        return MQTTFrame(type: .disconnect, body: w.bytes)
    }
}

/// AUTH (§3.15, MQTT 5 only): a step of enhanced authentication. Reason 0x00 success,
/// 0x18 continue authentication, 0x19 re-authenticate; the method and data are properties.
public struct MQTTAuth: Equatable, Sendable {
    public var reasonCode: UInt8
    public var properties = MQTTProperties()

    public init(reasonCode: UInt8 = 0, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }

    public init(body: [UInt8]) throws(MQTTDecodingError) {
        var r = MQTTReader(body)
        (reasonCode, properties) = try ReasonTail.read(&r, version: .v5)
        guard r.isAtEnd else { throw .malformed("bytes after the AUTH") }
        guard [0x00, 0x18, 0x19].contains(reasonCode) else { throw .protocolError("AUTH with reason code \(reasonCode)") }
    }

    public var method: String? { properties.string(.authenticationMethod) }
    public var data: [UInt8] { properties.binary(.authenticationData) ?? [] }

    public var frame: MQTTFrame {
        var w = MQTTWriter()
        ReasonTail.write(reasonCode, properties, to: &w, version: .v5)
        return MQTTFrame(type: .auth, body: w.bytes)
    }
}
