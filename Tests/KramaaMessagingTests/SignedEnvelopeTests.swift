import KramaaMessaging
import KramaaPrimitives
import Testing

/// Signed envelopes: the wire form, verification, and parse errors that name the field.
@Suite struct SignedEnvelopeTests {
    static let chain: UInt64 = 1337

    static func envelope(_ key: SigningKey, to recipient: EnvelopeRecipient = .topic("plant/7/temperature"), sequence: UInt64 = 1,
                         payload: [UInt8] = Array("{\"c\":4.5}".utf8)) throws -> SignedEnvelope {
        try SignedEnvelope.sign(payload, contentType: "application/json", to: recipient, from: key.publicKey.address, key: key,
                                sequence: sequence, timestamp: 1_750_000_000_123, chainId: chain)
    }

    @Test(arguments: KeyType.allCases)
    func aSignedEnvelopeRoundTripsAndVerifiesWithItsSendersKey(type: KeyType) throws {
        let key = SigningKey(generating: type)
        for recipient in [EnvelopeRecipient.topic("plant/7/temperature"), .device(SigningKey(generating: .p256).publicKey.address)] {
            let signed = try Self.envelope(key, to: recipient)
            #expect(signed.wireBytes.first == 0x53)
            let parsed = try Envelope.parse(signed.wireBytes)
            #expect(parsed == .signed(signed))
            #expect(parsed.origin == EnvelopeOrigin(chainId: Self.chain, sender: key.publicKey.address, senderKey: key.publicKey.address,
                                                    sequence: 1, timestamp: 1_750_000_000_123))
            #expect(parsed.envelopeHash == Keccak256.hash(signed.wireBytes) && parsed.envelopeHash == signed.envelopeHash)
            try parsed.verify(chainId: Self.chain, senderKey: key.publicKey)
        }
    }

    @Test func forgeriesAndOtherChainsAreRefused() throws {
        let key = SigningKey(generating: .ed25519), other = SigningKey(generating: .ed25519)
        let signed = try Self.envelope(key)
        #expect(throws: EnvelopeError.wrongChain(expected: 1, envelope: Self.chain)) { try signed.verify(chainId: 1, senderKey: key.publicKey) }
        #expect(throws: EnvelopeError.keyNotTheSenders(envelope: key.publicKey.address, registered: other.publicKey.address)) {
            try signed.verify(chainId: Self.chain, senderKey: other.publicKey)
        }
        // Each field is signed: change any and the signature fails.
        var changes: [SignedEnvelope] = []
        for edit in [{ (e: inout SignedEnvelope) in e.payload.append(0) }, { $0.contentType = "text/plain" }, { $0.recipient = .topic("plant/8") },
                     { $0.origin.sequence += 1 }, { $0.origin.timestamp += 1 }, { $0.origin.sender = other.publicKey.address }] {
            var changed = signed
            edit(&changed)
            changes.append(changed)
        }
        for changed in changes {
            #expect(throws: EnvelopeError.badSignature) { try Envelope.parse(changed.wireBytes).verify(chainId: Self.chain, senderKey: key.publicKey) }
        }
        // A signature from another key under the sender's key address.
        var forged = try Self.envelope(other)
        forged.origin.sender = key.publicKey.address
        forged.origin.senderKey = key.publicKey.address
        #expect(throws: EnvelopeError.badSignature) { try forged.verify(chainId: Self.chain, senderKey: key.publicKey) }
    }

    @Test func badInputIsRefusedWithTheFieldNamed() throws {
        let key = SigningKey(generating: .secp256k1)
        let wire = try Self.envelope(key).wireBytes
        #expect(throws: EnvelopeError.unknownFormat(0x54)) { try Envelope.parse([0x54] + wire.dropFirst()) }
        #expect(throws: EnvelopeError.unknownFormat(nil)) { try Envelope.parse([]) }
        #expect(throws: EnvelopeError.self) { try Envelope.parse(Array(wire.dropLast())) }
        #expect(throws: EnvelopeError.tooLarge(size: Envelope.maximumSize + 1, maximum: Envelope.maximumSize)) {
            try Envelope.parse([0x53] + [UInt8](repeating: 0, count: Envelope.maximumSize))
        }
        // A list with a field too many, or a signature of the wrong length.
        func list(_ body: (inout RLPWriter) -> Void) -> [UInt8] {
            var w = RLPWriter()
            w.appendList(body)
            return [0x53] + w.bytes
        }
        func fields(_ w: inout RLPWriter, kind: UInt64 = 1, recipient: [UInt8] = Array("a/b".utf8), signature: [UInt8] = [UInt8](repeating: 1, count: 64)) {
            w.append(uint: UInt64(1)); w.append(address: key.publicKey.address); w.append(address: key.publicKey.address)
            w.append(uint: UInt64(1)); w.append(uint: UInt64(2)); w.append(uint: kind); w.append(bytes: recipient)
            w.append(bytes: Array("t".utf8)); w.append(bytes: [1, 2]); w.append(bytes: signature)
        }
        _ = try SignedEnvelope(parsing: list { fields(&$0) })
        #expect(throws: EnvelopeError.self) { try SignedEnvelope(parsing: list { fields(&$0); $0.append(bytes: [1]) }) }
        #expect(throws: EnvelopeError.malformed("field signature: RLP: string at byte 56 is 63 bytes, expected 64")) {
            try SignedEnvelope(parsing: list { fields(&$0, signature: [UInt8](repeating: 1, count: 63)) })
        }
        #expect(throws: EnvelopeError.invalidField("recipientKind", "2 is neither 0 (device) nor 1 (topic)")) {
            try SignedEnvelope(parsing: list { fields(&$0, kind: 2) })
        }
        #expect(throws: EnvelopeError.invalidField("recipient", "a device address is 20 bytes, got 3")) { try SignedEnvelope(parsing: list { fields(&$0, kind: 0) }) }
        #expect(throws: EnvelopeError.invalidField("recipient", "a topic name has no wildcards (+, #) and no NUL")) {
            try SignedEnvelope(parsing: list { fields(&$0, recipient: Array("a/+".utf8)) })
        }
        #expect(throws: EnvelopeError.invalidField("recipient", "the topic is not UTF-8")) { try SignedEnvelope(parsing: list { fields(&$0, recipient: [0xff, 0xfe]) }) }
        #expect(throws: EnvelopeError.invalidField("recipient", "a topic is 1 to 65535 bytes, got 0")) { try Self.envelope(key, to: .topic("")) }
        #expect(throws: EnvelopeError.self) {
            try SignedEnvelope.sign([], contentType: String(repeating: "x", count: 256), to: .topic("a"), from: .zero, key: key, sequence: 1, timestamp: 1, chainId: 1)
        }
    }
}
