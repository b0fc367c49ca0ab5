import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 (FIPS 180-4) as a ``Bytes32``: the one place Kramaa computes it, for P-256 message
/// digests and the GS1 EPCIS event hash.
public enum SHA256Digest {
    /// The digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Bytes32 {
        SHA256.hash(data: bytes).withUnsafeBytes { Bytes32(copying: $0) }
    }

    /// The digest of a byte sequence (copied once if it is not contiguous).
    public static func hash(_ bytes: some Sequence<UInt8>) -> Bytes32 {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return digest }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
    public static func hmac(key: [UInt8], message: [UInt8]) -> Bytes32 {
        HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)).withUnsafeBytes { Bytes32(copying: $0) }
    }

    /// The digest of a string's UTF-8 bytes.
    public static func hash(utf8 text: String) -> Bytes32 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}

/// SHA-256 over data that arrives in pieces (a file read in chunks).
public struct SHA256Stream {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public func finalize() -> Bytes32 { hasher.finalize().withUnsafeBytes { Bytes32(copying: $0) } }

    /// The digest and length of the file at `path`, read 1 MiB at a time; nil when it cannot be read.
    public static func file(_ path: String) -> (digest: Bytes32, size: UInt64)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var stream = SHA256Stream(), size: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return (stream.finalize(), size) }
            buffer.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            size += UInt64(n)
        }
    }
}
