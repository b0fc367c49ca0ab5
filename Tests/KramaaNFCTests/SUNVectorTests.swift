import Testing
import KramaaPrimitives
import KramaaNFC

/// Every entry of the `ntag424-sdm-sun-vectors` files: PICCData decryption, session vectors
/// and keys, the full and truncated MAC, file-data IV and decryption, the verdict of the
/// verifier (negative cases must be rejected), and the URL split where a URL is given.
@Suite struct SUNVectorTests {
    struct Case {
        let label: String
        let vector: [String: Any]
        let derived: [String: Any]
        let mode: SDMMode
        let keys: SDMKeys
    }

    static func cases() throws -> [Case] {
        var out: [Case] = []
        for file in try NTAGVectors.files(format: "ntag424-sdm-sun-vectors") {
            let vectors = try #require(file.object["vectors"] as? [[String: Any]], "\(file.name): no vectors")
            if let count = file.object["count"] as? Int { #expect(vectors.count == count, "\(file.name): count field") }
            for vector in vectors {
                let label = "\(file.name) \(vector["id"] as? String ?? "?")"
                let mode = try #require(SDMMode(rawValue: try vector.string("mode", label)), "\(label): unknown mode")
                let keys = try vector.object("keys", label)
                out.append(Case(label: label, vector: vector, derived: try vector.object("derived", label), mode: mode,
                                keys: try SDMKeys(mode: mode, metaReadKeyHex: keys["sdm_meta_read_key"] as? String,
                                                  fileReadKeyHex: keys.string("sdm_file_read_key", label))))
            }
        }
        try #require(!out.isEmpty, "no SUN vectors")
        return out
    }

    /// The vector's PICCData: decrypted, or plain from `uid` / `read_counter_hex_be`.
    static func picc(_ c: Case) throws -> PICCData {
        if let encrypted = try c.vector.optionalHex("picc_data_encrypted") {
            return try PICCData(decrypting: encrypted, key: try #require(c.keys.metaRead, "\(c.label): no meta key"), mode: c.mode)
        }
        let message = try SUNMessage(uidHex: c.vector["uid"] as? String, readCounterHex: c.vector["read_counter_hex_be"] as? String,
                                     encHex: nil as String?, cmacHex: "0000000000000000")
        return try SUNVerifier.piccData(of: message, keys: c.keys)
    }

    @Test func piccDataDecryptsToTheDerivedValues() throws {
        for c in try Self.cases() {
            let picc = try Self.picc(c)
            if let uid = c.derived["uid"] as? String ?? c.vector["uid"] as? String {
                #expect(picc.uid == (try TagUID(hex: uid)), "\(c.label): UID")
            } else {
                #expect(picc.uid == nil, "\(c.label): no UID is mirrored")
            }
            #expect(picc.readCounter.map(Int.init) == c.derived["read_counter"] as? Int, "\(c.label): read counter")
            if let tag = try c.derived.optionalHex("picc_data_tag") {
                #expect(picc.tagByte == tag.first, "\(c.label): PICCDataTag")
            }
            if let plain = try c.derived.optionalHex("picc_data_plain") {
                // The plaintext itself parses to the same reading.
                let reparsed = try PICCData(plaintext: plain, piccRand: picc.piccRand)
                #expect(reparsed == picc, "\(c.label): PICCData plaintext")
            }
            #expect(picc.piccRand == (try c.derived.optionalHex("picc_rand")), "\(c.label): PICCRand")
        }
    }

    @Test func sessionKeysMACAndFileDataMatchTheDerivedValues() throws {
        for c in try Self.cases() {
            let session = try SDMSession(fileReadKey: c.keys.fileRead, mode: c.mode, picc: try Self.picc(c))
            switch c.mode {
            case .aes:
                #expect(session.sessionVectors == [try c.derived.hex("sv1", c.label), try c.derived.hex("sv2", c.label)], "\(c.label): SV1/SV2")
                let keys = try #require(session.aesSessionKeys, "\(c.label)")
                #expect(keys.encryption == (try c.derived.hex("k_ses_sdm_file_read_enc", c.label)), "\(c.label): KSesSDMFileReadENC")
                #expect(keys.mac == (try c.derived.hex("k_ses_sdm_file_read_mac", c.label)), "\(c.label): KSesSDMFileReadMAC")
                #expect(session.lrpMasterKey == nil)
                if let ive = try c.derived.optionalHex("ive") {
                    #expect(try session.fileDataIV() == ive, "\(c.label): IVe")
                }
            case .lrp:
                #expect(session.sessionVectors == [try c.derived.hex("sv", c.label)], "\(c.label): SV")
                #expect(session.lrpMasterKey == (try c.derived.hex("k_ses_sdm_file_read_master", c.label)), "\(c.label): master key")
                #expect(session.aesSessionKeys == nil)
            }
            if let macInput = c.vector["mac_input_ascii"] as? String, let full = try c.derived.optionalHex("mac_full") {
                #expect(session.fullMAC(Array(macInput.utf8)) == full, "\(c.label): full MAC")
                #expect(session.sdmmac(Array(macInput.utf8)) == (0..<8).map { full[2 * $0 + 1] }, "\(c.label): odd bytes")
            }
            if let encrypted = try c.vector.optionalHex("enc_file_data") {
                #expect(try session.decryptFileData(encrypted) == (try c.derived.hex("file_data_plain", c.label)), "\(c.label): file data")
            }
        }
    }

    @Test func verifierAcceptsValidAndRejectsTamperedMessages() throws {
        var checked = 0
        for c in try Self.cases() {
            guard let sdmmac = c.vector["sdmmac"] as? String else { continue }
            let expected = try #require(c.vector["expected_valid"] as? Bool, "\(c.label): sdmmac without expected_valid")
            let macInput = Array(try c.vector.string("mac_input_ascii", c.label).utf8)
            let message: SUNMessage
            if let picc = c.vector["picc_data_encrypted"] as? String {
                message = try SUNMessage(piccDataHex: picc, encHex: c.vector["enc_file_data"] as? String, cmacHex: sdmmac, macInput: macInput)
            } else {
                message = try SUNMessage(uidHex: c.vector["uid"] as? String, readCounterHex: c.vector["read_counter_hex_be"] as? String,
                                         encHex: c.vector["enc_file_data"] as? String, cmacHex: sdmmac, macInput: macInput)
            }
            let reading = try SUNVerifier.verify(message, keys: c.keys)
            #expect(reading.macIsValid == expected, "\(c.label): MAC verdict")
            #expect(reading.readCounter.map(Int.init) == c.derived["read_counter"] as? Int, "\(c.label)")
            if expected {
                #expect(try reading.requireValidMAC() == reading)
                #expect(reading.fileData == (try c.derived.optionalHex("file_data_plain")), "\(c.label): file data")
            } else {
                #expect(throws: SUNError.badMAC, "\(c.label)") { try reading.requireValidMAC() }
                #expect(reading.fileData == nil, "\(c.label): no file data from a tampered message")
                if let correct = try c.derived.optionalHex("sdmmac_correct") {
                    let session = try SDMSession(fileReadKey: c.keys.fileRead, mode: c.mode, picc: reading.picc)
                    #expect(session.sdmmac(macInput) == correct, "\(c.label): the correct SDMMAC")
                }
            }
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test func urlsSplitIntoTheVectorFields() throws {
        var checked = 0
        for c in try Self.cases() {
            guard let url = c.vector["url"] as? String else { continue }
            let parsed = try SUNURL(url)
            #expect(parsed.piccData.map { String($0.value) } == c.vector["picc_data_encrypted"] as? String, "\(c.label): PICC data")
            #expect(parsed.encFileData.map { String($0.value) } == c.vector["enc_file_data"] as? String, "\(c.label): file data")
            #expect(String(parsed.cmac.value) == (try c.vector.string("sdmmac", c.label)), "\(c.label): MAC")
            if let offsets = c.vector["url_offsets"] as? [String: Int] {
                #expect(parsed.piccData?.offset == offsets["picc_data"], "\(c.label): PICC offset")
                #expect(parsed.encFileData?.offset == offsets["enc"], "\(c.label): file data offset")
                #expect(parsed.cmac.offset == offsets["cmac"], "\(c.label): MAC offset")
            }
            // Where the MAC input starts is tag configuration; name it from the vector's input.
            let macInput = try c.vector.string("mac_input_ascii", c.label)
            let start: SDMMACInputStart
            if macInput.isEmpty {
                start = .empty
            } else if let enc = c.vector["enc_file_data"] as? String, macInput.hasPrefix(enc) {
                start = .encFileData
            } else if let picc = c.vector["picc_data_encrypted"] as? String, macInput.hasPrefix(picc) {
                start = .piccData
            } else {
                start = .afterScheme
            }
            let message = try parsed.message(macInputStart: start)
            #expect(message.macInput == Array(macInput.utf8), "\(c.label): MAC input for \(start)")
            let reading = try SUNVerifier.verify(message, keys: c.keys)
            #expect(reading.macIsValid == (c.vector["expected_valid"] as? Bool), "\(c.label): verdict from the URL")
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test func everyFileInTheFolderHasAKnownFormat() throws {
        for file in try NTAGVectors.files() {
            #expect(NTAGVectors.knownFormats.contains(file.format), "\(file.name): unknown format '\(file.format)'; the tests must learn it")
        }
    }
}

/// The sdm-backend project's key diversification against every entry of its vector files.
@Suite struct SDMBackendKeyDiversificationTests {
    @Test func derivedKeysMatchEveryVector() throws {
        var checked = 0
        for file in try NTAGVectors.files(format: "sdm-backend-kdf-vectors") {
            for (i, v) in try #require(file.object["vectors"] as? [[String: Any]], "\(file.name)").enumerated() {
                let label = "\(file.name) #\(i)"
                let master = try v.hex("master_key", label)
                let derived: [UInt8]
                switch try v.string("kind", label) {
                case "undiversified":
                    derived = try SDMBackendKeyDiversification.undiversifiedKey(master: master)
                case "uid_diversified":
                    let keyNumber = try #require(v["key_no"] as? Int, "\(label)")
                    derived = try SDMBackendKeyDiversification.tagKey(master: master, uid: TagUID(hex: v.string("uid", label)),
                                                                      keyNumber: UInt8(keyNumber))
                case let kind:
                    Issue.record("\(label): unknown kind \(kind)")
                    continue
                }
                #expect(derived == (try v.hex("derived_key", label)), "\(label)")
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    @Test func masterKeyOfWrongLengthIsRejected() {
        #expect(throws: SUNError.wrongLength(.masterKey, expected: "16 bytes", actual: 4)) {
            try SDMBackendKeyDiversification.undiversifiedKey(master: [1, 2, 3, 4])
        }
    }
}
