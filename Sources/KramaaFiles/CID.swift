/// A content identifier: CIDv0 (a bare sha2-256 multihash of a dag-pb block, base58btc `Qm…`)
/// or CIDv1 (version, codec, multihash; base32 `b…` by default). Blocks are named, found and
/// checked by it.
public struct CID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let version: Int
    public let codec: UInt64
    public let multihash: Multihash

    public static let raw: UInt64 = 0x55
    public static let dagPB: UInt64 = 0x70
    public static let dagCBOR: UInt64 = 0x71
    public static let dagJSON: UInt64 = 0x0129

    /// Names from the multicodec table for the codecs we meet.
    public static let codecNames: [UInt64: String] = [
        0x55: "raw", 0x70: "dag-pb", 0x71: "dag-cbor", 0x0129: "dag-json", 0x72: "libp2p-key", 0x78: "git-raw",
        0x85: "dag-jose", 0xb0: "bitcoin-block", 0xb1: "bitcoin-tx", 0xc0: "zcash-block", 0xc1: "zcash-tx",
        0x0200: "json", 0x51: "cbor",
    ]

    public init(version: Int = 1, codec: UInt64, multihash: Multihash) throws(FilesError) {
        if version == 0 {
            guard codec == Self.dagPB, multihash.code == Multihash.sha2_256, multihash.digest.count == 32 else {
                throw .malformedCID("CIDv0 is only dag-pb with a 32-byte sha2-256 multihash")
            }
        } else if version != 1 {
            throw .malformedCID("CID version \(version) is not defined; versions are 0 and 1")
        }
        if multihash.code == Multihash.identity && multihash.digest.count > Multihash.maximumIdentityLength {
            throw .malformedCID("identity multihash of \(multihash.digest.count) bytes (at most \(Multihash.maximumIdentityLength))")
        }
        self.version = version
        self.codec = codec
        self.multihash = multihash
    }

    /// The CIDv1 of `bytes` in `codec`, hashed with sha2-256.
    public static func v1(_ codec: UInt64, hashing bytes: [UInt8]) -> CID {
        try! CID(version: 1, codec: codec, multihash: .sha256(bytes))
    }

    /// The binary form (CIDv0: the multihash alone).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(multihash.digest.count + 6)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        if version == 1 {
            Varint.write(1, to: &out)
            Varint.write(codec, to: &out)
        }
        multihash.write(to: &out)
    }

    /// Reads a binary CID at `offset` (one of several in a CAR section or a CBOR tag).
    public static func read(_ bytes: [UInt8], at offset: inout Int) throws(FilesError) -> CID {
        if bytes.count - offset >= 34 && bytes[offset] == 0x12 && bytes[offset + 1] == 0x20 {
            let mh = try Multihash.read(bytes, at: &offset)
            return try CID(version: 0, codec: dagPB, multihash: mh)
        }
        let version = try Varint.read(bytes, at: &offset)
        guard version == 1 else {
            throw .malformedCID(version == 0x12 ? "a CIDv0 multihash must be sha2-256 of 32 bytes" : "version \(version) is not defined")
        }
        let codec = try Varint.read(bytes, at: &offset)
        let mh: Multihash
        do { mh = try Multihash.read(bytes, at: &offset) } catch { throw .malformedCID("\(error)") }
        return try CID(version: 1, codec: codec, multihash: mh)
    }

    /// A whole binary CID.
    public init(bytes: [UInt8]) throws(FilesError) {
        var offset = 0
        let cid = try Self.read(bytes, at: &offset)
        guard offset == bytes.count else { throw .malformedCID("\(bytes.count - offset) byte(s) after the CID") }
        self = cid
    }

    /// Parses CID text: `Qm…` (CIDv0) or multibase CIDv1 (any base `Multibase` decodes).
    public init(_ text: String) throws(FilesError) {
        guard !text.isEmpty else { throw .malformedCID("empty text") }
        if text.count == 46 && text.hasPrefix("Qm") {
            let bytes: [UInt8]
            do { bytes = try Base58.decode(Array(text.utf8)) } catch { throw .malformedCID("\(text): \(error)") }
            do { self = try CID(bytes: bytes) } catch { throw .malformedCID("\(text): \(error)") }
            return
        }
        let decoded: [UInt8]
        do { decoded = try Multibase.decode(text).bytes } catch { throw .malformedCID("\(text.prefix(80)): \(error)") }
        guard decoded.first != 0x12 else { throw .malformedCID("\(text.prefix(80)): a CIDv0 must be written in base58btc (Qm…)") }
        do { self = try CID(bytes: decoded) } catch { throw .malformedCID("\(text.prefix(80)): \(error)") }
    }

    /// The canonical text: CIDv0 base58btc, CIDv1 base32 lower case.
    public var string: String { version == 0 ? Base58.encode(multihash.bytes) : Multibase.base32.encode(bytes) }

    /// The text in another multibase (CIDv1 only; CIDv0 has one form).
    public func string(_ base: Multibase) -> String { version == 0 ? string : base.encode(bytes) }

    public var description: String { string }

    /// The same content named by a CIDv1 (a CIDv0 becomes dag-pb CIDv1).
    public var v1: CID { version == 1 ? self : try! CID(version: 1, codec: codec, multihash: multihash) }

    public var codecName: String { Self.codecNames[codec] ?? "0x" + String(codec, radix: 16) }

    /// Checks that `block` hashes to this CID.
    public func verify(_ block: [UInt8]) throws(FilesError) { try verify(block[...]) }

    /// ``verify(_:)`` for a slice (a block inside a CAR held whole).
    public func verify(_ block: ArraySlice<UInt8>) throws(FilesError) {
        guard try multihash.verifies(block) else {
            let actual = (try? Multihash(hashing: Array(block), code: multihash.code)) ?? .sha256(Array(block))
            let named = (try? CID(version: version, codec: codec, multihash: actual))?.string ?? actual.description
            throw .hashMismatch(cid: string, actual: named)
        }
    }

    public static func < (a: CID, b: CID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
