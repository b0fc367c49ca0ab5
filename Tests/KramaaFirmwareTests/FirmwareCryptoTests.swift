import Crypto
import KramaaFirmware
import KramaaPrimitives
import Testing

/// The firmware's hashes and signatures against the node's (swift-crypto, KramaaPrimitives)
/// over random inputs, and against the RFCs' own examples.
@Suite struct FirmwareCryptoTests {
    @Test func hashesMatchTheNodesOverRandomInputs() {
        var rng = SplitMix64(seed: 1)
        for length in [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 135, 136, 137, 200, 1000] + (0..<40).map({ _ in Int.random(in: 0..<600, using: &rng) }) {
            let input = rng.bytes(length)
            input.withUnsafeBytes { raw in
                #expect(KramaaFirmware.SHA256.hash(raw).array == Array(Crypto.SHA256.hash(data: input)), "SHA-256 of \(length) bytes")
                #expect(KramaaFirmware.Keccak256.hash(raw).array == KramaaPrimitives.Keccak256.hash(input).bytes, "Keccak-256 of \(length) bytes")
                var sha512 = KramaaFirmware.SHA512()
                sha512.update(raw)
                #expect(sha512.finalize().array == Array(Crypto.SHA512.hash(data: input)), "SHA-512 of \(length) bytes")
            }
        }
    }

