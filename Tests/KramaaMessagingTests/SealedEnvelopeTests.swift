import KramaaMessaging
import KramaaPrimitives
import Testing

/// Sealed envelopes: sign, seal with HPKE to the recipient's agreement key, sign outside; nodes
/// verify without opening; only the recipient opens, and only as addressed.
@Suite struct SealedEnvelopeTests {
    static let chain: UInt64 = 1337
    static let suites: [(AgreementKeyType, MessageAEAD)] = AgreementKeyType.allCases.flatMap { kem in MessageAEAD.allCases.map { (kem, $0) } }

    struct Parties {
        let sender = SigningKey(generating: .p256)
        let recipientDevice = SigningKey(generating: .ed25519).publicKey.address
        let agreement: AgreementPrivateKey
        var senderAddress: Address { sender.publicKey.address }

        init(_ kem: AgreementKeyType) { agreement = AgreementPrivateKey(generating: kem) }

        func inner(sequence: UInt64 = 5, payload: [UInt8] = Array("open valve 3".utf8)) throws -> SignedEnvelope {
            try SignedEnvelope.sign(payload, contentType: "text/plain", to: .device(recipientDevice), from: senderAddress, key: sender,
                                    sequence: sequence, timestamp: 1_750_000_000_000, chainId: SealedEnvelopeTests.chain)
        }

        func sealed(_ aead: MessageAEAD = .chaCha20Poly1305) throws -> SealedEnvelope {
            try SealedEnvelope.seal(try inner(), to: agreement.publicKey, aead: aead, key: sender)
        }
    }

    @Test(arguments: Self.suites)
    func theRecipientOpensWhatWasSealedToItsKeyInEverySuite(kem: AgreementKeyType, aead: MessageAEAD) throws {
        let parties = Parties(kem)
        let inner = try parties.inner()
        let sealed = try SealedEnvelope.seal(inner, to: parties.agreement.publicKey, aead: aead, key: parties.sender)
        #expect(sealed.wireBytes.first == 0x45 && sealed.kem == kem && sealed.aead == aead)
        #expect(sealed.encapsulatedKey.count == kem.publicKeyLength)
        let parsed = try Envelope.parse(sealed.wireBytes)
        #expect(parsed == .sealed(sealed) && parsed.envelopeHash == Keccak256.hash(sealed.wireBytes))
        // A node checks the outer signature and the recipient key without any private key.
        try parsed.verify(chainId: Self.chain, senderKey: parties.sender.publicKey)
        #expect(sealed.isSealed(to: parties.agreement.publicKey) && !sealed.isSealed(to: AgreementPrivateKey(generating: kem).publicKey))
        // The plaintext appears nowhere in the wire bytes.
        #expect(!sealed.wireBytes.windows(ofCount: 12).contains(Array("open valve 3".utf8)))
        let opened = try sealed.open(with: parties.agreement, chainId: Self.chain, senderKey: parties.sender.publicKey)
        #expect(opened == inner)
        #expect(opened.payload == Array("open valve 3".utf8) && opened.recipient == .device(parties.recipientDevice))
    }

