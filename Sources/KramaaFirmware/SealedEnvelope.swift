// A sealed envelope (docs/MESSAGING.md, "Sealed envelope"), built in place: the signed envelope
// to the recipient device, sealed with HPKE to the recipient's X25519 agreement key, signed
// again outside — byte for byte what the nodes' KramaaMessaging.SealedEnvelope makes and opens.

/// `0x45 ‖ rlp([chainId, sender, senderKey, sequence, timestamp, recipient, kemId, kdfId,
/// aeadId, recipientKeyHash, enc, ciphertext, signature])`:
///
/// - the plaintext is the wire form of the ``SignedEnvelopeFrame`` with the same chain, sender,
///   sequence and timestamp, addressed to `recipient`;
/// - HPKE `info` is the `seal-info` domain message of `sender ‖ recipient`, `aad` the RLP list
///   of the ten header fields;
/// - the outer signature is over the `sealed-envelope` domain message of the RLP list of the
///   twelve fields before it.
///
/// Suite: KEM 0x0020 (X25519), KDF 0x0001, AEAD 0x0003 (ChaCha20-Poly1305).
public struct SealedEnvelopeFrame {
    public static let format: UInt8 = 0x45

    public var chainId: UInt64
    public var sequence: UInt64
    /// Unix milliseconds.
    public var timestamp: UInt64
    /// The recipient device.
    public var recipient: Address20
    /// The recipient's registered X25519 agreement public key (RFC 9180 SerializePublicKey).
    public var recipientKey: Bytes32
    public var contentType: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer

    public init(chainId: UInt64, sequence: UInt64, timestamp: UInt64, recipient: Address20, recipientKey: Bytes32,
                contentType: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        self.chainId = chainId
        self.sequence = sequence
        self.timestamp = timestamp
        self.recipient = recipient
        self.recipientKey = recipientKey
        self.contentType = contentType
        self.payload = payload
    }

    /// Writes the wire bytes into `out` (from its start; `contentType` and `payload` must not be
    /// in `out`'s memory), sealed with the ephemeral secret `ephemeralSecret` (fresh for every
    /// envelope: ``HPKE/ephemeralSecret(_:)``) and signed by `key`. A recipient key of small
    /// order is an invalid field.
    public func build(signedBy key: DeviceKey, ephemeralSecret: Bytes32, into out: inout FrameBuffer) throws(FrameError) {
        let address = key.address
        var parties = InlineArray<40, UInt8>(repeating: 0)
        for i in 0..<20 {
            parties[i] = address[i]
            parties[20 + i] = recipient[i]
        }
        let setup = withUnsafeBytes(of: parties) { body in
            try? HPKE.setupBaseS(recipient: recipientKey, ephemeralSecret: ephemeralSecret,
                                 info: DomainMessage(purpose: "seal-info", chainId: chainId, body: body))
        }
        guard var context = setup else { throw .invalidField }
        defer { context.wipe() }
        out.reset()
        out.update(Self.format)
        // The header as its own list first: that list is the aad.
        let list = RLP.beginList(out)
        RLP.uint(chainId, into: &out)
        RLP.string(contentsOf: address, into: &out)
        RLP.string(contentsOf: address, into: &out)
        RLP.uint(sequence, into: &out)
        RLP.uint(timestamp, into: &out)
        RLP.string(contentsOf: recipient, into: &out)
        RLP.uint(UInt64(HPKE.kemId), into: &out)
        RLP.uint(UInt64(HPKE.kdfId), into: &out)
        RLP.uint(UInt64(HPKE.aeadId), into: &out)
        var keyHash = Keccak256()
        keyHash.update(contentsOf: recipientKey)
        RLP.string(contentsOf: keyHash.finalize(), into: &out)
        RLP.endList(list, into: &out)
        try out.check()
        // The inner signed envelope right after it, encrypted in place, then its tag.
        let sealedAt = out.count
        var inner = FrameBuffer(out.rest)
        try SignedEnvelopeFrame(chainId: chainId, sequence: sequence, timestamp: timestamp, recipient: .device(recipient),
                                contentType: contentType, payload: payload).build(signedBy: key, into: &inner)
        let plaintext = UnsafeMutableRawBufferPointer(start: inner.base, count: inner.count)
        let tag = context.seal(aad: out.bytes(from: list), inPlace: plaintext)
        out.adopt(plaintext.count)
        out.update(contentsOf: tag)
        try out.check()
        // enc and the ciphertext's string header go in front of the ciphertext.
        let ciphertextLength = plaintext.count + 16
        let fields = 33 + RLP.headerSize(ciphertextLength)
        guard out.open(fields, at: sealedAt) else { throw .bufferTooSmall }
        var slot = FrameBuffer(UnsafeMutableBufferPointer(start: out.base + sealedAt, count: fields))
        RLP.string(contentsOf: context.encapsulatedKey, into: &slot)
        RLP.header(0x80, ciphertextLength, into: &slot)
        // The twelve fields as one list, signed; then the signature as the thirteenth.
        RLP.reopenList(list, into: &out)
        try RLP.endSignedList(list, purpose: "sealed-envelope", chainId: chainId, key: key, into: &out)
    }
}

extension MQTTFrames {
    /// `devices/0x{recipient}/inbox`, the recipient device's inbox topic (what a sealed envelope
    /// is published on), written into `out` from its start.
    public static func inboxTopic(_ recipient: Address20, into out: inout FrameBuffer) throws(FrameError) {
        out.reset()
        out.update(ascii: "devices/0x")
        withUnsafeBytes(of: recipient) { HexText.write($0, to: &out) }
        out.update(ascii: "/inbox")
        try out.check()
    }
}
