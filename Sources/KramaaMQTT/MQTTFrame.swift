/// MQTT control packet types (the fixed header's high nibble, MQTT 5 §2.1.2).
public enum MQTTPacketType: UInt8, Sendable {
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback
    case unsubscribe, unsuback, pingreq, pingresp, disconnect, auth
}

/// One packet cut from a byte stream: its type, the fixed header's flags, and its body (the
/// variable header and payload).
public struct MQTTFrame: Equatable, Sendable {
    public var type: MQTTPacketType
    public var flags: UInt8
    public var body: [UInt8]

    public init(type: MQTTPacketType, flags: UInt8 = 0, body: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.body = body
    }

    /// The packet's bytes: fixed header (type, flags, remaining length) and body.
    public var encoded: [UInt8] {
        var w = MQTTWriter()
        w.byte(type.rawValue << 4 | flags & 0x0f)
        w.variableInteger(body.count)
        w.append(body)
        return w.bytes
    }

    /// Flags a packet type must carry (§2.1.3); PUBLISH's are its DUP, QoS and RETAIN.
    static func requiredFlags(_ type: MQTTPacketType) -> UInt8? {
        switch type {
        case .publish: nil
        case .pubrel, .subscribe, .unsubscribe: 0b0010
        default: 0
        }
    }

    /// Cuts the first packet from `buffer` (from `start`). Returns nil when more bytes are
    /// needed, else the frame and the bytes it took. A packet larger than `maximumSize` (whole
    /// packet, fixed header included) is refused as soon as its length is known, before its
    /// body arrives.
    public static func next(in buffer: [UInt8], from start: Int = 0,
                            maximumSize: Int = MQTTWriter.maxVariableInteger + 5) throws(MQTTDecodingError) -> (frame: MQTTFrame, size: Int)? {
        guard start < buffer.count else { return nil }
        let first = buffer[start]
        guard let type = MQTTPacketType(rawValue: first >> 4) else {
            throw .malformed("packet type 0 (reserved)")
        }
        let flags = first & 0x0f
        if let required = requiredFlags(type), flags != required {
            throw .malformed("\(type) with fixed header flags \(flags), not \(required)")
        }
        if type == .publish && flags & 0b0110 == 0b0110 { throw .malformed("PUBLISH with QoS 3") }
        // The remaining length, which may itself be incomplete.
        guard let (length, lengthSize) = try MQTTReader.variableInteger(in: buffer, at: start + 1, end: buffer.count) else { return nil }
        let index = start + 1 + lengthSize
        let size = index - start + length
        guard size <= maximumSize else { throw .packetTooLarge(size: size, maximum: maximumSize) }
        guard buffer.count - index >= length else { return nil }
        return (MQTTFrame(type: type, flags: flags, body: Array(buffer[index..<index + length])), size)
    }
}
