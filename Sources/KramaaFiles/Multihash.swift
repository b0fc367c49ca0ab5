import Crypto
import Foundation

/// A multihash: the hash function's code, then the digest's length, then the digest. Blocks are
/// named by it (a CID is a version and codec in front of one). sha2-256, sha2-512, sha1 and
/// identity are computed; other functions parse (their codes are named) but cannot be checked.
public struct Multihash: Hashable, Sendable, CustomStringConvertible {
    public let code: UInt64
    public let digest: [UInt8]

    public static let identity: UInt64 = 0x00
    public static let sha1: UInt64 = 0x11
    public static let sha2_256: UInt64 = 0x12
    public static let sha2_512: UInt64 = 0x13

    /// Names of the hash functions the multicodec table gives for the codes we meet.
    public static let names: [UInt64: String] = [
        0x00: "identity", 0x11: "sha1", 0x12: "sha2-256", 0x13: "sha2-512", 0x14: "sha3-512", 0x15: "sha3-384",
        0x16: "sha3-256", 0x17: "sha3-224", 0x1b: "keccak-256", 0x22: "murmur3-x64-64", 0x56: "dbl-sha2-256",
        0xb220: "blake2b-256", 0x1e: "blake3",
    ]

    /// Identity multihashes inline their content; CIDs with longer ones are refused (kubo's limit).
    public static let maximumIdentityLength = 128

    public init(code: UInt64, digest: [UInt8]) {
        self.code = code
        self.digest = digest
    }

    /// The hash of `bytes` with the function `code` (its full digest).
    public init(hashing bytes: [UInt8], code: UInt64 = Multihash.sha2_256) throws(FilesError) {
        self.code = code
        self.digest = try Self.digest(of: bytes, code: code)
    }

    /// `sha2-256` of `bytes`: the hot path of import and verification.
    public static func sha256(_ bytes: [UInt8]) -> Multihash {
        Multihash(code: sha2_256, digest: Array(SHA256.hash(data: bytes)))
    }

    /// The name of the hash function (`sha2-256`), or its code in hex.
    public var name: String { Self.names[code] ?? "0x" + String(code, radix: 16) }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(digest.count + 4)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        Varint.write(code, to: &out)
        Varint.write(UInt64(digest.count), to: &out)
        out.append(contentsOf: digest)
    }

    /// Reads a multihash at `offset`, moving past it.
    public static func read(_ bytes: [UInt8], at offset: inout Int) throws(FilesError) -> Multihash {
        let code = try Varint.read(bytes, at: &offset)
        let length = try Varint.read(bytes, at: &offset)
        guard length <= UInt64(bytes.count - offset) else {
            throw .malformedMultihash("digest length \(length) but only \(bytes.count - offset) byte(s) follow")
        }
        let digest = Array(bytes[offset..<offset + Int(length)])
        offset += Int(length)
        return Multihash(code: code, digest: digest)
    }

    /// Parses a whole multihash (nothing may follow it).
    public init(bytes: [UInt8]) throws(FilesError) {
        var offset = 0
        let value = try Self.read(bytes, at: &offset)
        guard offset == bytes.count else { throw .malformedMultihash("\(bytes.count - offset) byte(s) after the digest") }
        self = value
    }

    /// The digest of `bytes` under `code`.
    public static func digest(of bytes: [UInt8], code: UInt64) throws(FilesError) -> [UInt8] {
        try digest(of: bytes[...], code: code)
    }

    /// The digest of a slice (a block inside a CAR held whole), without copying it out.
    public static func digest(of bytes: ArraySlice<UInt8>, code: UInt64) throws(FilesError) -> [UInt8] {
        switch code {
        case sha2_256: return Array(SHA256.hash(data: bytes))
        case sha2_512: return Array(SHA512.hash(data: bytes))
        case sha1: return Array(Insecure.SHA1.hash(data: bytes))
        case identity: return Array(bytes)
        default:
            throw .unsupportedHash("\(names[code] ?? "code 0x" + String(code, radix: 16)) is not computed here; use sha2-256, sha2-512 or identity")
        }
    }

    /// Whether `bytes` hash to this multihash (a truncated digest compares its prefix).
    public func verifies(_ bytes: [UInt8]) throws(FilesError) -> Bool { try verifies(bytes[...]) }

    /// ``verifies(_:)`` for a slice.
    public func verifies(_ bytes: ArraySlice<UInt8>) throws(FilesError) -> Bool {
        let full = try Self.digest(of: bytes, code: code)
        guard digest.count <= full.count || code == Self.identity else { return false }
        return code == Self.identity ? full == digest : Array(full.prefix(digest.count)) == digest
    }

    public var description: String { "\(name):" + digest.map { String($0, radix: 16).leftPadded(2) }.joined() }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
