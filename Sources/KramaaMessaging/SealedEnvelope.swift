import KramaaPrimitives

/// A signed envelope sealed with HPKE to its recipient device's key-agreement key, signed again
/// outside so nodes can check it without reading it (docs/MESSAGING.md, "Sealed envelope").
///
/// Wire: `0x45 ('E') ‖ rlp([chainId, sender, senderKey, sequence, timestamp, recipient, kemId,
/// kdfId, aeadId, recipientKeyHash, enc, ciphertext, signature])`.
///
/// - The **header** is the first ten fields; `aad` = `rlp([header])`.
/// - `info` = `SigningDomain.sealInfo.message(chainId, sender ‖ recipient)`, so a sealed payload
///   opens only as from this sender to this recipient on this chain: re-addressed, it fails.
/// - The plaintext is the wire form of a ``SignedEnvelope`` with the same chain, sender, sender
///   key, sequence and timestamp, addressed to `.device(recipient)`: the inner signature proves
///   authorship to the recipient (and to anyone the recipient shows it to).
/// - The outer signature, by the same key, is over
///   `SigningDomain.sealedEnvelope.message(chainId, rlp([header, enc, ciphertext]))` (twelve
///   fields): a node checks it and the sequence, and drops forgeries and replays without the key
///   to open anything.
public struct SealedEnvelope: Sendable, Equatable {
    public static let format: UInt8 = 0x45

    public var origin: EnvelopeOrigin
    /// The recipient device.
    public var recipient: Address
    public var kem: AgreementKeyType
    public var aead: MessageAEAD
    /// keccak256 of the recipient's agreement public key (``AgreementPublicKey/keyHash``).
    public var recipientKeyHash: Bytes32
    public var encapsulatedKey: [UInt8]
    public var ciphertext: [UInt8]
    public var signature: [UInt8]

    /// Seals `inner` (signed by `key`, addressed to a device) to that device's agreement key
    /// `recipientKey`, and signs the result with `key` again.
    public static func seal(_ inner: SignedEnvelope, to recipientKey: AgreementPublicKey, aead: MessageAEAD,
                            key: SigningKey) throws(EnvelopeError) -> SealedEnvelope {
        guard case .device(let recipient) = inner.recipient else {
            throw .invalidField("recipient", "only an envelope to a device can be sealed (a topic has no single key)")
        }
        guard key.publicKey.address == inner.origin.senderKey else {
            throw .keyNotTheSenders(envelope: inner.origin.senderKey, registered: key.publicKey.address)
        }
        var sealed = SealedEnvelope(origin: inner.origin, recipient: recipient, kem: recipientKey.type, aead: aead,
                                    recipientKeyHash: recipientKey.keyHash, encapsulatedKey: [], ciphertext: [], signature: [])
        do {
            (sealed.encapsulatedKey, sealed.ciphertext) = try HPKEBox.seal(inner.wireBytes, to: recipientKey, aead: aead, info: sealed.info,
                                                                          aad: sealed.aad)
        } catch {
            throw .cannotSeal(error)
        }
        sealed.signature = key.signature(for: sealed.signedMessage)
        guard sealed.wireBytes.count <= Envelope.maximumSize else { throw .tooLarge(size: sealed.wireBytes.count, maximum: Envelope.maximumSize) }
        return sealed
    }

    private func writeHeader(_ w: inout RLPWriter) {
        origin.write(&w)
        w.append(address: recipient)
        w.append(uint: UInt64(kem.rawValue))
        w.append(uint: UInt64(HPKEBox.kdfId))
        w.append(uint: UInt64(aead.rawValue))
        w.append(bytes32: recipientKeyHash)
    }

    private func list(_ body: (inout RLPWriter) -> Void) -> [UInt8] {
        var w = RLPWriter(reservingCapacity: ciphertext.count + 300)
        w.appendList(body)
        return w.bytes
    }

    /// HPKE `info`: binds chain, sender and recipient.
    public var info: [UInt8] { SigningDomain.sealInfo.message(chainId: origin.chainId, origin.sender.bytes + recipient.bytes) }

    /// HPKE `aad`: the header.
    public var aad: [UInt8] { list { writeHeader(&$0) } }

