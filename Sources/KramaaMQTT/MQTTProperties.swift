/// The properties of an MQTT 5 packet (§2.2.2): identifiers with typed values, in the order
/// received. Only User Property (and Subscription Identifier, in PUBLISH) may appear more than
/// once; any other repeated property is a Protocol Error.
public struct MQTTProperties: Equatable, Sendable {
    /// A property's value, as its identifier's type says.
    public enum Value: Equatable, Sendable {
        case byte(UInt8)
        case uint16(UInt16)
        case uint32(UInt32)
        case variableInteger(Int)
        case string(String)
        case binary([UInt8])
        case pair(String, String)
    }

    /// The property identifiers (§2.2.2.2).
    public enum Identifier: UInt8, Sendable, CaseIterable {
        case payloadFormatIndicator = 0x01, messageExpiryInterval = 0x02, contentType = 0x03, responseTopic = 0x08
        case correlationData = 0x09, subscriptionIdentifier = 0x0b, sessionExpiryInterval = 0x11
        case assignedClientIdentifier = 0x12, serverKeepAlive = 0x13, authenticationMethod = 0x15, authenticationData = 0x16
        case requestProblemInformation = 0x17, willDelayInterval = 0x18, requestResponseInformation = 0x19
        case responseInformation = 0x1a, serverReference = 0x1c, reasonString = 0x1f, receiveMaximum = 0x21
        case topicAliasMaximum = 0x22, topicAlias = 0x23, maximumQoS = 0x24, retainAvailable = 0x25, userProperty = 0x26
        case maximumPacketSize = 0x27, wildcardSubscriptionAvailable = 0x28, subscriptionIdentifierAvailable = 0x29
        case sharedSubscriptionAvailable = 0x2a

        enum Kind { case byte, uint16, uint32, variableInteger, string, binary, pair }

        var kind: Kind {
            switch self {
            case .payloadFormatIndicator, .requestProblemInformation, .requestResponseInformation, .maximumQoS, .retainAvailable,
                 .wildcardSubscriptionAvailable, .subscriptionIdentifierAvailable, .sharedSubscriptionAvailable: .byte
            case .serverKeepAlive, .receiveMaximum, .topicAliasMaximum, .topicAlias: .uint16
            case .messageExpiryInterval, .sessionExpiryInterval, .willDelayInterval, .maximumPacketSize: .uint32
            case .subscriptionIdentifier: .variableInteger
            case .contentType, .responseTopic, .assignedClientIdentifier, .authenticationMethod, .responseInformation,
                 .serverReference, .reasonString: .string
            case .correlationData, .authenticationData: .binary
            case .userProperty: .pair
            }
        }

        /// Whether the identifier may appear more than once in one packet.
        var repeatable: Bool { self == .userProperty || self == .subscriptionIdentifier }
    }

    public private(set) var entries: [(Identifier, Value)] = []

    public init() {}

    public static func == (a: MQTTProperties, b: MQTTProperties) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Adds a property; its value must have the identifier's type.
    public mutating func append(_ id: Identifier, _ value: Value) {
        precondition(Self.kind(of: value) == id.kind, "property \(id) takes a \(id.kind), not \(value)")
        entries.append((id, value))
    }

    /// The first value of `id`, if present.
    public subscript(_ id: Identifier) -> Value? { entries.first { $0.0 == id }?.1 }

    /// Every user property, in order.
    public var userProperties: [(String, String)] {
        entries.compactMap { if case .pair(let k, let v) = $0.1 { (k, v) } else { nil } }
    }

    public func uint32(_ id: Identifier) -> UInt32? { if case .uint32(let v)? = self[id] { v } else { nil } }
    public func uint16(_ id: Identifier) -> UInt16? { if case .uint16(let v)? = self[id] { v } else { nil } }
    public func byte(_ id: Identifier) -> UInt8? { if case .byte(let v)? = self[id] { v } else { nil } }
    public func string(_ id: Identifier) -> String? { if case .string(let v)? = self[id] { v } else { nil } }
    public func binary(_ id: Identifier) -> [UInt8]? { if case .binary(let v)? = self[id] { v } else { nil } }

    static func kind(of value: Value) -> Identifier.Kind {
        switch value {
        case .byte: .byte
        case .uint16: .uint16
        case .uint32: .uint32
        case .variableInteger: .variableInteger
        case .string: .string
        case .binary: .binary
        case .pair: .pair
        }
    }

    /// Reads the property length and the properties it covers.
    public init(reading r: inout MQTTReader) throws(MQTTDecodingError) {
        let length = try r.variableInteger()
        guard length <= r.remaining else { throw .malformed("properties of \(length) bytes run past the packet") }
        let stop = r.index + length
        var seen = Set<UInt8>()
        while r.index < stop {
            let raw = try r.variableInteger()
            guard raw <= 0x7f, let id = Identifier(rawValue: UInt8(raw)) else { throw .malformed("unknown property identifier \(raw)") }
            guard seen.insert(id.rawValue).inserted || id.repeatable else { throw .protocolError("property \(id) more than once") }
            let value: Value
            switch id.kind {
            case .byte: value = .byte(try r.byte())
            case .uint16: value = .uint16(try r.uint16())
            case .uint32: value = .uint32(try r.uint32())
            case .variableInteger:
                let v = try r.variableInteger()
                guard v > 0 else { throw .protocolError("a subscription identifier of 0") }
                value = .variableInteger(v)
            case .string: value = .string(try r.string())
            case .binary: value = .binary(try r.binary())
            case .pair: value = .pair(try r.string(), try r.string())
            }
            guard r.index <= stop else { throw .malformed("property \(id) runs past the property length") }
            entries.append((id, value))
        }
    }

    /// Writes the property length and the properties.
    public func write(to w: inout MQTTWriter) {
        var body = MQTTWriter()
        for (id, value) in entries {
            body.variableInteger(Int(id.rawValue))
            switch value {
            case .byte(let v): body.byte(v)
            case .uint16(let v): body.uint16(v)
            case .uint32(let v): body.uint32(v)
            case .variableInteger(let v): body.variableInteger(v)
            case .string(let v): body.string(v)
            case .binary(let v): body.binary(v)
            case .pair(let k, let v):
                body.string(k)
                body.string(v)
            }
        }
        w.variableInteger(body.bytes.count)
        w.append(body.bytes)
    }
}
