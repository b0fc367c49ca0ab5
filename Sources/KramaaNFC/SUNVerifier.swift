/// How a SUN message carries the tag's identity and counter.
public enum MirroredPICCData: Sendable, Equatable {
    /// Encrypted PICCData (16 bytes in AES mode, PICCRand ‖ 16 bytes in LRP mode).
    case encrypted([UInt8])
    /// UID and/or counter mirrored in plain text.
    case plain(PICCData)
}

/// One tap's SUN message, decoded from the URL but not yet verified.
public struct SUNMessage: Sendable, Equatable {
    /// The tag identity and counter, encrypted or plain.
    public var piccData: MirroredPICCData
    /// SDMENCFileData, when the tag mirrors encrypted file content.
    public var encFileData: [UInt8]?
    /// The 8-byte SDMMAC from the URL.
    public var sdmmac: [UInt8]
    /// The bytes the tag MACed: the URL text from SDMMACInputOffset up to the MAC (often empty).
    public var macInput: [UInt8]

    /// A message from decoded parts; lengths are checked by the verifier against the tag's mode.
    public init(piccData: MirroredPICCData, encFileData: [UInt8]? = nil, sdmmac: [UInt8], macInput: [UInt8] = []) throws(SUNError) {
        guard sdmmac.count == 8 else { throw .wrongLength(.sdmmac, expected: "8 bytes (16 hex digits)", actual: sdmmac.count) }
        if let encFileData, encFileData.isEmpty || encFileData.count % 16 != 0 {
            throw .wrongLength(.encFileData, expected: "a non-empty multiple of 16 bytes", actual: encFileData.count)
        }
        self.piccData = piccData
        self.encFileData = encFileData
        self.sdmmac = sdmmac
        self.macInput = macInput
    }

    /// A message with encrypted PICCData, from the hex strings of the URL.
    public init(piccDataHex: some StringProtocol, encHex: (some StringProtocol)?, cmacHex: some StringProtocol, macInput: [UInt8] = []) throws(SUNError) {
        try self.init(piccData: .encrypted(SUNField.piccData.decodeHex(piccDataHex)),
                      encFileData: encHex.map { hex throws(SUNError) in try SUNField.encFileData.decodeHex(hex) },
                      sdmmac: SUNField.sdmmac.decodeHex(cmacHex), macInput: macInput)
    }

    /// A message with plain mirroring: UID hex (14 digits) and the counter as printed (6 hex
    /// digits, most significant first), either of which may be absent.
    public init(uidHex: (some StringProtocol)?, readCounterHex: (some StringProtocol)?, encHex: (some StringProtocol)?,
                cmacHex: some StringProtocol, macInput: [UInt8] = []) throws(SUNError) {
        let uid = try uidHex.map { hex throws(SUNError) in try TagUID(hex: hex) }
        let counter = try readCounterHex.map { hex throws(SUNError) -> UInt32 in
            let bytes = try SUNField.readCounter.decodeHex(hex)
            guard bytes.count == 3 else { throw .wrongLength(.readCounter, expected: "3 bytes (6 hex digits)", actual: bytes.count) }
            return bytes.reduce(0) { $0 << 8 | UInt32($1) }
        }
        try self.init(piccData: .plain(PICCData(uid: uid, readCounter: counter)),
                      encFileData: encHex.map { hex throws(SUNError) in try SUNField.encFileData.decodeHex(hex) },
                      sdmmac: SUNField.sdmmac.decodeHex(cmacHex), macInput: macInput)
    }
}

/// What one verified tap says.
public struct SUNReading: Sendable, Equatable {
    /// The decrypted or plain mirrored data (UID, counter, PICCDataTag).
    public let picc: PICCData
    /// Decrypted SDMENCFileData; nil when the message has none or its MAC is wrong.
    public let fileData: [UInt8]?
    /// Whether the SDMMAC matches: false means tampered (or a wrong file read key).
    public let macIsValid: Bool

    /// The tag UID, when mirrored.
    public var uid: TagUID? { picc.uid }
    /// The tag's read counter, when mirrored.
    public var readCounter: UInt32? { picc.readCounter }

    /// This reading if its MAC is valid; `.badMAC` otherwise.
    public func requireValidMAC() throws(SUNError) -> SUNReading {
        guard macIsValid else { throw .badMAC }
        return self
    }
}

/// Verifies SUN messages of NTAG 424 DNA tags (NXP AN12196; LRP mode per AN12304).
public enum SUNVerifier {
    /// Decrypts the PICCData, derives the session keys, checks the SDMMAC over `macInput`
    /// and, if the MAC is right, decrypts the file data. Malformed input throws; a wrong MAC
    /// does not (see `SUNReading.macIsValid`).
    public static func verify(_ message: SUNMessage, keys: SDMKeys) throws(SUNError) -> SUNReading {
        let picc = try piccData(of: message, keys: keys)
        return try verify(message, picc: picc, keys: keys)
    }

    /// `verify` from the hex strings of a URL with encrypted PICCData.
    public static func verify(piccData: String, enc: String? = nil, cmac: String, macInput: [UInt8] = [], keys: SDMKeys) throws(SUNError) -> SUNReading {
        try verify(SUNMessage(piccDataHex: piccData, encHex: enc, cmacHex: cmac, macInput: macInput), keys: keys)
    }

    /// The mirrored UID and counter of `message`, decrypting with the meta read key if needed.
    public static func piccData(of message: SUNMessage, keys: SDMKeys) throws(SUNError) -> PICCData {
        try piccData(of: message, mode: keys.mode, metaReadKey: keys.metaRead)
    }

    /// The mirrored UID and counter of `message` in `mode`, with `metaReadKey` for encrypted PICCData.
    public static func piccData(of message: SUNMessage, mode: SDMMode, metaReadKey: SDMKey?) throws(SUNError) -> PICCData {
        switch message.piccData {
        case .plain(let picc):
            return picc
        case .encrypted(let bytes):
            guard let metaReadKey else { throw .missing(.sdmMetaReadKey) }
            return try PICCData(decrypting: bytes, key: metaReadKey, mode: mode)
        }
    }

    /// Verification once the PICCData is known (e.g. decrypted before looking the tag up).
    public static func verify(_ message: SUNMessage, picc: PICCData, keys: SDMKeys) throws(SUNError) -> SUNReading {
        let session = try SDMSession(fileReadKey: keys.fileRead, mode: keys.mode, picc: picc)
        let valid = message.macInput.withUnsafeBytes { session.sdmmacMatches(message.sdmmac, input: $0) }
        var fileData: [UInt8]? = nil
        if valid, let encrypted = message.encFileData {
            fileData = try session.decryptFileData(encrypted)
        }
        return SUNReading(picc: picc, fileData: fileData, macIsValid: valid)
    }
}
