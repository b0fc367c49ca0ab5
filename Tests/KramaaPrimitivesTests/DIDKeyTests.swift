import KramaaPrimitives
import Testing

@Suite struct DIDKeyTests {
    static func did(_ bytes: [UInt8]) -> String { "did:key:z" + Base58.encode(bytes) }

    @Test func badStringsGiveTypedErrors() throws {
        #expect(throws: DIDKeyError.notDIDKey("did:web:example.com")) { try DIDKey("did:web:example.com") }
        #expect(throws: DIDKeyError.notMultibase("")) { try DIDKey("did:key:") }
        #expect(throws: DIDKeyError.notMultibase("f")) { try DIDKey("did:key:fed01") }
        #expect(throws: DIDKeyError.invalidBase58(.invalidCharacter("0", offset: 3))) { try DIDKey("did:key:z6Mk0") }
        #expect(throws: DIDKeyError.invalidVarint(.truncated)) { try DIDKey(Self.did([])) }
        #expect(throws: DIDKeyError.invalidVarint(.truncated)) { try DIDKey(Self.did([0xed])) }
        #expect(throws: DIDKeyError.invalidVarint(.notMinimal)) { try DIDKey(Self.did([0xed, 0x81, 0x00] + [UInt8](repeating: 1, count: 32))) }
        #expect(throws: DIDKeyError.unsupportedCodec(.p384Pub)) { try DIDKey(Self.did([0x81, 0x24] + [UInt8](repeating: 2, count: 49))) }
        #expect(throws: DIDKeyError.unsupportedCodec(Multicodec(rawValue: 0x55))) { try DIDKey(Self.did([0x55, 1, 2, 3])) }
        #expect(throws: DIDKeyError.wrongKeyLength(.ed25519Pub, expected: 32, actual: 31)) {
            try DIDKey(Self.did([0xed, 0x01] + [UInt8](repeating: 1, count: 31)))
        }
        // Uncompressed points are not did:key form.
        let uncompressed = Secp256k1.PrivateKey().publicKey.uncompressedRepresentation
        #expect(throws: DIDKeyError.wrongKeyLength(.secp256k1Pub, expected: 33, actual: 65)) { try DIDKey(Self.did([0xe7, 0x01] + uncompressed)) }
        let xIsP = try [UInt8](hex: "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
        #expect(throws: DIDKeyError.invalidKey(.notOnCurve(.secp256k1))) { try DIDKey(Self.did([0xe7, 0x01] + xIsP)) }
        #expect(throws: DIDKeyError.invalidKey(.badPointPrefix(.p256, 0x04))) { try DIDKey(Self.did([0x80, 0x24, 0x04] + [UInt8](repeating: 1, count: 32))) }
        #expect(throws: DIDKeyError.invalidKey(.notOnCurve(.ed25519))) { try DIDKey(Self.did([0xed, 0x01, 2] + [UInt8](repeating: 0, count: 31))) }
        // A DID URL is not a DID.
        #expect(throws: DIDKeyError.self) { try DIDKey("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp") }
        #expect(DIDKeyError.notMultibase("t").description.contains("multibase"))
    }

    @Test func x25519RoundTrips() throws {
        let did = try DIDKey(x25519PublicKey: [UInt8](repeating: 9, count: 32))
        #expect(did.string.hasPrefix("did:key:z6LS"))
        #expect(try DIDKey(did.string) == did)
        #expect(did.publicKey == nil)
        #expect(throws: DIDKeyError.wrongKeyLength(.x25519Pub, expected: 32, actual: 31)) { try DIDKey(x25519PublicKey: [UInt8](repeating: 9, count: 31)) }
    }

    @Test func prefixesMatchTheSpec() {
        #expect(DIDKey(SigningKey(generating: .ed25519).publicKey).string.hasPrefix("did:key:z6Mk"))
        #expect(DIDKey(SigningKey(generating: .secp256k1).publicKey).string.hasPrefix("did:key:zQ3s"))
        #expect(DIDKey(SigningKey(generating: .p256).publicKey).string.hasPrefix("did:key:zDna"))
    }
}

@Suite struct Base58Tests {
    @Test func knownAnswers() throws {
        #expect(Base58.encode(Array("Hello World!".utf8)) == "2NEpo7TZRRrLZSi2U")
        #expect(Base58.encode([]) == "")
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(Base58.encode([0]) == "1")
        #expect(try Base58.decode("2NEpo7TZRRrLZSi2U") == Array("Hello World!".utf8))
        #expect(try Base58.decode("") == [])
        #expect(try Base58.decode("111") == [0, 0, 0])
        #expect(try Base58.decode("112") == [0, 0, 1])
    }

    @Test func roundTripsWithLeadingZeros() throws {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<48 {
            let zeros = Int.random(in: 0...3, using: &rng)
            let bytes = [UInt8](repeating: 0, count: zeros) + (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(try Base58.decode(Base58.encode(bytes)) == bytes)
        }
    }

    @Test func invalidCharactersAreTyped() {
        for (text, bad, offset) in [("abc0", Character("0"), 3), ("O", "O", 0), ("xIx", "I", 1), ("l", "l", 0), ("é", "é", 0), ("a b", " ", 1)] {
            #expect(throws: Base58Error.invalidCharacter(bad, offset: offset)) { try Base58.decode(text) }
        }
    }
}

@Suite struct VarintTests {
    @Test func encodesAndDecodes() throws {
        for value: UInt64 in [0, 1, 0x7f, 0x80, 0xed, 0x1200, 0x3fff, 0x4000, 1 << 62] {
            let bytes = Varint.encode(value)
            let decoded = try Varint.decode(bytes + [0xaa])
            #expect(decoded.value == value && decoded.length == bytes.count)
        }
        #expect(Varint.encode(0xed) == [0xed, 0x01])
        #expect(Varint.encode(0x1200) == [0x80, 0x24])
    }

    @Test func badVarintsAreTyped() {
        #expect(throws: VarintError.truncated) { try Varint.decode([UInt8]()) }
        #expect(throws: VarintError.truncated) { try Varint.decode([0x80, 0x80]) }
        #expect(throws: VarintError.notMinimal) { try Varint.decode([0x81, 0x00]) }
        #expect(throws: VarintError.tooLarge) { try Varint.decode([UInt8](repeating: 0xff, count: 10)) }
    }
}