    @Test func hmacMatchesSwiftCrypto() {
        var rng = SplitMix64(seed: 2)
        for _ in 0..<20 {
            let key = rng.bytes(32), message = rng.bytes(Int.random(in: 0..<300, using: &rng))
            var mac = HMACSHA256(key: KramaaFirmware.Bytes32(key))
            message.withUnsafeBytes { mac.update($0) }
            let expected = Array(HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            #expect(mac.finalize().array == expected)
        }
    }

    /// RFC 8032 §7.1, TEST 1–3 (and the node's signer) for the same seeds.
    @Test func ed25519SignsAsRFC8032AndTheNode() throws {
        let cases: [(String, String, String, String)] = [
            ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
            ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
             "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        ]
        for (seed, publicKey, message, signature) in cases {
            let key = KramaaFirmware.Ed25519.PrivateKey(seed: KramaaFirmware.Bytes32(try Hex.decode(seed)))
            #expect(hex(key.publicKey.array) == publicKey)
            let msg = try Hex.decode(message)
            #expect(hex(msg.withUnsafeBytes { key.sign(message: $0) }.array) == signature)
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<25 {
            let seed = rng.bytes(32), message = rng.bytes(Int.random(in: 0..<200, using: &rng))
            let node = try KramaaPrimitives.Ed25519.PrivateKey(rawRepresentation: seed)
            let firmware = KramaaFirmware.Ed25519.PrivateKey(seed: KramaaFirmware.Bytes32(seed))
            #expect(firmware.publicKey.array == node.publicKey.rawRepresentation)
            let signature = message.withUnsafeBytes { firmware.sign(message: $0) }
            #expect(signature.array == node.sign(message: message), "Ed25519 is deterministic: the same bytes as the node's")
            #expect(node.publicKey.isValidSignature(signature.array, message: message))
        }
    }

    /// RFC 6979 §A.2.5 (P-256, SHA-256, "sample" and "test"): the same nonce, so the same r, and
    /// s or n − s (the firmware normalises to low s).
    @Test func p256NoncesAreRFC6979s() throws {
        let key = try KramaaFirmware.P256.PrivateKey(scalar: KramaaFirmware.Bytes32(try Hex.decode("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")))
        #expect(hex(key.publicKey.x.array) == "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6")
        #expect(hex(key.publicKey.y.array) == "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")
        let n = UInt256(try KramaaPrimitives.Bytes32(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"))
        for (message, r, s) in [("sample", "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716", "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"),
                                ("test", "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367", "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083")] {
            let digest = KramaaFirmware.Bytes32(Array(Crypto.SHA256.hash(data: Array(message.utf8))))
            let signature = key.sign(digest: digest).array
            #expect(hex(Array(signature[0..<32])) == r, "r for \(message)")
            let rfcS = UInt256(try KramaaPrimitives.Bytes32(hex: s))
            let low = rfcS > n >> 1 ? n &- rfcS : rfcS
            #expect(Array(signature[32...]) == low.bytes32.bytes, "s for \(message), normalised to n − s when high")
        }
    }

    @Test func p256KeysAndSignaturesAreTheNodes() throws {
        var rng = SplitMix64(seed: 4)
        for _ in 0..<25 {
            let secret = randomSecret(2, &rng)
            let node = try Secp256r1.PrivateKey(rawRepresentation: secret)
            let firmware = try KramaaFirmware.P256.PrivateKey(scalar: KramaaFirmware.Bytes32(secret))
            #expect(firmware.publicKey.compressed.array == node.publicKey.compressedRepresentation)
            let digest = rng.bytes(32)
            let signature = firmware.sign(digest: KramaaFirmware.Bytes32(digest)).array
            #expect(KramaaPrimitives.PublicKey.p256(node.publicKey).isValidSignature(signature, digest: try KramaaPrimitives.Bytes32(digest)),
                    "the node's digest verifier (low s required) accepts the firmware's signature")
            #expect(signature == firmware.sign(digest: KramaaFirmware.Bytes32(digest)).array, "RFC 6979: signing again gives the same bytes")
            let nodeSignature = node.sign(digest: try KramaaPrimitives.Bytes32(digest)).rawRepresentation
            #expect(KramaaFirmware.P256.verify(signature: KramaaFirmware.Bytes64(nodeSignature), digest: KramaaFirmware.Bytes32(digest),
                                               publicKey: firmware.publicKey), "the firmware verifies the node's signatures")
            let uncompressed = Array(try Crypto.P256.Signing.PublicKey(compressedRepresentation: node.publicKey.compressedRepresentation).x963Representation)
            let parsed = try uncompressed.withUnsafeBytes { try KramaaFirmware.P256.PublicKey(sec1: $0) }
            let fromCompressed = try node.publicKey.compressedRepresentation.withUnsafeBytes { try KramaaFirmware.P256.PublicKey(sec1: $0) }
            #expect(parsed.y.array == fromCompressed.y.array, "decompression finds the same y")
        }
    }

    @Test func p256RefusesScalarsOutsideTheGroup() throws {
        #expect(throws: FirmwareCryptoError.invalidPrivateKey) { try KramaaFirmware.P256.PrivateKey(scalar: .init(repeating: 0)) }
        let n = try Hex.decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        #expect(throws: FirmwareCryptoError.invalidPrivateKey) { try KramaaFirmware.P256.PrivateKey(scalar: KramaaFirmware.Bytes32(n)) }
        #expect(throws: FirmwareCryptoError.invalidPublicKey) {
            try [UInt8](repeating: 0x02, count: 32).withUnsafeBytes { try KramaaFirmware.P256.PublicKey(sec1: $0) }
        }
    }

    @Test func keyGenerationUsesTheEntropyAndRefusesAStuckSource() throws {
        var rng = SplitMix64(seed: 5)
        var entropy = ScriptedEntropy(bytes: rng.bytes(64))
        let first = try KramaaFirmware.DeviceKey.generate(typeCode: 2, entropy: &entropy)
        let second = try KramaaFirmware.DeviceKey.generate(typeCode: 2, entropy: &entropy)
        #expect(first.secret.array != second.secret.array, "fresh entropy, a new key")
        let ed = try KramaaFirmware.DeviceKey.generate(typeCode: 3, entropy: &entropy)
        let node = try SigningKey(type: .ed25519, rawRepresentation: ed.secret.array)
        #expect(ed.publicKey.withBytes { Array($0) } == node.publicKey.bytes)
        var stuck = ScriptedEntropy(bytes: [7])
        #expect(throws: FirmwareCryptoError.entropyFailed) { try KramaaFirmware.DeviceKey.generate(typeCode: 3, entropy: &stuck) }
        var failing = ScriptedEntropy(bytes: [1, 2], failing: true)
        #expect(throws: FirmwareCryptoError.entropyFailed) { try KramaaFirmware.DeviceKey.generate(typeCode: 2, entropy: &failing) }
    }

    @Test func deviceAddressesAreTheNodes() throws {
        var rng = SplitMix64(seed: 6)
        for type: UInt8 in [2, 3] {
            for _ in 0..<10 {
                let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
                #expect(firmware.address.array == node.publicKey.address.bytes)
                #expect(firmware.publicKey.withBytes { Array($0) } == node.publicKey.bytes)
            }
        }
    }
}
