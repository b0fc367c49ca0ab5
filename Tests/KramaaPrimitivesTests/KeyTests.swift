import KramaaPrimitives
import Testing

@Suite struct P256Tests {
    @Test func privateKeyRangeIsChecked() throws {
        #expect(throws: KeyError.privateKeyOutOfRange(.p256)) { try Secp256r1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: KeyError.privateKeyOutOfRange(.p256)) { try Secp256r1.PrivateKey(rawRepresentation: Secp256r1.order.bytes) }
        #expect(throws: KeyError.wrongPrivateKeyLength(.p256, expected: 32, actual: 33)) {
            try Secp256r1.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
        let key = Secp256r1.PrivateKey()
        #expect(try Secp256r1.PrivateKey(rawRepresentation: key.rawRepresentation).publicKey == key.publicKey)
    }

    @Test func publicKeyEncodings() throws {
        let key = Secp256r1.PrivateKey().publicKey
        #expect(key.compressedRepresentation.count == 33)
        #expect(key.uncompressedRepresentation.count == 65)
        #expect(try Secp256r1.PublicKey(serialized: key.compressedRepresentation) == key)
        #expect(try Secp256r1.PublicKey(serialized: key.uncompressedRepresentation) == key)
        #expect(try Secp256r1.PublicKey(uncompressedXY: key.uncompressedXY) == key)
        #expect(throws: KeyError.wrongPublicKeyLength(.p256, expected: [33, 65], actual: 64)) {
            try Secp256r1.PublicKey(serialized: key.uncompressedXY)
        }
        #expect(throws: KeyError.badPointPrefix(.p256, 0x05)) { try Secp256r1.PublicKey(serialized: [0x05] + key.uncompressedXY) }
        var offCurve = key.uncompressedRepresentation
        offCurve[64] ^= 1
        #expect(throws: KeyError.notOnCurve(.p256)) { try Secp256r1.PublicKey(serialized: offCurve) }
    }

    /// Compressed keys are parsed once and remembered: a key parsed again is the same key
    /// (same point, same compressed bytes, same address, same verdicts), and an x that is no
    /// point is refused every time, never remembered.
    @Test func aCompressedKeyParsedAgainIsTheSameKeyAndABadOneIsRefusedEveryTime() throws {
        let signer = Secp256r1.PrivateKey()
        let compressed = signer.publicKey.compressedRepresentation
        let first = try Secp256r1.PublicKey(serialized: compressed)
        let again = try Secp256r1.PublicKey(serialized: compressed)
        #expect(first == again && again == signer.publicKey)
        #expect(again.compressedRepresentation == compressed)
        #expect(again.uncompressedRepresentation == signer.publicKey.uncompressedRepresentation)
        #expect(PublicKey.p256(again).address == PublicKey.p256(signer.publicKey).address)
        let digest = Keccak256.hash(Array("tap".utf8))
        let signature = signer.sign(digest: digest)
        #expect(again.isValidSignature(signature, digest: digest))
        #expect(!again.isValidSignature(signature, digest: Keccak256.hash(Array("other".utf8))))
        // x = p - 1 with an even y: no point of P-256 has it (checked the first time and after).
        let notAPoint = [0x02] + Array(try Bytes32(hex: "ffffffff00000001000000000000000000000000fffffffffffffffffffffffe").bytes)
        for _ in 0..<2 { #expect(throws: KeyError.notOnCurve(.p256)) { try Secp256r1.PublicKey(serialized: notAPoint) } }
    }

    @Test func signAndVerify() throws {
        let key = Secp256r1.PrivateKey()
        let message = Array("commissioned".utf8)
        let sig = key.sign(message: message)
        #expect(key.publicKey.isValidSignature(sig, message: message))
        #expect(!key.publicKey.isValidSignature(sig, message: message + [0]))
        #expect(!key.publicKey.isValidSignature(rawRepresentation: sig.rawRepresentation, digest: Keccak256.hash([9])))
        // P-256 accepts both s and n - s (X9.62, RIP-7212).
        let flipped = sig.isLowS ? try Secp256r1.Signature(r: sig.r, s: Secp256r1.order.subtractingForTest(sig.s)) : sig.lowS
        #expect(key.publicKey.isValidSignature(flipped, message: message))
        #expect(try Secp256r1.Signature(derRepresentation: sig.derRepresentation) == sig)
        #expect(try Secp256r1.Signature(rawRepresentation: sig.rawRepresentation) == sig)
    }

    @Test func badSignatureEncodingsAreRejected() throws {
        let sig = Secp256r1.PrivateKey().sign(message: [1])
        #expect(throws: SignatureError.wrongLength(expected: 64, actual: 65)) { try Secp256r1.Signature(rawRepresentation: sig.rawRepresentation + [0]) }
        #expect(throws: SignatureError.malformedDER) { try Secp256r1.Signature(derRepresentation: [0x30, 0x00]) }
        #expect(throws: SignatureError.malformedDER) { try Secp256r1.Signature(derRepresentation: sig.derRepresentation + [0]) }
        #expect(throws: SignatureError.scalarOutOfRange(component: "r")) {
            try Secp256r1.Signature(derRepresentation: [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01])
        }
        #expect(throws: SignatureError.scalarOutOfRange(component: "s")) {
            try Secp256r1.Signature(rawRepresentation: sig.r.bytes + Secp256r1.order.bytes)
        }
    }
}

