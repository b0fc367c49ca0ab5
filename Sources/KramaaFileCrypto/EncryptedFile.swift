import Crypto
import Foundation
import KramaaPrimitives

/// Why a private file could not be sealed or opened.
public enum FileCryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAPrivateFile(String)
    case unsupported(String)
    /// A segment failed authentication: altered, reordered, truncated, or the wrong key.
    case segmentNotAuthentic(index: UInt64)
    case outOfRange(String)
    case keyWrap(String)

    public var description: String {
        switch self {
        case .notAPrivateFile(let why): "not a Kramaa private file: \(why)"
        case .unsupported(let what): "unsupported private-file \(what)"
        case .segmentNotAuthentic(let i): "segment \(i) of the private file is not authentic (altered, reordered or truncated, or not this file's key)"
        case .outOfRange(let why): "range outside the private file: \(why)"
        case .keyWrap(let why): "file key: \(why)"
        }
    }
}

/// A private file's encrypted form (docs/FILES.md, "Private files"): a header, then the
/// plaintext cut into segments of `segmentSize` bytes (the last may be shorter; an empty file
/// has one empty segment), each sealed with AES-256-GCM under the file key. Segment `i`'s nonce
/// is the header's 7-byte prefix, `i` (4 bytes, big-endian) and a last-segment flag (1 byte),
/// and every segment authenticates the whole header, so segments cannot be moved between files,
/// reordered, dropped from the end or replaced, while a byte range is still read by opening
/// only the segments it covers (the gateway serves ranges of the ciphertext, the reader opens
/// them).
///
/// ```
/// header: "KRPF" | version 1 | aead 1 (AES-256-GCM) | segmentSize u32 | plaintextLength u64 | noncePrefix [7]   (25 bytes)
/// segment i: AES-256-GCM(key, noncePrefix ‖ u32(i) ‖ last?1:0, aad: header) = ciphertext ‖ tag (16)
/// ```
public struct PrivateFileHeader: Equatable, Sendable {
    public static let magic = Array("KRPF".utf8)
    public static let length = 25
    public static let defaultSegmentSize: UInt32 = 64 * 1024
    public static let tagLength = 16

    public var segmentSize: UInt32
    public var plaintextLength: UInt64
    public var noncePrefix: [UInt8]

    /// A header for a new file: a fresh random nonce prefix.
    public init(plaintextLength: UInt64, segmentSize: UInt32 = Self.defaultSegmentSize) {
        self.init(plaintextLength: plaintextLength, segmentSize: segmentSize, noncePrefix: secureRandomBytes(7))
    }

    public init(plaintextLength: UInt64, segmentSize: UInt32, noncePrefix: [UInt8]) {
        precondition(noncePrefix.count == 7 && segmentSize > 0)
        self.plaintextLength = plaintextLength
        self.segmentSize = segmentSize
        self.noncePrefix = noncePrefix
    }

    public init(parsing bytes: some Collection<UInt8>) throws(FileCryptoError) {
        let b = Array(bytes.prefix(Self.length))
        guard b.count == Self.length, Array(b[0..<4]) == Self.magic else { throw .notAPrivateFile("no KRPF header") }
        guard b[4] == 1 else { throw .unsupported("version \(b[4])") }
        guard b[5] == 1 else { throw .unsupported("cipher \(b[5])") }
        let size = b[6..<10].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard size > 0 else { throw .notAPrivateFile("segment size 0") }
        self.init(plaintextLength: b[10..<18].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, segmentSize: size, noncePrefix: Array(b[18..<25]))
    }

    public var bytes: [UInt8] {
        var out = Self.magic + [1, 1]
        out += withUnsafeBytes(of: segmentSize.bigEndian, Array.init)
        out += withUnsafeBytes(of: plaintextLength.bigEndian, Array.init)
        return out + noncePrefix
    }

    /// Segments in the file (at least one).
    public var segmentCount: UInt64 { max(1, (plaintextLength + UInt64(segmentSize) - 1) / UInt64(segmentSize)) }
    /// The whole encrypted file's length.
    public var ciphertextLength: UInt64 { UInt64(Self.length) + plaintextLength + segmentCount * UInt64(Self.tagLength) }

    /// The plaintext bytes of segment `i`.
    public func plaintextLength(ofSegment i: UInt64) -> Int {
        i + 1 < segmentCount ? Int(segmentSize) : Int(plaintextLength - (segmentCount - 1) * UInt64(segmentSize))
    }

    /// Where segment `i` starts in the encrypted file.
    public func ciphertextOffset(ofSegment i: UInt64) -> UInt64 { UInt64(Self.length) + i * (UInt64(segmentSize) + UInt64(Self.tagLength)) }

