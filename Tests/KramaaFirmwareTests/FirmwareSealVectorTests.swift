import KramaaFirmware
import KramaaPrimitives
import Testing

/// The sealing primitives against their RFCs' own examples: X25519 (RFC 7748), ChaCha20,
/// Poly1305 and the AEAD (RFC 8439), HKDF-SHA256 (RFC 5869) and HPKE (RFC 9180 A.2.1,
/// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode: every encryption).
@Suite struct FirmwareSealVectorTests {
    static func b32(_ text: String) throws -> KramaaFirmware.Bytes32 { KramaaFirmware.Bytes32(try Hex.decode(text)) }

    /// RFC 7748 §5.2 (both examples, non-canonical u included) and §6.1 (Alice and Bob).
    @Test func x25519MatchesRFC7748() throws {
        let cases = [
            ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
             "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
            ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
             "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
        for (scalar, u, out) in cases {
            #expect(hex(X25519.scalarMult(try Self.b32(scalar), try Self.b32(u)).array) == out)
        }
        let alice = try Self.b32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let bob = try Self.b32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        #expect(hex(X25519.publicKey(alice).array) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(hex(X25519.publicKey(bob).array) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        #expect(hex(try X25519.sharedSecret(alice, X25519.publicKey(bob)).array) == shared)
        #expect(hex(try X25519.sharedSecret(bob, X25519.publicKey(alice)).array) == shared)
        // A public key of small order gives the all-zero secret: refused.
        #expect(throws: FirmwareCryptoError.invalidPublicKey) { try X25519.sharedSecret(alice, KramaaFirmware.Bytes32(repeating: 0)) }
    }

    /// RFC 7748 §5.2's iteration: k ← X25519(k, u), u ← old k, from k = u = 9; after 1 and 1,000 steps.
    @Test func x25519IteratesAsRFC7748() {
        var k = X25519.basePoint, u = X25519.basePoint
        for step in 1...1000 {
            let next = X25519.scalarMult(k, u)
            u = k
            k = next
            if step == 1 { #expect(hex(k.array) == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079") }
        }
        #expect(hex(k.array) == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    }

    /// RFC 8439 §2.4.2 (ChaCha20), §2.5.2 (Poly1305) and §2.8.2 (the AEAD), and the AEAD
    /// refusing a changed tag, ciphertext or aad.
    @Test func chaCha20Poly1305MatchesRFC8439() throws {
        let sunscreen = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        var data = sunscreen
        let key = try Self.b32("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        data.withUnsafeMutableBytes {
            ChaCha20.xor(key: key, nonce: KramaaFirmware.Bytes12(try! Hex.decode("000000000000004a00000000")), counter: 1, $0)
        }
        #expect(hex(data) == "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d")
        var mac = Poly1305(key: try Self.b32("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"))
        Array("Cryptographic Forum Research Group".utf8).withUnsafeBytes { mac.update($0) }
        #expect(hex(mac.finalize().array) == "a8061dc1305136c6c22b8baf0c0127a9")

        let aeadKey = try Self.b32("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = KramaaFirmware.Bytes12(try Hex.decode("070000004041424344454647"))
        let aad = try Hex.decode("50515253c0c1c2c3c4c5c6c7")
        var sealed = sunscreen
        let tag = aad.withUnsafeBytes { a in sealed.withUnsafeMutableBytes { ChaCha20Poly1305.seal(key: aeadKey, nonce: nonce, aad: a, inPlace: $0) } }
        #expect(hex(sealed) == "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116")
        #expect(hex(tag.array) == "1ae10b594f09e26a7e902ecbd0600691")
        func opens(_ ciphertext: [UInt8], _ aad: [UInt8], _ tag: KramaaFirmware.Bytes16) -> [UInt8]? {
            var data = ciphertext
            let ok = aad.withUnsafeBytes { a in data.withUnsafeMutableBytes { ChaCha20Poly1305.open(key: aeadKey, nonce: nonce, aad: a, inPlace: $0, tag: tag) } }
            return ok ? data : nil
        }
        #expect(opens(sealed, aad, tag) == sunscreen)
        var badTag = tag
        badTag[15] ^= 0x80
        var badCiphertext = sealed
        badCiphertext[0] ^= 1
        #expect(opens(sealed, aad, badTag) == nil && opens(badCiphertext, aad, tag) == nil && opens(sealed, aad + [0], tag) == nil)
    }

    /// RFC 5869 A.1–A.3 (SHA-256), salts of 13, 80 (longer than a block) and 0 bytes.
    @Test func hkdfMatchesRFC5869() throws {
        let longIKM = (0x00...0x4f).map { UInt8($0) }, longSalt = (0x60...0xaf).map { UInt8($0) }, longInfo = (0xb0...0xff).map { UInt8($0) }
        let cases: [([UInt8], [UInt8], [UInt8], Int, String, String)] = [
            ([UInt8](repeating: 0x0b, count: 22), (0x00...0x0c).map { UInt8($0) }, (0xf0...0xf9).map { UInt8($0) }, 42,
             "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
            (longIKM, longSalt, longInfo, 82, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"),
            ([UInt8](repeating: 0x0b, count: 22), [], [], 42, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
             "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
        ]
        for (ikm, salt, info, length, prk, okm) in cases {
            let extracted = salt.withUnsafeBytes { s in ikm.withUnsafeBytes { HKDFSHA256.extract(salt: s, ikm: $0) } }
            #expect(hex(extracted.array) == prk)
            var out = [UInt8](repeating: 0, count: length)
            info.withUnsafeBytes { i in out.withUnsafeMutableBytes { HKDFSHA256.expand(prk: extracted, info: i, into: $0) } }
            #expect(hex(out) == okm)
        }
    }

    /// RFC 9180 A.2.1: the key pairs from their ikm, the encapsulated key, and every encryption
    /// of the base-mode context.
    @Test func hpkeMatchesRFC9180AppendixA21() throws {
        let ikmE = try Hex.decode("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b")
        let ikmR = try Hex.decode("1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df")
        let skE = ikmE.withUnsafeBytes { HPKE.deriveSecret(ikm: $0) }, skR = ikmR.withUnsafeBytes { HPKE.deriveSecret(ikm: $0) }
        #expect(hex(skE.array) == "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600")
        #expect(hex(skR.array) == "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb")
        let pkR = X25519.publicKey(skR)
        #expect(hex(pkR.array) == "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a")
        let info = try Hex.decode("4f6465206f6e2061204772656369616e2055726e")
        let context = try info.withUnsafeBytes { try HPKE.setupBaseS(recipient: pkR, ephemeralSecret: skE, info: RawMessage($0)) }
        #expect(hex(context.encapsulatedKey.array) == "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a")
        let plaintext = Array("Beauty is truth, truth beauty".utf8)
        let encryptions: [(UInt64, String)] = [
            (0, "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28"),
            (1, "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c"),
            (2, "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b"),
            (4, "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16"),
            (255, "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c"),
            (256, "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b"),
        ]
        for (sequence, ciphertext) in encryptions {
            var data = plaintext
            let aad = Array("Count-\(sequence)".utf8)
            let tag = aad.withUnsafeBytes { a in data.withUnsafeMutableBytes { context.seal(sequence: sequence, aad: a, inPlace: $0) } }
            #expect(hex(data + tag.array) == ciphertext, "sequence number \(sequence)")
        }
    }
}