@Suite struct Ed25519Tests {
    /// RFC 8032 §7.1, test 1: the empty message.
    @Test func rfc8032Test1() throws {
        let key = try Ed25519.PrivateKey(rawRepresentation: [UInt8](hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(key.publicKey.rawRepresentation == (try [UInt8](hex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")))
        let expected = try [UInt8](hex: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.sign(message: []) == expected)
        #expect(key.publicKey.isValidSignature(expected, message: []))
        #expect(!key.publicKey.isValidSignature(expected.dropLast(), message: []))
    }

    @Test func badKeysAreRejected() throws {
        #expect(throws: KeyError.wrongPrivateKeyLength(.ed25519, expected: 32, actual: 64)) {
            try Ed25519.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 64))
        }
        #expect(throws: KeyError.wrongPublicKeyLength(.ed25519, expected: [32], actual: 33)) {
            try Ed25519.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
        // y = 2 has no x on edwards25519.
        #expect(throws: KeyError.notOnCurve(.ed25519)) { try Ed25519.PublicKey(rawRepresentation: [2] + [UInt8](repeating: 0, count: 31)) }
        // y = p is a non-canonical encoding of 0.
        let p = [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
        #expect(throws: KeyError.notOnCurve(.ed25519)) { try Ed25519.PublicKey(rawRepresentation: p) }
        // y = 1 (the neutral point) has x = 0, so the sign bit must be clear.
        let one = [1] + [UInt8](repeating: 0, count: 31)
        _ = try Ed25519.PublicKey(rawRepresentation: one)
        #expect(throws: KeyError.notOnCurve(.ed25519)) { try Ed25519.PublicKey(rawRepresentation: one.dropLast() + [0x80]) }
        for _ in 0..<16 {
            let key = Ed25519.PrivateKey().publicKey
            #expect(try Ed25519.PublicKey(rawRepresentation: key.rawRepresentation) == key)
        }
    }
}

@Suite struct KeyTypeTests {
    @Test func namesParse() throws {
        #expect(try KeyType(parsing: "SECP256K1") == .secp256k1)
        #expect(try KeyType(parsing: "P-256") == .p256)
        #expect(try KeyType(parsing: "secp256r1") == .p256)
        #expect(try KeyType(parsing: "ed25519") == .ed25519)
        #expect(throws: KeyError.unknownKeyType("rsa")) { try KeyType(parsing: "rsa") }
        #expect(KeyError.unknownKeyType("rsa").description == "unknown key type 'rsa'; use one of secp256k1, p256, ed25519")
    }

    @Test(arguments: KeyType.allCases)
    func erasedKeysSignVerifyAndRoundTrip(_ type: KeyType) throws {
        let key = SigningKey(generating: type)
        #expect(key.type == type)
        let message = Array("reading 21.5 C".utf8)
        let sig = key.signature(for: message)
        #expect(sig.count == 64)
        #expect(key.publicKey.isValidSignature(sig, for: message))
        #expect(!key.publicKey.isValidSignature(sig, for: message + [0]))
        #expect(!key.publicKey.isValidSignature(sig.dropLast(), for: message))
        let restored = try SigningKey(type: type, rawRepresentation: key.rawRepresentation)
        #expect(restored.publicKey == key.publicKey)
        #expect(try PublicKey(type: type, bytes: key.publicKey.bytes) == key.publicKey)
        #expect(try DIDKey(key.publicKey.didKey.string).publicKey == key.publicKey)
        #expect(!key.description.contains(Hex.encode(key.rawRepresentation, prefix: false)))
    }

    @Test func addressesFollowTheDocumentedRules() throws {
        let k1 = SigningKey(generating: .secp256k1).publicKey
        guard case .secp256k1(let raw) = k1 else { Issue.record("wrong case"); return }
        #expect(k1.address == Address(uncompressedPublicKey: raw.uncompressedXY))
        for type in [KeyType.p256, .ed25519] {
            let key = SigningKey(generating: type).publicKey
            let hash = Keccak256.hash(type.multicodec.prefix + key.bytes).bytes
            #expect(key.address == (try Address(hash[12...])))
        }
        #expect(KeyType.p256.multicodec.prefix == [0x80, 0x24])
        #expect(KeyType.ed25519.multicodec.prefix == [0xed, 0x01])
        #expect(KeyType.secp256k1.multicodec.prefix == [0xe7, 0x01])
    }

    @Test func wrongLengthsAreTyped() {
        #expect(throws: KeyError.wrongPrivateKeyLength(.secp256k1, expected: 32, actual: 0)) { try SigningKey(type: .secp256k1, rawRepresentation: []) }
        #expect(throws: KeyError.wrongPublicKeyLength(.p256, expected: [33, 65], actual: 32)) { try PublicKey(type: .p256, bytes: [UInt8](repeating: 2, count: 32)) }
        #expect(throws: KeyError.wrongPublicKeyLength(.ed25519, expected: [32], actual: 33)) { try PublicKey(type: .ed25519, bytes: [UInt8](repeating: 2, count: 33)) }
    }
}
