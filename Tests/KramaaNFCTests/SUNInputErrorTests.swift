import Testing
import KramaaPrimitives
import KramaaNFC

/// Every malformed input to SUN verification gets its own clear error.
@Suite struct SUNInputErrorTests {
    // AN12196's page-18 example (all-zero keys, UID 04958CAA5C5E80, counter 8).
    static let picc = "FD91EC264309878BE6345CBE53BADF40"
    static let enc = "CEE9A53E3E463EF1F459635736738962"
    static let cmac = "ECC1E7F6C6C73BF6"
    static let zeroKey = "00000000000000000000000000000000"

    static func aesKeys() throws -> SDMKeys {
        try SDMKeys(mode: .aes, metaReadKeyHex: zeroKey, fileReadKeyHex: zeroKey)
    }

    @Test func nonHexFieldsNameTheField() throws {
        #expect(throws: SUNError.invalidHex(.piccData, .invalidCharacter("Z", offset: 0))) {
            try SUNVerifier.verify(piccData: "Z" + Self.picc.dropFirst(), cmac: Self.cmac, keys: Self.aesKeys())
        }
        #expect(throws: SUNError.invalidHex(.sdmmac, .oddLength(15))) {
            try SUNVerifier.verify(piccData: Self.picc, cmac: String(Self.cmac.dropLast()), keys: Self.aesKeys())
        }
        #expect(throws: SUNError.invalidHex(.encFileData, .invalidCharacter("g", offset: 2))) {
            try SUNVerifier.verify(piccData: Self.picc, enc: "00g0", cmac: Self.cmac, keys: Self.aesKeys())
        }
        #expect(throws: SUNError.invalidHex(.sdmFileReadKey, .invalidCharacter("-", offset: 0))) {
            try SDMKeys(mode: .aes, metaReadKeyHex: nil, fileReadKeyHex: "-0")
        }
        #expect(throws: SUNError.invalidHex(.uid, .invalidCharacter("?", offset: 13))) { try TagUID(hex: "04958CAA5C5E8?") }
    }

    @Test func wrongLengthsAreRejected() throws {
        #expect(throws: SUNError.wrongLength(.piccData, expected: "16 bytes (32 hex digits) in AES mode", actual: 15)) {
            try SUNVerifier.verify(piccData: String(Self.picc.dropLast(2)), cmac: Self.cmac, keys: Self.aesKeys())
        }
        let lrpKeys = try SDMKeys(mode: .lrp, metaReadKeyHex: Self.zeroKey, fileReadKeyHex: Self.zeroKey)
        #expect(throws: SUNError.wrongLength(.piccData, expected: "24 bytes (48 hex digits: PICCRand and ciphertext) in LRP mode", actual: 16)) {
            try SUNVerifier.verify(piccData: Self.picc, cmac: Self.cmac, keys: lrpKeys)
        }
        #expect(throws: SUNError.wrongLength(.sdmmac, expected: "8 bytes (16 hex digits)", actual: 4)) {
            try SUNVerifier.verify(piccData: Self.picc, cmac: "ECC1E7F6", keys: Self.aesKeys())
        }
        #expect(throws: SUNError.wrongLength(.encFileData, expected: "a non-empty multiple of 16 bytes", actual: 15)) {
            try SUNVerifier.verify(piccData: Self.picc, enc: String(Self.enc.dropLast(2)), cmac: Self.cmac, keys: Self.aesKeys())
        }
        #expect(throws: SUNError.wrongLength(.sdmMetaReadKey, expected: "16 bytes (AES-128)", actual: 17)) {
            try SDMKeys(mode: .aes, metaReadKey: [UInt8](repeating: 0, count: 17), fileReadKey: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: SUNError.wrongLength(.uid, expected: "7 bytes", actual: 4)) { try TagUID(hex: "04958CAA") }
        #expect(throws: SUNError.wrongLength(.readCounter, expected: "3 bytes (6 hex digits)", actual: 2)) {
            try SUNMessage(uidHex: "04958CAA5C5E80", readCounterHex: "0008", encHex: nil as String?, cmacHex: Self.cmac)
        }
        #expect(throws: SUNError.wrongLength(.piccData, expected: "16 bytes decrypted", actual: 3)) { try PICCData(plaintext: [0xC7, 0, 0]) }
    }

    @Test(arguments: [0x00, 0x07, 0xC6, 0xD7, 0xE7, 0x87 | 0x08, 0x43] as [UInt8])
    func unknownPICCDataTagBytesAreRejected(tag: UInt8) {
        #expect(throws: SUNError.unknownPICCDataTag(tag)) {
            try PICCData(plaintext: [tag] + [UInt8](repeating: 0x11, count: 15))
        }
    }

    @Test func aWrongMetaReadKeyIsReportedAsAnUnknownPICCDataTag() throws {
        let keys = try SDMKeys(mode: .aes, metaReadKeyHex: "000102030405060708090A0B0C0D0E0F", fileReadKeyHex: Self.zeroKey)
        do {
            _ = try SUNVerifier.verify(piccData: Self.picc, cmac: Self.cmac, keys: keys)
            Issue.record("a wrong meta read key must not yield a reading")
        } catch {
            guard case .unknownPICCDataTag = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func aTamperedMACIsABadMAC() throws {
        let input = Array((Self.enc + "&cmac=").utf8)
        let good = try SUNVerifier.verify(piccData: Self.picc, enc: Self.enc, cmac: Self.cmac, macInput: input, keys: Self.aesKeys())
        #expect(good.macIsValid)
        #expect(good.fileData == Array("xxxxxxxxxxxxxxxx".utf8))
        // One flipped bit in the MAC, in the MAC input, or in the encrypted file data (which the MAC input covers).
        let otherEnc = "DEE9A53E3E463EF1F459635736738962"
        for (enc, cmac, macInput) in [(Self.enc, "ECC1E7F6C6C73BF7", input), (Self.enc, Self.cmac, input.dropLast() + [0x3E]),
                                      (otherEnc, Self.cmac, Array((otherEnc + "&cmac=").utf8))] {
            let reading = try SUNVerifier.verify(piccData: Self.picc, enc: enc, cmac: cmac, macInput: Array(macInput), keys: Self.aesKeys())
            #expect(!reading.macIsValid)
            #expect(throws: SUNError.badMAC) { try reading.requireValidMAC() }
        }
    }

    @Test func missingKeysAndMirrorsAreNamed() throws {
        let noMetaKey = try SDMKeys(mode: .aes, metaReadKeyHex: nil, fileReadKeyHex: Self.zeroKey)
        #expect(throws: SUNError.missing(.sdmMetaReadKey)) { try SUNVerifier.verify(piccData: Self.picc, cmac: Self.cmac, keys: noMetaKey) }
        // File data needs the counter for its IV.
        let uidOnly = try PICCData(uid: TagUID(hex: "04958CAA5C5E80"), readCounter: nil)
        let session = try SDMSession(fileReadKey: noMetaKey.fileRead, mode: .aes, picc: uidOnly)
        #expect(throws: SUNError.missing(.readCounter)) { try session.decryptFileData(try Hex.decode(Self.enc)) }
        #expect(throws: SUNError.missing(.piccData)) { try PICCData(uid: nil, readCounter: nil) }
        #expect(throws: SUNError.wrongLength(.readCounter, expected: "3 bytes (at most FFFFFF)", actual: 4)) {
            try PICCData(uid: nil, readCounter: 0x100_0000)
        }
    }

    @Test func errorDescriptionsSayWhatIsWrong() {
        let cases: [(SUNError, String)] = [
            (.invalidHex(.piccData, .oddLength(3)), "PICC data is not valid hex"),
            (.wrongLength(.sdmmac, expected: "8 bytes", actual: 4), "SDMMAC must be 8 bytes, got 4"),
            (.unknownPICCDataTag(0x07), "meta read key is probably wrong"),
            (.missing(.sdmMetaReadKey), "SDM meta read key is needed"),
            (.badMAC, "SDMMAC does not match"),
            (.invalidPadding, "padding"),
            (.updatedKeyIndexOutOfRange(5, count: 4), "use 0..<4"),
            (.invalidNibble(20), "nibble 20"),
            (.malformedURL("no MAC"), "not a SUN URL: no MAC"),
        ]
        for (error, text) in cases {
            #expect(error.description.contains(text), "\(error.description)")
        }
    }
}
