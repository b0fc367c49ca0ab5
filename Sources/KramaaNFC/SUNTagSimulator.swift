import KramaaPrimitives

/// What an NTAG 424 DNA in AES mode writes into its URL on each tap, computed here: encrypted
/// PICCData (UID and counter mirrored) and the SDMMAC over an empty MAC input, the layout of
/// AN12196's first example. For load tests and benchmarks, which need many genuine taps with
/// increasing counters; it is the inverse of `SUNVerifier` for that layout.
public struct SUNTagSimulator: Sendable {
    public let uid: TagUID
    public let keys: SDMKeys

    /// A simulated tag; `keys` must be AES-mode keys with a meta read key.
    public init(uid: TagUID, keys: SDMKeys) throws(SUNError) {
        guard keys.mode == .aes else { throw .malformedURL("the tag simulator writes AES-mode messages only") }
        guard keys.metaRead != nil else { throw .missing(.sdmMetaReadKey) }
        self.uid = uid
        self.keys = keys
    }

    /// The PICCData ciphertext and SDMMAC (hex, upper case) of the tap with `readCounter`.
    public func tap(readCounter: UInt32, random: UInt64 = 0) throws(SUNError) -> (piccData: String, cmac: String) {
        guard readCounter <= 0xFF_FFFF else { throw .wrongLength(.readCounter, expected: "3 bytes (at most FFFFFF)", actual: 4) }
        let picc = try PICCData(uid: uid, readCounter: readCounter)
        // PICCDataTag C7: UID and counter mirrored, UID length 7; the rest is the tag's random padding.
        var plain = Block128(repeating: 0)
        plain[0] = 0xC7
        let mirrored = picc.mirroredBytes
        for i in 0..<mirrored.count { plain[1 + i] = mirrored.block[i] }
        for i in 0..<5 { plain[11 + i] = UInt8(truncatingIfNeeded: random >> (8 * i)) }
        guard let meta = keys.metaRead else { throw .missing(.sdmMetaReadKey) }
        AESBlock.encrypt(&plain, key: meta.aes.key)
        let session = try SDMSession(fileReadKey: keys.fileRead, mode: .aes, picc: picc)
        return (Hex.encode(plain.byteArray, prefix: false).uppercased(), Hex.encode(session.sdmmac([]), prefix: false).uppercased())
    }
}
