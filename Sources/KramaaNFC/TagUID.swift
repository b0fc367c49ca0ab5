import KramaaPrimitives

/// The 7-byte UID of an NTAG 424 DNA, usable as a dictionary key without allocation.
public struct TagUID: Hashable, Sendable, CustomStringConvertible {
    /// The UID bytes, big-endian in the low 56 bits.
    let value: UInt64

    /// A UID from its 7 bytes.
    public init(_ bytes: some Collection<UInt8>) throws(SUNError) {
        guard bytes.count == 7 else { throw .wrongLength(.uid, expected: "7 bytes", actual: bytes.count) }
        self.init(unchecked: bytes)
    }

    /// A UID from 14 hex digits.
    public init(hex: some StringProtocol) throws(SUNError) {
        try self.init(SUNField.uid.decodeHex(hex))
    }

    init(unchecked bytes: some Collection<UInt8>) {
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The 7 UID bytes.
    public var bytes: [UInt8] { (0..<7).map { UInt8(truncatingIfNeeded: value >> (8 * (6 - $0))) } }

    /// Upper-case hex, as tags print it (e.g. `04DE5F1EACC040`).
    public var description: String { Hex.encode(bytes, prefix: false).uppercased() }
}

/// Which cryptography the tag's secure messaging uses (fixed when the tag is personalised).
public enum SDMMode: String, Sendable, Equatable, CaseIterable {
    /// AES-128 with AES-CMAC (AN12196).
    case aes = "AES"
    /// The leakage-resilient primitive (AN12304) on top of AES-128.
    case lrp = "LRP"
}

/// One 16-byte SDM key, prepared for its mode: the AES key and its CMAC subkeys, and in LRP
/// mode the LRP tables, so that a verification does not rebuild them.
public struct SDMKey: Sendable {
    /// The raw key.
    let block: Block128
    /// AES-CMAC with this key (AES mode; its subkeys are used for session keys).
    let aes: AESCMAC
    /// LRP tables and CMAC_LRP from updated key 0 (LRP mode only).
    let lrp: (cipher: LRPCipher, cmac: LRPCMAC)?

    /// Prepares `bytes` (16) as a key of a tag in `mode`.
    public init(_ bytes: [UInt8], mode: SDMMode, field: SUNField = .key) throws(SUNError) {
        guard bytes.count == 16 else { throw .wrongLength(field, expected: "16 bytes (AES-128)", actual: bytes.count) }
        block = Block128(padding: bytes)
        aes = AESCMAC(key: block)
        switch mode {
        case .aes:
            lrp = nil
        case .lrp:
            let cipher = LRPCipher(key: block, updatedKeyCount: 2)
            lrp = (cipher, try LRPCMAC(cipher, updatedKeyIndex: 0))
        }
    }

    /// Prepares a key given as 32 hex digits.
    public init(hex: some StringProtocol, mode: SDMMode, field: SUNField = .key) throws(SUNError) {
        try self.init(field.decodeKey(hex), mode: mode, field: field)
    }

    /// The raw key bytes.
    public var bytes: [UInt8] { block.byteArray }
}

/// The SDM keys of one tag: the meta read key that decrypts PICCData (absent when UID and
/// counter are mirrored in plain) and the file read key the session keys come from.
public struct SDMKeys: Sendable {
    /// The tag's secure-messaging mode.
    public let mode: SDMMode
    /// SDMMetaReadKey, for encrypted PICCData.
    public let metaRead: SDMKey?
    /// SDMFileReadKey, for SDMMAC and SDMENCFileData.
    public let fileRead: SDMKey

    /// Keys from raw bytes (16 each).
    public init(mode: SDMMode, metaReadKey: [UInt8]?, fileReadKey: [UInt8]) throws(SUNError) {
        self.mode = mode
        metaRead = try metaReadKey.map { bytes throws(SUNError) in try SDMKey(bytes, mode: mode, field: .sdmMetaReadKey) }
        fileRead = try SDMKey(fileReadKey, mode: mode, field: .sdmFileReadKey)
    }

    /// Keys from hex (32 digits each).
    public init(mode: SDMMode, metaReadKeyHex: String?, fileReadKeyHex: String) throws(SUNError) {
        try self.init(mode: mode,
                      metaReadKey: metaReadKeyHex.map { hex throws(SUNError) in try SUNField.sdmMetaReadKey.decodeKey(hex) },
                      fileReadKey: SUNField.sdmFileReadKey.decodeKey(fileReadKeyHex))
    }
}