    @Test func aSealedEnvelopeCannotBeReaddressedOrOpenedByAnotherKey() throws {
        let parties = Parties(.x25519)
        let sealed = try parties.sealed()
        let stranger = AgreementPrivateKey(generating: .x25519)
        #expect(throws: EnvelopeError.notSealedToThisKey(envelope: sealed.recipientKeyHash, key: stranger.publicKey.keyHash)) {
            try sealed.open(with: stranger, chainId: Self.chain, senderKey: parties.sender.publicKey)
        }
        // Another sender re-wrapping the ciphertext as its own, to the same recipient: its outer
        // signature verifies, but the HPKE info names the original sender, so it does not open.
        let thief = SigningKey(generating: .secp256k1)
        var rewrapped = sealed
        rewrapped.origin.sender = thief.publicKey.address
        rewrapped.origin.senderKey = thief.publicKey.address
        rewrapped.signature = thief.signature(for: rewrapped.signedMessage)
        try rewrapped.verify(chainId: Self.chain, senderKey: thief.publicKey)
        #expect(throws: EnvelopeError.cannotOpen(.cannotOpen)) { try rewrapped.open(with: parties.agreement, chainId: Self.chain, senderKey: thief.publicKey) }
        // The sender itself re-addressing to another device: the info changes, it does not open.
        var readdressed = sealed
        readdressed.recipient = SigningKey(generating: .p256).publicKey.address
        readdressed.signature = parties.sender.signature(for: readdressed.signedMessage)
        #expect(throws: EnvelopeError.cannotOpen(.cannotOpen)) {
            try readdressed.open(with: parties.agreement, chainId: Self.chain, senderKey: parties.sender.publicKey)
        }
        // A changed header (sequence) is caught by the outer signature, and without it by the AEAD's aad.
        var resequenced = sealed
        resequenced.origin.sequence += 1
        #expect(throws: EnvelopeError.badSignature) { try resequenced.verify(chainId: Self.chain, senderKey: parties.sender.publicKey) }
        resequenced.signature = parties.sender.signature(for: resequenced.signedMessage)
        #expect(throws: EnvelopeError.cannotOpen(.cannotOpen)) {
            try resequenced.open(with: parties.agreement, chainId: Self.chain, senderKey: parties.sender.publicKey)
        }
    }

    @Test func theInnerEnvelopeMustSayWhatTheHeaderSays() throws {
        let parties = Parties(.p256)
        // An inner envelope with another sequence, sealed under a header claiming sequence 5.
        let other = try parties.inner(sequence: 9)
        var sealed = try SealedEnvelope.seal(other, to: parties.agreement.publicKey, aead: .aes128GCM, key: parties.sender)
        #expect(sealed.origin.sequence == 9)
        let box = try HPKEBox.seal((try parties.inner(sequence: 4)).wireBytes, to: parties.agreement.publicKey, aead: .aes128GCM,
                                   info: sealed.info, aad: sealed.aad)
        (sealed.encapsulatedKey, sealed.ciphertext) = box
        sealed.signature = parties.sender.signature(for: sealed.signedMessage)
        #expect(throws: EnvelopeError.innerMismatch("sender, key, sequence, timestamp or chain differ")) {
            try sealed.open(with: parties.agreement, chainId: Self.chain, senderKey: parties.sender.publicKey)
        }
    }

    @Test func onlyDeviceEnvelopesSignedByTheSealingKeyAreSealed() throws {
        let parties = Parties(.x25519)
        let broadcast = try SignedEnvelope.sign([1], contentType: "", to: .topic("a/b"), from: parties.senderAddress, key: parties.sender,
                                                sequence: 1, timestamp: 1, chainId: Self.chain)
        #expect(throws: EnvelopeError.self) { try SealedEnvelope.seal(broadcast, to: parties.agreement.publicKey, aead: .aes128GCM, key: parties.sender) }
        let other = SigningKey(generating: .p256)
        #expect(throws: EnvelopeError.keyNotTheSenders(envelope: parties.senderAddress, registered: other.publicKey.address)) {
            try SealedEnvelope.seal(try parties.inner(), to: parties.agreement.publicKey, aead: .aes128GCM, key: other)
        }
    }

    @Test func unsupportedSuitesAndShortFieldsAreRefusedWhenParsed() throws {
        let sealed = try Parties(.x25519).sealed()
        // The same fields with KDF 2 (HKDF-SHA384).
        var w = RLPWriter()
        w.appendList {
            $0.append(uint: sealed.origin.chainId); $0.append(address: sealed.origin.sender); $0.append(address: sealed.origin.senderKey)
            $0.append(uint: sealed.origin.sequence); $0.append(uint: sealed.origin.timestamp); $0.append(address: sealed.recipient)
            $0.append(uint: UInt64(0x20)); $0.append(uint: UInt64(2)); $0.append(uint: UInt64(3)); $0.append(bytes32: sealed.recipientKeyHash)
            $0.append(bytes: sealed.encapsulatedKey); $0.append(bytes: sealed.ciphertext); $0.append(bytes: sealed.signature)
        }
        #expect(throws: EnvelopeError.unsupportedSuite(kem: 0x20, kdf: 2, aead: 3)) { try Envelope.parse([0x45] + w.bytes) }
        #expect(throws: EnvelopeError.self) { try Envelope.parse(Array(sealed.wireBytes.dropLast(5))) }
    }
}

extension Array where Element == UInt8 {
    /// Every run of `count` consecutive bytes.
    func windows(ofCount count: Int) -> [[UInt8]] {
        count > self.count ? [] : (0...(self.count - count)).map { Array(self[$0..<$0 + count]) }
    }
}
