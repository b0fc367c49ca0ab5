import Crypto
import Foundation
import KramaaMessaging
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Key-agreement keys: derivation from an Ed25519 seed (checked against did:key's published
/// pairs), refusal of unusable keys, the registration proofs and the key file.
@Suite struct AgreementKeyTests {
    static let chain: UInt64 = 1337

    /// did:key's Ed25519 keys and the X25519 key-agreement keys derived from the same seeds:
    /// the seed gives the X25519 public key, and the Ed25519 public key maps to it.
    @Test func x25519KeysDeriveFromEd25519SeedsAsInDidKeyVectors() throws {
        let file = try Vectors.folder("didkey/test-vectors").appendingPathComponent("ed25519-x25519.json")
        let entries = try #require(try Vectors.json(file) as? [String: [String: Any]])
        var checked = 0
        for (did, entry) in entries {
            guard let seedHex = entry["seed"] as? String,
                  let agreement = (entry["keyAgreementKeyPair"] as? [String: Any])?["publicKeyBase58"] as? String,
                  let verification = (entry["verificationKeyPair"] as? [String: Any])?["publicKeyBase58"] as? String else { continue }
            let expected = try Base58.decode(agreement)
            let key = try AgreementPrivateKey(type: .x25519, secret: try Hex.decode(seedHex))
            #expect(key.publicKey.bytes == expected, "\(did)")
            let edwards = try Ed25519.PublicKey(rawRepresentation: try Base58.decode(verification))
            #expect(edwards.montgomeryU == expected, "\(did)")
            #expect(Array(AgreementKeyProof.prove(key, device: .zero, chainId: 1)[0..<32]) == edwards.rawRepresentation, "\(did)")
            checked += 1
        }
        #expect(checked > 0, "no entry with a seed and both public keys in \(Vectors.name(file))")
    }

    @Test func unusableKeysAreRefusedWithTheReason() throws {
        #expect(throws: AgreementKeyError.unknownType("KEM id 17")) { try AgreementKeyType(kemId: 0x11) }
        #expect(throws: AgreementKeyError.unknownType("'x448'")) { try AgreementKeyType(parsing: "x448") }
        #expect(throws: AgreementKeyError.wrongPublicKeyLength(.p256, expected: 65, actual: 33)) {
            try AgreementPublicKey(type: .p256, bytes: SigningKey(generating: .p256).publicKey.bytes)
        }
        #expect(throws: AgreementKeyError.invalidKey(.p256, "not a point on P-256")) { try AgreementPublicKey(type: .p256, bytes: [4] + [UInt8](repeating: 1, count: 64)) }
        #expect(throws: AgreementKeyError.invalidKey(.x25519, "not a canonical u-coordinate (below 2^255 - 19)")) {
            try AgreementPublicKey(type: .x25519, bytes: [0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f])
        }
        // Each refused small-order point really gives an all-zero shared secret, whatever the
        // private key (swift-crypto does not refuse it, so Kramaa must).
        let probe = Curve25519.KeyAgreement.PrivateKey()
        for point in [[UInt8](repeating: 0, count: 32), [1] + [UInt8](repeating: 0, count: 31),
                      try Hex.decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
                      try Hex.decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
                      try Hex.decode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] {
            #expect(throws: AgreementKeyError.invalidKey(.x25519, "a point of small order")) { try AgreementPublicKey(type: .x25519, bytes: point) }
            let secret = try probe.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: point))
            #expect(secret.withUnsafeBytes { Array($0) } == [UInt8](repeating: 0, count: 32))
        }
        #expect(throws: AgreementKeyError.invalidKey(.p256, "the scalar is zero or not below the group order")) {
            try AgreementPrivateKey(type: .p256, secret: [UInt8](repeating: 0xff, count: 32))
        }
    }

    @Test(arguments: AgreementKeyType.allCases)
    func possessionAndAuthorisationProofsVerifyOnlyForTheirDeviceKeyAndChain(type: AgreementKeyType) throws {
        let key = AgreementPrivateKey(generating: type), signing = SigningKey(generating: .secp256k1)
        let device = signing.publicKey.address, other = SigningKey(generating: .p256).publicKey.address
        let proof = AgreementKeyProof.prove(key, device: device, chainId: Self.chain)
        #expect(proof.count == AgreementKeyProof.possessionProofLength(type))
        try AgreementKeyProof.verifyPossession(proof, of: key.publicKey, device: device, chainId: Self.chain)
        let expectedFailure: AgreementKeyProofError = .badPossessionProof
        #expect(throws: expectedFailure) { try AgreementKeyProof.verifyPossession(proof, of: key.publicKey, device: other, chainId: Self.chain) }
        #expect(throws: expectedFailure) { try AgreementKeyProof.verifyPossession(proof, of: key.publicKey, device: device, chainId: 1) }
        // Another key's valid proof does not prove this key.
        let stranger = AgreementPrivateKey(generating: type)
        let strangersProof = AgreementKeyProof.prove(stranger, device: device, chainId: Self.chain)
        #expect(throws: type == .x25519 ? AgreementKeyProofError.provingKeyMismatch : .badPossessionProof) {
            try AgreementKeyProof.verifyPossession(strangersProof, of: key.publicKey, device: device, chainId: Self.chain)
        }
        if type == .x25519 {
            // The neutral point (y = 1) has no Montgomery form: a proof carrying it proves no key.
            let neutral = [1] + [UInt8](repeating: 0, count: 31)
            #expect(try Ed25519.PublicKey(rawRepresentation: neutral).montgomeryU == nil)
            #expect(throws: AgreementKeyProofError.provingKeyMismatch) {
                try AgreementKeyProof.verifyPossession(neutral + proof[32...], of: key.publicKey, device: device, chainId: Self.chain)
            }
        }
        #expect(throws: AgreementKeyProofError.malformedPossessionProof(expected: proof.count, actual: proof.count - 1)) {
            try AgreementKeyProof.verifyPossession(Array(proof.dropLast()), of: key.publicKey, device: device, chainId: Self.chain)
        }
        let authorization = AgreementKeyProof.authorize(key.publicKey, device: device, chainId: Self.chain, with: signing)
        try AgreementKeyProof.verifyAuthorization(authorization, of: key.publicKey, device: device, chainId: Self.chain, signingKey: signing.publicKey)
        #expect(throws: AgreementKeyProofError.badAuthorization) {
            try AgreementKeyProof.verifyAuthorization(authorization, of: stranger.publicKey, device: device, chainId: Self.chain, signingKey: signing.publicKey)
        }
        // The possession proof's signature is not an authorisation (other domain), even from the same key type.
        #expect(AgreementKeyProof.possessionMessage(chainId: 1, device: device, key: key.publicKey)
                != AgreementKeyProof.authorizationMessage(chainId: 1, device: device, key: key.publicKey))
    }

    @Test(arguments: AgreementKeyType.allCases)
    func aKeyFileRoundTripsAndRefusesEdits(type: AgreementKeyType) throws {
        let key = AgreementPrivateKey(generating: type)
        let text = AgreementKeyFile(key).encoded()
        let read = try AgreementKeyFile(decoding: text)
        #expect(read.key.secret == key.secret && read.key.publicKey == key.publicKey)
        var fields = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: String])
        #expect(fields["type"] == type.name && (fields["seed"] != nil) == (type == .x25519))
        fields["publicKey"] = Hex.encode(AgreementPrivateKey(generating: type).publicKey.bytes)
        let edited = Array(try JSONSerialization.data(withJSONObject: fields))
        #expect(throws: AgreementKeyFileError.mismatch(field: "publicKey")) { try AgreementKeyFile(decoding: edited) }
        #expect(throws: AgreementKeyFileError.self) { try AgreementKeyFile(decoding: Array("[]".utf8)) }
        #expect(throws: AgreementKeyFileError.invalidField("type", "unknown key-agreement key type 'ed25519'; use x25519 (KEM 0x0020) or p256-kem (KEM 0x0010)")) {
            try AgreementKeyFile(decoding: Array("{\"type\": \"ed25519\"}".utf8))
        }
    }

    @Test(arguments: AgreementKeyType.allCases, MessageAEAD.allCases)
    func rawHPKEOpensWithTheSerializedPrivateKeyAndOnlyWithTheSameInfoAndAad(kem: AgreementKeyType, aead: MessageAEAD) throws {
        let key = AgreementPrivateKey(generating: kem)
        let (enc, ciphertext) = try HPKEBox.seal(Array("hello".utf8), to: key.publicKey, aead: aead, info: [1], aad: [2])
        #expect(ciphertext.count == 5 + 16)
        #expect(try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, privateKey: key.hpkePrivateKey, kem: kem, aead: aead, info: [1], aad: [2])
                == Array("hello".utf8))
        #expect(throws: HPKEBoxError.cannotOpen) { try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, with: key, aead: aead, info: [9], aad: [2]) }
        #expect(throws: HPKEBoxError.cannotOpen) { try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, with: key, aead: aead, info: [1], aad: []) }
        #expect(throws: HPKEBoxError.badPrivateKey("not a \(kem) private key (31 bytes)")) {
            try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, privateKey: [UInt8](repeating: 1, count: 31), kem: kem, aead: aead, info: [1], aad: [2])
        }
        #expect(throws: HPKEBoxError.self) { try HPKEBox.open(encapsulatedKey: Array(enc.dropLast()), ciphertext: ciphertext, with: key, aead: aead, info: [1], aad: [2]) }
        let otherAEAD = aead == .aes128GCM ? MessageAEAD.chaCha20Poly1305 : .aes128GCM
        #expect(throws: HPKEBoxError.cannotOpen) { try HPKEBox.open(encapsulatedKey: enc, ciphertext: ciphertext, with: key, aead: otherAEAD, info: [1], aad: [2]) }
    }
}
