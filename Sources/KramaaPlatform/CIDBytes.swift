/// A content identifier in its binary form, checked structurally: what the file registry takes
/// (docs/FILES.md, "The file registry"). It knows only what the platform stores: CIDv0
/// (`0x12 0x20 ‖ digest`, dag-pb) and CIDv1 (`varint 1 ‖ varint codec ‖ varint 0x12 ‖ varint 32
/// ‖ digest`) with the codecs raw, dag-pb and dag-cbor, over SHA2-256. Varints are unsigned
/// LEB128 in their minimal form, as multiformats requires. The content store has its own CID
/// type; this one exists so that the contract depends on nothing above it.
public struct CIDBytes: Sendable, Hashable {
    /// The multicodecs a pinned file's root may have.
    public enum Codec: UInt64, Sendable {
        case raw = 0x55, dagPB = 0x70, dagCBOR = 0x71
    }

    /// The multihash code of SHA2-256, the only hash accepted, and its digest length.
    public static let sha256Code: UInt64 = 0x12, digestLength = 32

    public let version: UInt64
    public let codec: Codec
    /// The SHA2-256 digest.
    public let digest: [UInt8]

    /// Parses `bytes` as a whole CID (nothing may follow the digest).
    public init(_ bytes: [UInt8]) throws(CIDBytesError) {
        guard !bytes.isEmpty else { throw .empty }
        if bytes.count == 2 + Self.digestLength, bytes[0] == 0x12, bytes[1] == 0x20 {
            version = 0
            codec = .dagPB
            digest = Array(bytes[2...])
            return
        }
        var reader = VarintReader(bytes: bytes)
        version = try reader.next()
        guard version != 0, version != Self.sha256Code else { throw .malformedVersion0 }
        guard version == 1 else { throw .unsupportedVersion(version) }
        let code = try reader.next()
        guard let codec = Codec(rawValue: code) else { throw .unknownCodec(code) }
        self.codec = codec
        let hash = try reader.next()
        guard hash == Self.sha256Code else { throw .unsupportedHash(hash) }
        let length = try reader.next()
        guard length == Self.digestLength else { throw .digestLength(length) }
        guard bytes.count - reader.offset >= Self.digestLength else { throw .truncated }
        guard bytes.count - reader.offset == Self.digestLength else { throw .trailingBytes(bytes.count - reader.offset - Self.digestLength) }
        digest = Array(bytes[reader.offset...])
    }

    /// The CIDv1 binary form (a CIDv0 becomes its dag-pb CIDv1): the same content always has
    /// the same canonical bytes, whichever version named it.
    public var canonical: [UInt8] {
        [0x01, UInt8(codec.rawValue), UInt8(Self.sha256Code), UInt8(Self.digestLength)] + digest
    }

    /// Unsigned LEB128 varints, minimal, at most 9 bytes (63 bits), as multiformats defines them.
    struct VarintReader {
        let bytes: [UInt8]
        var offset = 0

        mutating func next() throws(CIDBytesError) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<9 {
                guard offset < bytes.count else { throw .truncated }
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << (7 * UInt64(i))
                if byte & 0x80 == 0 {
                    guard byte != 0 || i == 0 else { throw .nonMinimalVarint }
                    return value
                }
            }
            throw .varintTooLong
        }
    }
}

/// Why bytes are not a CID the file registry takes.
public enum CIDBytesError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    /// Text that is none of the forms ``CIDBytes/init(text:)`` reads.
    case unreadableText(String)
    case truncated
    case nonMinimalVarint
    case varintTooLong
    case malformedVersion0
    case unsupportedVersion(UInt64)
    case unknownCodec(UInt64)
    case unsupportedHash(UInt64)
    case digestLength(UInt64)
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .empty: "a CID cannot be empty"
        case .unreadableText(let text): "\(text.prefix(100)) is not a CID in base32 (b…), base58btc (Qm…, z…) or hex (0x…)"
        case .truncated: "the CID ends before its digest does"
        case .nonMinimalVarint: "a varint of the CID is not in its minimal form"
        case .varintTooLong: "a varint of the CID is longer than 9 bytes"
        case .malformedVersion0: "a CIDv0 is 0x12 0x20 followed by a 32-byte sha2-256 digest"
        case .unsupportedVersion(let v): "CID version \(v) is not supported (0 or 1)"
        case .unknownCodec(let c): "codec 0x\(String(c, radix: 16)) is not raw (0x55), dag-pb (0x70) or dag-cbor (0x71)"
        case .unsupportedHash(let h): "multihash 0x\(String(h, radix: 16)) is not sha2-256 (0x12)"
        case .digestLength(let l): "a sha2-256 digest has 32 bytes, not \(l)"
        case .trailingBytes(let n): "\(n) bytes follow the CID's digest"
        }
    }
}
