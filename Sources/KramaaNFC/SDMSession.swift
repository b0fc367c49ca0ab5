import Crypto

/// The SDM session of one tap: session keys derived from the SDM file read key and the
/// mirrored UID and read counter, and what they do (SDMMAC, SDMENCFileData).
///
/// AES mode (AN12196 §3.3): `SV1 = C3 3C 00 01 00 80 ‖ UID ‖ ctr`, `SV2 = 3C C3 00 01 00 80 ‖ UID ‖ ctr`
/// (zero-padded to 16 bytes, only mirrored items), `KSesSDMFileReadENC = CMAC(key, SV1)`,
/// `KSesSDMFileReadMAC = CMAC(key, SV2)`. LRP mode: `SV = 00 01 00 80 ‖ UID ‖ ctr ‖ 0… ‖ 1E E1`,
/// `KSesSDMFileReadMaster = CMAC_LRP(key, SV)`, MAC with its updated key 0, encryption with updated key 1.
public struct SDMSession: Sendable {
    /// The mirrored data the session is bound to.
    public let picc: PICCData

    private enum Keys: Sendable {
        case aes(fileRead: AESCMAC, mac: AESCMAC)
        case lrp(master: LRPCipher, masterKey: Block128, mac: LRPCMAC)
    }
    private let keys: Keys

    /// Derives the session keys for `picc` from the tag's file read key.
    public init(fileReadKey: SDMKey, mode: SDMMode, picc: PICCData) throws(SUNError) {
        self.picc = picc
        switch mode {
        case .aes:
            let macKey = fileReadKey.aes.tag(ofBlock: Self.aesVector(0x3C, 0xC3, picc))
            keys = .aes(fileRead: fileReadKey.aes, mac: AESCMAC(key: macKey))
        case .lrp:
            guard let lrp = fileReadKey.lrp else { throw .missing(.sdmFileReadKey) }
            let master = lrp.cmac.tag(ofBlock: Self.lrpVector(picc))
            let cipher = LRPCipher(key: master, updatedKeyCount: 2)
            keys = .lrp(master: cipher, masterKey: master, mac: try LRPCMAC(cipher, updatedKeyIndex: 0))
        }
    }

    /// AES session vector: two label bytes, `00 01 00 80`, the mirrored bytes, zero padding.
    static func aesVector(_ label0: UInt8, _ label1: UInt8, _ picc: PICCData) -> Block128 {
        let mirrored = picc.mirroredBytes
        var sv = Block128(repeating: 0)
        sv[0] = label0; sv[1] = label1; sv[2] = 0x00; sv[3] = 0x01; sv[4] = 0x00; sv[5] = 0x80
        for i in 0..<mirrored.count { sv[6 + i] = mirrored.block[i] }
        return sv
    }

    /// LRP session vector: `00 01 00 80`, the mirrored bytes, zero padding, `1E E1`.
    static func lrpVector(_ picc: PICCData) -> Block128 {
        let mirrored = picc.mirroredBytes
        var sv = Block128(repeating: 0)
        sv[0] = 0x00; sv[1] = 0x01; sv[2] = 0x00; sv[3] = 0x80
        for i in 0..<mirrored.count { sv[4 + i] = mirrored.block[i] }
        sv[14] = 0x1E; sv[15] = 0xE1
        return sv
    }

    /// The session vectors: `[SV1, SV2]` in AES mode, `[SV]` in LRP mode.
    public var sessionVectors: [[UInt8]] {
        switch keys {
        case .aes: return [Self.aesVector(0xC3, 0x3C, picc).byteArray, Self.aesVector(0x3C, 0xC3, picc).byteArray]
        case .lrp: return [Self.lrpVector(picc).byteArray]
        }
    }

    /// KSesSDMFileReadENC and KSesSDMFileReadMAC (AES mode; nil in LRP mode).
    public var aesSessionKeys: (encryption: [UInt8], mac: [UInt8])? {
        guard case .aes(let fileRead, let mac) = keys else { return nil }
        return (encryptionKey(fileRead).withUnsafeBytes { Array($0) }, mac.key.withUnsafeBytes { Array($0) })
    }

    /// KSesSDMFileReadMaster (LRP mode; nil in AES mode).
    public var lrpMasterKey: [UInt8]? {
        guard case .lrp(_, let master, _) = keys else { return nil }
        return master.byteArray
    }

    private func encryptionKey(_ fileRead: AESCMAC) -> SymmetricKey {
        AESBlock.key(fileRead.tag(ofBlock: Self.aesVector(0xC3, 0x3C, picc)))
    }

    // MARK: SDMMAC

    /// The full 16-byte session MAC of `input` (before truncation).
    public func fullMAC(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { fullMAC($0) }.byteArray
    }

    func fullMAC(_ input: UnsafeRawBufferPointer) -> Block128 {
        switch keys {
        case .aes(_, let mac): return mac.tag(input)
        case .lrp(_, _, let mac): return mac.tag(input)
        }
    }

    /// SDMMAC: the 8 bytes at odd positions (1, 3, …, 15) of the full MAC of `input`.
    public func sdmmac(_ input: [UInt8]) -> [UInt8] {
        let full = input.withUnsafeBytes { fullMAC($0) }
        return (0..<8).map { full[2 * $0 + 1] }
    }

    /// Whether `sdmmac` (8 bytes) is the SDMMAC of `input`, compared in constant time.
    func sdmmacMatches(_ sdmmac: [UInt8], input: UnsafeRawBufferPointer) -> Bool {
        guard sdmmac.count == 8 else { return false }
        let full = fullMAC(input)
        var difference: UInt8 = 0
        for i in 0..<8 { difference |= full[2 * i + 1] ^ sdmmac[i] }
        return difference == 0
    }

    // MARK: SDMENCFileData

    /// The AES file-data IV: `E(KSesSDMFileReadENC, ctr ‖ 00…)` (AES mode only).
    public func fileDataIV() throws(SUNError) -> [UInt8] {
        guard case .aes(let fileRead, _) = keys else { return [] }
        return try aesIV(encryptionKey(fileRead)).byteArray
    }

    private func aesIV(_ key: SymmetricKey) throws(SUNError) -> Block128 {
        var iv = try picc.counterBlock()
        AESBlock.encrypt(&iv, key: key)
        return iv
    }

    /// Decrypts SDMENCFileData (whole 16-byte blocks): AES-CBC with KSesSDMFileReadENC and the
    /// counter-derived IV, or LRICB with the master key's updated key 1 and counter `ctr ‖ 00 00 00`.
    public func decryptFileData(_ encrypted: [UInt8]) throws(SUNError) -> [UInt8] {
        guard !encrypted.isEmpty, encrypted.count % 16 == 0 else {
            throw .wrongLength(.encFileData, expected: "a non-empty multiple of 16 bytes", actual: encrypted.count)
        }
        var data = encrypted
        switch keys {
        case .aes(let fileRead, _):
            let key = encryptionKey(fileRead)
            AESBlock.decryptCBC(&data, key: key, iv: try aesIV(key))
        case .lrp(let master, _, _):
            master.crypt(&data, key: master.updatedKeys[1], counter: try picc.counterBlock(), counterLength: 6, encrypting: false)
        }
        return data
    }
}
