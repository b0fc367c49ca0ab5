import Testing
import KramaaPrimitives
import KramaaNFC

/// LRP (NXP AN12304) against every entry of the `lrp-an12304-vectors` files: EvalLRP,
/// CMAC_LRP with its final-block subkey, the plaintext table, updated keys and LRICB.
@Suite struct LRPVectorTests {
    static func entries(_ group: String) throws -> [(label: String, entry: [String: Any])] {
        var out: [(String, [String: Any])] = []
        for file in try NTAGVectors.files(format: "lrp-an12304-vectors") {
            let list = try #require(file.object[group] as? [[String: Any]], "\(file.name): no '\(group)' list")
            for entry in list { out.append(("\(file.name) \(entry["id"] as? String ?? "?")", entry)) }
        }
        try #require(!out.isEmpty, "no \(group) vectors")
        return out
    }

    @Test func evalLRPMatchesEveryVector() throws {
        for (label, entry) in try Self.entries("eval_lrp") {
            let lrp = try LRPCipher(key: entry.hex("key", label))
            let nibbles = try entry.string("input_nibbles", label).map { try #require($0.hexDigitValue, "\(label): bad nibble") }.map(UInt8.init)
            let index = try #require(entry["updated_key_index"] as? Int, "\(label)")
            let finalize = try #require(entry["finalize"] as? Bool, "\(label)")
            let result = try lrp.evaluate(nibbles: nibbles, updatedKeyIndex: index, finalize: finalize)
            #expect(result == (try entry.hex("result", label)), "\(label)")
        }
    }

    @Test func cmacLRPMatchesEveryVector() throws {
        for (label, entry) in try Self.entries("cmac_lrp") {
            let lrp = try LRPCipher(key: entry.hex("key", label))
            let message = try entry.hex("msg", label)
            #expect(try lrp.cmac(message) == (try entry.hex("mac", label)), "\(label)")
            let subkeys = try lrp.cmacSubkeys()
            let finalSubkey = !message.isEmpty && message.count % 16 == 0 ? subkeys.k1 : subkeys.k2
            #expect(finalSubkey == (try entry.hex("kx_final_block_subkey", label)), "\(label): final-block subkey")
        }
    }

    @Test func tablesAndLRICBMatchEveryMiscVector() throws {
        for (label, entry) in try Self.entries("misc") {
            let id = try entry.string("id", label)
            let key = try entry.hex("key", label)
            switch id {
            case "generate-plaintexts", "generate-updated-keys":
                let isPlaintexts = id == "generate-plaintexts"
                let all = try #require(entry["derived_all"] as? [String], "\(label)").map { try Hex.decode($0) }
                let lrp = try LRPCipher(key: key, updatedKeyCount: isPlaintexts ? 4 : all.count)
                let table = isPlaintexts ? lrp.plaintextTable : lrp.updatedKeyTable
                #expect(table == all, "\(label)")
                for (name, value) in try entry.object("published", label) {
                    let index = try #require(Int(name.drop { $0.isLetter }), "\(label): published name \(name)")
                    #expect(table[index] == (try Hex.decode(try #require(value as? String))), "\(label) \(name)")
                }
            case "lricb-encrypt-padded":
                let lrp = try LRPCipher(key: key)
                let index = try #require(entry["updated_key_index"] as? Int, "\(label)")
                let counter = try entry.hex("counter", label)
                let plaintext = try entry.hex("plaintext", label)
                let ciphertext = try entry.hex("ciphertext", label)
                #expect(try lrp.encryptLRICB(plaintext, updatedKeyIndex: index, counter: counter, padding: true) == ciphertext, "\(label)")
                #expect(try lrp.decryptLRICB(ciphertext, updatedKeyIndex: index, counter: counter, padding: true) == plaintext, "\(label)")
            default:
                Issue.record("\(label): unknown misc vector '\(id)'; the test must learn it")
            }
        }
    }

    @Test func lricbRoundTripsWithoutPaddingAndAcrossCounterWrap() throws {
        let lrp = try LRPCipher(key: [UInt8](repeating: 0x11, count: 16))
        let plaintext = (0..<48).map { UInt8($0) }
        // A one-byte counter at FF wraps to 00 for the second block.
        let ciphertext = try lrp.encryptLRICB(plaintext, updatedKeyIndex: 1, counter: [0xFF], padding: false)
        #expect(ciphertext.count == 48)
        #expect(try lrp.decryptLRICB(ciphertext, updatedKeyIndex: 1, counter: [0xFF], padding: false) == plaintext)
        let second = try lrp.encryptLRICB(Array(plaintext[16..<32]), updatedKeyIndex: 1, counter: [0x00], padding: false)
        #expect(Array(ciphertext[16..<32]) == second, "the counter wraps from FF to 00")
    }

    @Test func badLRPInputsAreRejected() throws {
        #expect(throws: SUNError.wrongLength(.key, expected: "16 bytes", actual: 8)) { try LRPCipher(key: [UInt8](repeating: 0, count: 8)) }
        let lrp = try LRPCipher(key: [UInt8](repeating: 0, count: 16))
        #expect(throws: SUNError.updatedKeyIndexOutOfRange(4, count: 4)) { try lrp.evaluate(nibbles: [1], updatedKeyIndex: 4, finalize: true) }
        #expect(throws: SUNError.invalidNibble(16)) { try lrp.evaluate(nibbles: [16], updatedKeyIndex: 0, finalize: true) }
        #expect(throws: SUNError.updatedKeyIndexOutOfRange(-1, count: 4)) { try lrp.cmac([], updatedKeyIndex: -1) }
        #expect(throws: SUNError.wrongLength(.lrpCounter, expected: "1 to 16 bytes", actual: 0)) {
            try lrp.encryptLRICB([1], updatedKeyIndex: 0, counter: [], padding: true)
        }
        #expect(throws: SUNError.wrongLength(.lrpData, expected: "a non-empty multiple of 16 bytes", actual: 15)) {
            try lrp.encryptLRICB([UInt8](repeating: 0, count: 15), updatedKeyIndex: 0, counter: [0], padding: false)
        }
        #expect(throws: SUNError.wrongLength(.lrpData, expected: "a non-empty multiple of 16 bytes", actual: 0)) {
            try lrp.decryptLRICB([], updatedKeyIndex: 0, counter: [0], padding: true)
        }
        // Encrypting 16 zero bytes without padding, then decrypting with padding: no 80 marker.
        let unpadded = try lrp.encryptLRICB([UInt8](repeating: 0, count: 16), updatedKeyIndex: 0, counter: [0], padding: false)
        #expect(throws: SUNError.invalidPadding) { try lrp.decryptLRICB(unpadded, updatedKeyIndex: 0, counter: [0], padding: true) }
    }
}