    /// What the sender's key signs outside.
    public var signedMessage: [UInt8] {
        SigningDomain.sealedEnvelope.message(chainId: origin.chainId, list {
            writeHeader(&$0)
            $0.append(bytes: encapsulatedKey)
            $0.append(bytes: ciphertext)
        })
    }

    public var wireBytes: [UInt8] {
        [Self.format] + list {
            writeHeader(&$0)
            $0.append(bytes: encapsulatedKey)
            $0.append(bytes: ciphertext)
            $0.append(bytes: signature)
        }
    }

    /// keccak256 of the wire bytes.
    public var envelopeHash: Bytes32 { Keccak256.hash(wireBytes) }

    /// Parses the wire form; checks the form and the suite, not the signature.
    public init(parsing bytes: [UInt8]) throws(EnvelopeError) {
        var r = try Envelope.list(bytes, format: Self.format)
        origin = try EnvelopeOrigin(reading: &r)
        recipient = try r.address("recipient")
        let (kemId, kdfId, aeadId) = (try r.uint64("kemId"), try r.uint64("kdfId"),
                                      try r.uint64("aeadId"))
        guard let kem = try? AgreementKeyType(kemId: kemId), kdfId == UInt64(HPKEBox.kdfId),
              aeadId <= UInt16.max, let aead = MessageAEAD(rawValue: UInt16(aeadId)) else {
            throw .unsupportedSuite(kem: kemId, kdf: kdfId, aead: aeadId)
        }
        (self.kem, self.aead) = (kem, aead)
        recipientKeyHash = try r.bytes32("recipientKeyHash")
        encapsulatedKey = Array(try r.bytes("enc", length: kem.publicKeyLength))
        ciphertext = Array(try r.bytes("ciphertext"))
        guard ciphertext.count >= 16 else { throw .invalidField("ciphertext", "shorter than the 16-byte AEAD tag") }
        signature = Array(try r.bytes("signature", length: 64))
        try Envelope.finish(r)
    }

    init(origin: EnvelopeOrigin, recipient: Address, kem: AgreementKeyType, aead: MessageAEAD, recipientKeyHash: Bytes32,
         encapsulatedKey: [UInt8], ciphertext: [UInt8], signature: [UInt8]) {
        self.origin = origin
        self.recipient = recipient
        self.kem = kem
        self.aead = aead
        self.recipientKeyHash = recipientKeyHash
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
        self.signature = signature
    }

    /// What a node checks: the chain and the outer signature by `senderKey` (the sender device's
    /// registered active key). It proves who sent these bytes, not what is inside.
    public func verify(chainId: UInt64, senderKey: PublicKey) throws(EnvelopeError) {
        try origin.verify(chainId: chainId, senderKey: senderKey, signature: signature, message: signedMessage)
    }

    /// Whether it was sealed to `key` (what a node can check against the recipient's registered key).
    public func isSealed(to key: AgreementPublicKey) -> Bool { kem == key.type && recipientKeyHash == key.keyHash }

    /// What the recipient does: checks the outer signature, opens the payload with its agreement
    /// key, checks the inner envelope's signature and that it says what the header says.
    public func open(with key: AgreementPrivateKey, chainId: UInt64, senderKey: PublicKey) throws(EnvelopeError) -> SignedEnvelope {
        try verify(chainId: chainId, senderKey: senderKey)
        let mine = key.publicKey
        guard isSealed(to: mine) else { throw .notSealedToThisKey(envelope: recipientKeyHash, key: mine.keyHash) }
        let plaintext: [UInt8]
        do {
            plaintext = try HPKEBox.open(encapsulatedKey: encapsulatedKey, ciphertext: ciphertext, with: key, aead: aead, info: info, aad: aad)
        } catch {
            throw .cannotOpen(error)
        }
        let inner: SignedEnvelope
        do { inner = try SignedEnvelope(parsing: plaintext) } catch { throw .innerMismatch("the plaintext is not a signed envelope: \(error)") }
        guard inner.origin == origin else { throw .innerMismatch("sender, key, sequence, timestamp or chain differ") }
        guard inner.recipient == .device(recipient) else { throw .innerMismatch("inner recipient \(inner.recipient), outer device \(recipient)") }
        try inner.verify(chainId: chainId, senderKey: senderKey)
        return inner
    }
}