    /// The segments a plaintext byte range covers, and the range of the encrypted file they take.
    public func segments(covering range: Range<UInt64>) throws(FileCryptoError) -> (segments: ClosedRange<UInt64>, ciphertext: Range<UInt64>) {
        guard range.lowerBound < range.upperBound, range.upperBound <= plaintextLength else {
            throw .outOfRange("\(range) of \(plaintextLength) bytes")
        }
        let first = range.lowerBound / UInt64(segmentSize), last = (range.upperBound - 1) / UInt64(segmentSize)
        let end = ciphertextOffset(ofSegment: last) + UInt64(plaintextLength(ofSegment: last) + Self.tagLength)
        return (first...last, ciphertextOffset(ofSegment: first)..<end)
    }

    func nonce(_ i: UInt64) -> [UInt8] {
        noncePrefix + withUnsafeBytes(of: UInt32(truncatingIfNeeded: i).bigEndian, Array.init) + [i + 1 == segmentCount ? 1 : 0]
    }
}

/// Seals and opens a private file's segments with its 32-byte file key.
public struct PrivateFileCipher: @unchecked Sendable {
    public let header: PrivateFileHeader
    private let key: SymmetricKey
    private let aad: [UInt8]

    public init(header: PrivateFileHeader, fileKey: [UInt8]) throws(FileCryptoError) {
        guard fileKey.count == 32 else { throw .keyWrap("a file key is 32 bytes, not \(fileKey.count)") }
        guard header.segmentCount <= UInt64(UInt32.max) else { throw .outOfRange("more than 2^32 segments") }
        self.header = header
        self.key = SymmetricKey(data: fileKey)
        self.aad = header.bytes
    }

    /// A fresh random file key.
    public static func newFileKey() -> [UInt8] { secureRandomBytes(32) }

    /// Segment `i` of the plaintext, sealed: its bytes followed by the tag.
    public func seal(segment plaintext: [UInt8], index i: UInt64) throws(FileCryptoError) -> [UInt8] {
        guard i < header.segmentCount, plaintext.count == header.plaintextLength(ofSegment: i) else {
            throw .outOfRange("segment \(i) of \(plaintext.count) bytes does not fit the header")
        }
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: try AES.GCM.Nonce(data: header.nonce(i)), authenticating: aad)
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw .keyWrap("AES-GCM: \(error)")
        }
    }

    /// Opens sealed segment `i`.
    public func open(segment sealed: some Collection<UInt8>, index i: UInt64) throws(FileCryptoError) -> [UInt8] {
        let bytes = Array(sealed)
        guard i < header.segmentCount, bytes.count == header.plaintextLength(ofSegment: i) + PrivateFileHeader.tagLength else {
            throw .segmentNotAuthentic(index: i)
        }
        do {
            let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: header.nonce(i)), ciphertext: bytes.dropLast(16), tag: bytes.suffix(16))
            return Array(try AES.GCM.open(box, using: key, authenticating: aad))
        } catch {
            throw .segmentNotAuthentic(index: i)
        }
    }

    /// The whole encrypted file of `plaintext` (for small files and tests; files are sealed a
    /// segment at a time as they are read).
    public func sealAll(_ plaintext: [UInt8]) throws(FileCryptoError) -> [UInt8] {
        var out = header.bytes
        for i in 0..<header.segmentCount {
            let start = Int(i) * Int(header.segmentSize)
            out += try seal(segment: Array(plaintext[start..<start + header.plaintextLength(ofSegment: i)]), index: i)
        }
        return out
    }

    /// The plaintext of `range`, from the encrypted bytes of the segments covering it (as
    /// ``PrivateFileHeader/segments(covering:)`` gives them).
    public func open(range: Range<UInt64>, from ciphertext: [UInt8]) throws(FileCryptoError) -> [UInt8] {
        let (segments, span) = try header.segments(covering: range)
        guard UInt64(ciphertext.count) == span.upperBound - span.lowerBound else { throw .outOfRange("\(ciphertext.count) encrypted bytes for \(span)") }
        var plaintext: [UInt8] = []
        for i in segments {
            let at = Int(header.ciphertextOffset(ofSegment: i) - span.lowerBound)
            plaintext += try open(segment: ciphertext[at..<at + header.plaintextLength(ofSegment: i) + PrivateFileHeader.tagLength], index: i)
        }
        let skip = Int(range.lowerBound - segments.lowerBound * UInt64(header.segmentSize))
        return Array(plaintext[skip..<skip + Int(range.upperBound - range.lowerBound)])
    }
}

/// Bytes from the system's cryptographically secure generator (getrandom on Linux).
func secureRandomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
