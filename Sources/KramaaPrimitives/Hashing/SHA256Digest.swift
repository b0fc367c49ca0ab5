import Crypto

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

    /// The digest of a string's UTF-8 bytes.
    public static func hash(utf8 text: String) -> Bytes32 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}
