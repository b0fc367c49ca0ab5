import Crypto
import Foundation
import KramaaFirmware
import KramaaMessaging
import KramaaPrimitives
import Testing

/// Sealed envelopes the firmware builds, against the node's KramaaMessaging: the node parses,
/// verifies and opens them with the recipient's agreement key; they are byte for byte the
/// node's encoding of the same fields, sealed exactly as an independent RFC 9180 seal (on
/// swift-crypto's X25519, HKDF and ChaChaPoly) seals with the same ephemeral key; any altered
/// byte is refused.
@Suite struct FirmwareSealedEnvelopeTests {
    static let keyTypes: [UInt8] = [2, 3]

    /// RFC 9180 base-mode single-shot seal in DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
    /// ChaCha20-Poly1305, written from the RFC on swift-crypto's primitives (the node's HPKE
    /// takes no chosen ephemeral key).
    static func referenceSeal(to pkR: [UInt8], ephemeral skE: [UInt8], info: [UInt8], aad: [UInt8],
                              plaintext: [UInt8]) throws -> (enc: [UInt8], ciphertext: [UInt8]) {
        let kemSuite = Array("KEM".utf8) + [0x00, 0x20], suite = Array("HPKE".utf8) + [0x00, 0x20, 0x00, 0x01, 0x00, 0x03]
        func extract(_ salt: [UInt8], _ id: [UInt8], _ label: String, _ ikm: [UInt8]) -> [UInt8] {
            let key = SymmetricKey(data: Array("HPKE-v1".utf8) + id + Array(label.utf8) + ikm)
            return HKDF<Crypto.SHA256>.extract(inputKeyMaterial: key, salt: salt).withUnsafeBytes { Array($0) }
        }
        func expand(_ prk: [UInt8], _ id: [UInt8], _ label: String, _ info: [UInt8], _ length: Int) -> [UInt8] {
            let labeled = [UInt8(length >> 8), UInt8(length & 0xff)] + Array("HPKE-v1".utf8) + id + Array(label.utf8) + info
            return HKDF<Crypto.SHA256>.expand(pseudoRandomKey: SymmetricKey(data: prk), info: labeled, outputByteCount: length).withUnsafeBytes { Array($0) }
        }
        let ephemeral = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: skE)
        let enc = Array(ephemeral.publicKey.rawRepresentation)
        let dh = try ephemeral.sharedSecretFromKeyAgreement(with: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: pkR)).withUnsafeBytes { Array($0) }
        let shared = expand(extract([], kemSuite, "eae_prk", dh), kemSuite, "shared_secret", enc + pkR, 32)
        let context = [0] + extract([], suite, "psk_id_hash", []) + extract([], suite, "info_hash", info)
        let secret = extract(shared, suite, "secret", [])
        let box = try ChaChaPoly.seal(plaintext, using: SymmetricKey(data: expand(secret, suite, "key", context, 32)),
                                      nonce: try ChaChaPoly.Nonce(data: expand(secret, suite, "base_nonce", context, 12)), authenticating: aad)
        return (enc, Array(box.ciphertext) + Array(box.tag))
    }

    struct Sealed {
        var wire: [UInt8]
        var ephemeral: [UInt8]
    }

    static func seal(_ firmware: KramaaFirmware.DeviceKey, chainId: UInt64, sequence: UInt64, timestamp: UInt64, recipient: [UInt8],
                     recipientKey: [UInt8], contentType: [UInt8], payload: [UInt8], entropy: inout ScriptedEntropy,
                     capacity: Int = 4096) throws -> Sealed {
        let ephemeral = try HPKE.ephemeralSecret(&entropy)
        let wire = try withFrameBuffer(capacity: capacity) { out in
            try payload.withUnsafeBytes { p in
                try contentType.withUnsafeBytes { c in
                    try SealedEnvelopeFrame(chainId: chainId, sequence: sequence, timestamp: timestamp, recipient: Address20(recipient),
                                            recipientKey: KramaaFirmware.Bytes32(recipientKey), contentType: c, payload: p)
                        .build(signedBy: firmware, ephemeralSecret: ephemeral, into: &out)
                }
            }
            return out.array
        }
        return Sealed(wire: wire, ephemeral: ephemeral.array)
    }

    @Test(arguments: keyTypes) func sealedEnvelopesOpenWithTheNodeAndAreTheReferenceSeal(type: UInt8) throws {
        var rng = SplitMix64(seed: 90 + UInt64(type))
        for round in 0..<12 {
            let (firmware, node) = try keyPair(type, randomSecret(type, &rng))
            let agreement = try AgreementPrivateKey(type: .x25519, secret: rng.bytes(32))
            let recipient = rng.bytes(20), recipientAddress = try Address(recipient)
            let chainId = UInt64.random(in: 1...100_000, using: &rng), sequence = UInt64.random(in: 0...UInt64.max, using: &rng)
            let timestamp = UInt64.random(in: 0...UInt64(1) << 45, using: &rng)
            let payload = rng.bytes([0, 1, 60, 700][round % 4]), contentType = Array((round % 2 == 0 ? "application/json" : "").utf8)
            var entropy = ScriptedEntropy(bytes: rng.bytes(64))
            let sealed = try Self.seal(firmware, chainId: chainId, sequence: sequence, timestamp: timestamp, recipient: recipient,
                                       recipientKey: agreement.publicKey.bytes, contentType: contentType, payload: payload, entropy: &entropy)

            // The node parses it, checks the outer signature, and opens it with the recipient's key.
            let parsed = try SealedEnvelope(parsing: sealed.wire)
            #expect(parsed.kem == .x25519 && parsed.aead == .chaCha20Poly1305 && parsed.isSealed(to: agreement.publicKey))
            #expect(parsed.wireBytes == sealed.wire, "the node encodes the same fields to the same bytes")
            let inner = try parsed.open(with: agreement, chainId: chainId, senderKey: node.publicKey)
            let origin = EnvelopeOrigin(chainId: chainId, sender: node.publicKey.address, senderKey: node.publicKey.address,
                                        sequence: sequence, timestamp: timestamp)
            #expect(inner.payload == payload && inner.contentType == String(decoding: contentType, as: UTF8.self))
            #expect(inner.origin == origin && parsed.origin == origin && inner.recipient == .device(recipientAddress))

            // The same seal as RFC 9180 written independently, for the same ephemeral key, over
            // the node's own info and aad; Ed25519 signatures are the node's bytes too.
            let reference = try Self.referenceSeal(to: agreement.publicKey.bytes, ephemeral: sealed.ephemeral, info: parsed.info,
                                                   aad: parsed.aad, plaintext: inner.wireBytes)
            #expect(parsed.encapsulatedKey == reference.enc && parsed.ciphertext == reference.ciphertext)
            if type == 3 {
                let expectedInner = try SignedEnvelope.sign(payload, contentType: String(decoding: contentType, as: UTF8.self),
                                                            to: .device(recipientAddress), from: node.publicKey.address, key: node,
                                                            sequence: sequence, timestamp: timestamp, chainId: chainId)
                #expect(inner.wireBytes == expectedInner.wireBytes)
                #expect(parsed.signature == node.signature(for: parsed.signedMessage))
            }

            // Any byte altered: refused (by the parser, the outer signature or the AEAD).
            for _ in 0..<24 {
                var tampered = sealed.wire
                let i = Int.random(in: 0..<tampered.count, using: &rng)
                tampered[i] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(throws: EnvelopeError.self, "byte \(i) altered") {
                    _ = try SealedEnvelope(parsing: tampered).open(with: agreement, chainId: chainId, senderKey: node.publicKey)
                }
            }
            // A ciphertext altered and signed again by the sender: the AEAD refuses it.
            var resigned = parsed
            resigned.ciphertext[Int.random(in: 0..<resigned.ciphertext.count, using: &rng)] ^= 1
            resigned.signature = node.signature(for: resigned.signedMessage)
            #expect(throws: EnvelopeError.self) { _ = try resigned.open(with: agreement, chainId: chainId, senderKey: node.publicKey) }
            // Another recipient key does not open it.
            let other = try AgreementPrivateKey(type: .x25519, secret: rng.bytes(32))
            #expect(throws: EnvelopeError.self) { _ = try parsed.open(with: other, chainId: chainId, senderKey: node.publicKey) }
        }
    }

    @Test func aFreshEphemeralKeyEachTimeAndRefusals() throws {
        var rng = SplitMix64(seed: 99)
        let (firmware, _) = try keyPair(3, randomSecret(3, &rng))
        let agreement = try AgreementPrivateKey(type: .x25519, secret: rng.bytes(32))
        var entropy = ScriptedEntropy(bytes: rng.bytes(64))
        let recipient = rng.bytes(20)
        let first = try Self.seal(firmware, chainId: 1, sequence: 1, timestamp: 1, recipient: recipient, recipientKey: agreement.publicKey.bytes,
                                  contentType: [], payload: [1, 2, 3], entropy: &entropy)
        let second = try Self.seal(firmware, chainId: 1, sequence: 1, timestamp: 1, recipient: recipient, recipientKey: agreement.publicKey.bytes,
                                   contentType: [], payload: [1, 2, 3], entropy: &entropy)
        #expect(first.ephemeral != second.ephemeral && first.wire != second.wire)
        // A recipient key of small order (the all-zero shared secret) is refused.
        #expect(throws: FrameError.invalidField) {
            _ = try Self.seal(firmware, chainId: 1, sequence: 1, timestamp: 1, recipient: recipient, recipientKey: [UInt8](repeating: 0, count: 32),
                              contentType: [], payload: [], entropy: &entropy)
        }
        // A buffer too small, at every size below the envelope's.
        for capacity in stride(from: 0, to: first.wire.count, by: 7) {
            #expect(throws: FrameError.bufferTooSmall) {
                _ = try Self.seal(firmware, chainId: 1, sequence: 1, timestamp: 1, recipient: recipient, recipientKey: agreement.publicKey.bytes,
                                  contentType: [], payload: [1, 2, 3], entropy: &entropy, capacity: capacity)
            }
        }
        // A failing or stuck entropy source gives no ephemeral key.
        var failing = ScriptedEntropy(bytes: [1], failing: true), stuck = ScriptedEntropy(bytes: [7])
        #expect(throws: FirmwareCryptoError.entropyFailed) { _ = try HPKE.ephemeralSecret(&failing) }
        #expect(throws: FirmwareCryptoError.entropyFailed) { _ = try HPKE.ephemeralSecret(&stuck) }
    }
}
