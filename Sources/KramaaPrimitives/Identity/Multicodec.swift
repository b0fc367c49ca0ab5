/// Why bytes do not start with a valid unsigned varint.
public enum VarintError: Error, Hashable, CustomStringConvertible {
    /// The input ended inside the varint.
    case truncated
    /// More bytes than the value needs (a trailing `0x00` group), which the multiformats
    /// spec forbids so that each value has one encoding.
    case notMinimal
    /// More than 9 bytes, or a value above 2⁶³ − 1.
    case tooLarge

    public var description: String {
        switch self {
        case .truncated: return "varint is truncated: its last byte has the continuation bit set"
        case .notMinimal: return "varint is not minimally encoded (it ends in a zero group)"
        case .tooLarge: return "varint is longer than 9 bytes"
        }
    }
}

/// The multiformats unsigned varint: 7 bits per byte, least significant group first, high
/// bit set on every byte but the last.
public enum Varint {
    /// The encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    /// Reads one varint from the front of `bytes`: its value and how many bytes it used.
    public static func decode(_ bytes: some Collection<UInt8>) throws(VarintError) -> (value: UInt64, length: Int) {
        var value: UInt64 = 0
        var length = 0
        for byte in bytes {
            guard length < 9 else { throw .tooLarge }
            value |= UInt64(byte & 0x7f) << (7 * UInt64(length))
            length += 1
            if byte & 0x80 == 0 {
                if byte == 0 && length > 1 { throw .notMinimal }
                return (value, length)
            }
        }
        throw .truncated
    }
}

/// A multicodec code (from the multiformats table) that Kramaa knows by name.
public struct Multicodec: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `ed25519-pub`: 32-byte Ed25519 public key.
    public static let ed25519Pub = Multicodec(rawValue: 0xed)
    /// `x25519-pub`: 32-byte X25519 public key.
    public static let x25519Pub = Multicodec(rawValue: 0xec)
    /// `secp256k1-pub`: 33-byte compressed secp256k1 point.
    public static let secp256k1Pub = Multicodec(rawValue: 0xe7)
    /// `p256-pub`: 33-byte compressed P-256 point.
    public static let p256Pub = Multicodec(rawValue: 0x1200)
    /// `p384-pub`: compressed P-384 point (recognised, not supported).
    public static let p384Pub = Multicodec(rawValue: 0x1201)
    /// `p521-pub`: compressed P-521 point (recognised, not supported).
    public static let p521Pub = Multicodec(rawValue: 0x1202)

    static let names: [UInt64: String] = [
        0xed: "ed25519-pub", 0xec: "x25519-pub", 0xe7: "secp256k1-pub",
        0x1200: "p256-pub", 0x1201: "p384-pub", 0x1202: "p521-pub",
        0x1205: "rsa-pub", 0xeb: "bls12_381-g1-pub", 0xee: "bls12_381-g2-pub",
    ]

    /// The table name, if Kramaa knows it.
    public var name: String? { Self.names[rawValue] }

    /// The varint that prefixes data of this codec.
    public var prefix: [UInt8] { Varint.encode(rawValue) }

    /// `name (0xcode)`.
    public var description: String {
        let hex = "0x" + String(rawValue, radix: 16)
        return name.map { "\($0) (\(hex))" } ?? hex
    }
}
