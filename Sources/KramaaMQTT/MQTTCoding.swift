/// Why bytes are not a valid MQTT packet: each maps to the reason code the specification
/// prescribes for it (0x81 Malformed Packet, 0x82 Protocol Error, 0x95 Packet too large).
public enum MQTTDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes break the packet's encoding rules (MQTT 5 §1.5, §2.1–2.2).
    case malformed(String)
    /// Well formed but not allowed here (a reserved flag set, a property twice, …).
    case protocolError(String)
    /// The packet is larger than the maximum the receiver accepts.
    case packetTooLarge(size: Int, maximum: Int)
    /// A CONNECT for a protocol this server does not speak (name and level).
    case unsupportedProtocolVersion(name: String, level: UInt8)

    public var reasonCode: UInt8 {
        switch self {
        case .malformed: 0x81
        case .protocolError: 0x82
        case .packetTooLarge: 0x95
        case .unsupportedProtocolVersion: 0x84
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): "malformed packet: \(why)"
        case .protocolError(let why): "protocol error: \(why)"
        case .packetTooLarge(let size, let maximum): "packet of \(size) bytes is larger than the maximum of \(maximum)"
        case .unsupportedProtocolVersion(let name, let level): "protocol \(name) level \(level) is not MQTT 3.1.1 (4) or 5.0 (5)"
        }
    }
}

/// Reads MQTT's data representations (MQTT 5 §1.5) from a packet's bytes.
public struct MQTTReader {
    let bytes: [UInt8]
    public private(set) var index: Int
    let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { index >= end }
    public var remaining: Int { end - index }

    public mutating func byte() throws(MQTTDecodingError) -> UInt8 {
        guard index < end else { throw .malformed("the packet ends early") }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func uint16() throws(MQTTDecodingError) -> UInt16 {
        UInt16(try byte()) << 8 | UInt16(try byte())
    }

    public mutating func uint32() throws(MQTTDecodingError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(try byte()) }
        return value
    }

    /// A Variable Byte Integer: 1–4 bytes, 7 bits each, least significant first (§1.5.5).
    public mutating func variableInteger() throws(MQTTDecodingError) -> Int {
        guard let (value, size) = try Self.variableInteger(in: bytes, at: index, end: end) else {
            throw .malformed("the packet ends early")
        }
        index += size
        return value
    }

    /// The variable byte integer at `start` and the bytes it takes; nil when `end` comes first
    /// (a stream that has not delivered it all yet).
    public static func variableInteger(in bytes: [UInt8], at start: Int, end: Int) throws(MQTTDecodingError) -> (value: Int, size: Int)? {
        var value = 0, multiplier = 1
        for position in 0..<4 {
            guard start + position < end else { return nil }
            let b = bytes[start + position]
            // [MQTT-1.5.5-1]: the minimum number of bytes; a trailing zero byte adds nothing.
            if position > 0 && b == 0 { throw .malformed("a variable byte integer in more bytes than needed") }
            value += Int(b & 0x7f) * multiplier
            if b & 0x80 == 0 { return (value, position + 1) }
            multiplier *= 128
        }
        throw .malformed("a variable byte integer longer than 4 bytes")
    }

    public mutating func binary() throws(MQTTDecodingError) -> [UInt8] {
        let length = Int(try uint16())
        guard length <= remaining else { throw .malformed("binary data of \(length) bytes runs past the packet") }
        defer { index += length }
        return Array(bytes[index..<index + length])
    }

    /// The next `count` bytes.
    public mutating func bytes(_ count: Int) throws(MQTTDecodingError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw .malformed("\(count) bytes wanted, \(remaining) left") }
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    /// A UTF-8 Encoded String (§1.5.4): well-formed UTF-8, no U+0000.
    public mutating func string() throws(MQTTDecodingError) -> String {
        let raw = try binary()
        guard let text = String(validating: raw, as: UTF8.self) else { throw .malformed("a string that is not well-formed UTF-8") }
        guard !raw.contains(0) else { throw .malformed("a string containing U+0000") }
        return text
    }

    /// The rest of the packet (a PUBLISH payload).
    public mutating func rest() -> [UInt8] {
        defer { index = end }
        return Array(bytes[index..<end])
    }
}

/// Writes MQTT's data representations.
public struct MQTTWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func uint16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 0xff))
    }

    public mutating func uint32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(v >> UInt32(shift) & 0xff)) }
    }

    /// Values up to 268,435,455 (the largest four bytes hold).
    public mutating func variableInteger(_ value: Int) {
        precondition(value >= 0 && value <= MQTTWriter.maxVariableInteger, "variable byte integer \(value) out of range")
        var v = value
        repeat {
            var b = UInt8(v % 128)
            v /= 128
            if v > 0 { b |= 0x80 }
            bytes.append(b)
        } while v > 0
    }

    public static let maxVariableInteger = 268_435_455

    public mutating func binary(_ data: [UInt8]) {
        precondition(data.count <= 65_535, "binary data longer than 65,535 bytes")
        uint16(UInt16(data.count))
        bytes += data
    }

    public mutating func string(_ text: String) { binary(Array(text.utf8)) }

    public mutating func append(_ raw: [UInt8]) { bytes += raw }

    /// The number of bytes `value` takes as a variable byte integer.
    public static func variableIntegerSize(_ value: Int) -> Int {
        value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4
    }
}

/// MQTT 5's optional tail of acknowledgements and DISCONNECT (§3.4.2.1, §3.14.2.1): a reason
/// code and properties, both omitted when the code is 0 (success) and there are no properties.
enum ReasonTail {
    static func read(_ r: inout MQTTReader, version: MQTTVersion) throws(MQTTDecodingError) -> (UInt8, MQTTProperties) {
        var code: UInt8 = 0, properties = MQTTProperties()
        if version == .v5 && !r.isAtEnd {
            code = try r.byte()
            if !r.isAtEnd { properties = try MQTTProperties(reading: &r) }
        }
        return (code, properties)
    }

    static func write(_ code: UInt8, _ properties: MQTTProperties, to w: inout MQTTWriter, version: MQTTVersion) {
        guard version == .v5 && (code != 0 || !properties.entries.isEmpty) else { return }
        w.byte(code)
        if !properties.entries.isEmpty { properties.write(to: &w) }
    }
}
