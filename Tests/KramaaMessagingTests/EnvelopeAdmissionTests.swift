import KramaaMessaging
import KramaaPrimitives
import Testing

/// A node's checks before relaying, in order: forgeries, unknown senders, unusable recipient keys
/// and replays are refused, and only admitted envelopes advance the replay guard.
@Suite struct EnvelopeAdmissionTests {
    static let chain: UInt64 = 1337, now: UInt64 = 1_750_000_000_000

    let sender = SigningKey(generating: .ed25519)
    let recipient = SigningKey(generating: .p256).publicKey.address
    let agreement = AgreementPrivateKey(generating: .x25519)

    func sealed(sequence: UInt64, to key: AgreementPublicKey? = nil) throws -> [UInt8] {
        let inner = try SignedEnvelope.sign([1, 2, 3], contentType: "", to: .device(recipient), from: sender.publicKey.address, key: sender,
                                            sequence: sequence, timestamp: Self.now, chainId: Self.chain)
        return try SealedEnvelope.seal(inner, to: key ?? agreement.publicKey, aead: .aes128GCM, key: sender).wireBytes
    }

    func admit(_ bytes: [UInt8], _ replay: inout ReplayGuard, senderKnown: Bool = true,
               recipientKey: AgreementPublicKey?? = .none) throws(EnvelopeRefusal) -> Envelope {
        let registered = sender.publicKey, usable = recipientKey ?? agreement.publicKey
        return try EnvelopeAdmission.admit(bytes, chainId: Self.chain, now: Self.now, replay: &replay,
                                           senderKey: { $0.sender == registered.address && senderKnown ? registered : nil },
                                           recipientKey: { $0 == recipient ? usable : nil })
    }

    @Test func aValidSealedEnvelopeIsAdmittedOnceAndItsReplayRefused() throws {
        var replay = ReplayGuard()
        let bytes = try sealed(sequence: 1)
        let admitted = try admit(bytes, &replay)
        #expect(admitted.origin.sequence == 1 && replay.highestSequence(of: sender.publicKey.address) == 1)
        #expect(throws: EnvelopeRefusal.replay(.replayed(sender: sender.publicKey.address, sequence: 1, highest: 1))) { try admit(bytes, &replay) }
    }

    @Test func refusalsLeaveTheReplayGuardUnchanged() throws {
        var replay = ReplayGuard()
        var forged = try sealed(sequence: 5)
        forged[forged.count - 1] ^= 1
        #expect(throws: EnvelopeRefusal.envelope(.badSignature)) { try admit(forged, &replay) }
        #expect(throws: EnvelopeRefusal.unknownSender(sender: sender.publicKey.address, key: sender.publicKey.address)) {
            try admit(try sealed(sequence: 5), &replay, senderKnown: false)
        }
        let old = AgreementPrivateKey(generating: .x25519).publicKey
        #expect(throws: EnvelopeRefusal.recipientKeyNotUsable(recipient: recipient, keyHash: old.keyHash)) {
            try admit(try sealed(sequence: 5, to: old), &replay)
        }
        #expect(throws: EnvelopeRefusal.recipientKeyNotUsable(recipient: recipient, keyHash: agreement.publicKey.keyHash)) {
            try admit(try sealed(sequence: 5), &replay, recipientKey: .some(nil))
        }
        #expect(throws: EnvelopeRefusal.envelope(.unknownFormat(0))) { try admit([0, 1], &replay) }
        #expect(replay.count == 0)
        // The same envelope, now from a known sender to a usable key, is admitted: nothing was remembered.
        _ = try admit(try sealed(sequence: 5), &replay)
    }
}
