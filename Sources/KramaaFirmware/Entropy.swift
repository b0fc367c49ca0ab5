/// The device's hardware random source, provided by the board: a TRNG peripheral, a secure
/// element's random command, or (in the emulator) the host's. Key generation and HPKE's
/// ephemeral keys are the only users; signing needs no randomness (RFC 6979 and RFC 8032 nonces
/// are deterministic).
public protocol EntropySource {
    /// Fills `buffer` with fresh random bytes; false when the source failed.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Bool
}

enum Entropy {
    /// 32 bytes for a key: SHA-256 of a label, 64 bytes of entropy and a counter, so a source
    /// with somewhat biased output still gives uniform keys; a source that fails, or returns
    /// the same byte 64 times (a stuck generator), is refused.
    static func keyCandidate<E: EntropySource>(_ source: inout E, counter: UInt8) throws(FirmwareCryptoError) -> Bytes32 {
        var raw = try fresh(&source)
        defer { for i in 0..<64 { raw[i] = 0 } }
        var h = SHA256()
        h.update(ascii: "kramaa:device-key")
        h.update(contentsOf: raw)
        h.update(counter)
        return h.finalize()
    }

    /// 64 fresh bytes; refused when the source fails or returns one byte 64 times.
    static func fresh<E: EntropySource>(_ source: inout E) throws(FirmwareCryptoError) -> Bytes64 {
        var raw = Bytes64(repeating: 0)
        let ok = withUnsafeMutableBytes(of: &raw) { source.fill($0) }
        guard ok else { throw .entropyFailed }
        var varied: UInt8 = 0
        for i in 1..<64 { varied |= raw[i] ^ raw[0] }
        guard varied != 0 else { throw .entropyFailed }
        return raw
    }
}
