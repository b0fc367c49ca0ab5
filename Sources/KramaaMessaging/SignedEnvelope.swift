import KramaaPrimitives

/// Where an envelope goes: one device, or a topic (a broadcast to its subscribers).
public enum EnvelopeRecipient: Hashable, Sendable, CustomStringConvertible {
    case device(Address)
    /// An MQTT topic name: 1 to 65,535 bytes of UTF-8, no wildcards (`+`, `#`), no U+0000.
    case topic(String)

    /// The kind byte on the wire: 0 device, 1 topic.
    var kind: UInt64 { if case .device = self { 0 } else { 1 } }

    var bytes: [UInt8] {
        switch self {
        case .device(let address): address.bytes
        case .topic(let topic): Array(topic.utf8)
        }
    }

    init(kind: UInt64, bytes: ArraySlice<UInt8>) throws(EnvelopeError) {
        switch kind {
        case 0:
            guard let address = try? Address(bytes) else { throw .invalidField("recipient", "a device address is 20 bytes, got \(bytes.count)") }
            self = .device(address)
        case 1:
            guard let topic = strictUTF8(bytes) else { throw .invalidField("recipient", "the topic is not UTF-8") }
            self = .topic(topic)
            try validate()
        default:
            throw .invalidField("recipientKind", "\(kind) is neither 0 (device) nor 1 (topic)")
        }
    }

    /// Refuses topics MQTT would refuse as a PUBLISH topic name.
    func validate() throws(EnvelopeError) {
        guard case .topic(let topic) = self else { return }
        let count = topic.utf8.count
        guard (1...65_535).contains(count) else { throw .invalidField("recipient", "a topic is 1 to 65535 bytes, got \(count)") }
        guard !topic.utf8.contains(where: { $0 == 0x2b || $0 == 0x23 || $0 == 0 }) else {
            throw .invalidField("recipient", "a topic name has no wildcards (+, #) and no NUL")
        }
    }

    public var description: String {
        switch self {
        case .device(let address): "device \(address)"
        case .topic(let topic): "topic \(topic)"
        }
    }
}

/// A payload signed by its sender's device key (docs/MESSAGING.md, "Signed envelope").
///
/// Wire: `0x53 ('S') ‖ rlp([chainId, sender, senderKey, sequence, timestamp, recipientKind,
/// recipient, contentType, payload, signature])`; the signature (64 bytes, as
/// ``SigningKey/signature(for:)``) is over
/// `SigningDomain.envelope.message(chainId, rlp([the nine fields before it]))`.
public struct SignedEnvelope: Sendable, Equatable {
    public static let format: UInt8 = 0x53
    public static let maximumContentTypeLength = 255

    public var origin: EnvelopeOrigin
    public var recipient: EnvelopeRecipient
    /// A MIME type, e.g. `application/json`; at most 255 bytes.
    public var contentType: String
    public var payload: [UInt8]
    public var signature: [UInt8]

    /// Signs `payload` for `recipient` as device `sender` with its current key `key`.
    public static func sign(_ payload: [UInt8], contentType: String, to recipient: EnvelopeRecipient, from sender: Address, key: SigningKey,
                            sequence: UInt64, timestamp: UInt64, chainId: UInt64) throws(EnvelopeError) -> SignedEnvelope {
        try recipient.validate()
        guard contentType.utf8.count <= maximumContentTypeLength else {
            throw .invalidField("contentType", "at most \(maximumContentTypeLength) bytes, got \(contentType.utf8.count)")
        }
        let origin = EnvelopeOrigin(chainId: chainId, sender: sender, senderKey: key.publicKey.address, sequence: sequence, timestamp: timestamp)
        var envelope = SignedEnvelope(origin: origin, recipient: recipient, contentType: contentType, payload: payload, signature: [])
        envelope.signature = key.signature(for: envelope.signedMessage)
        guard envelope.wireBytes.count <= Envelope.maximumSize else {
            throw .tooLarge(size: envelope.wireBytes.count, maximum: Envelope.maximumSize)
        }
        return envelope
    }

    private func writeFields(_ w: inout RLPWriter) {
        origin.write(&w)
        w.append(uint: recipient.kind)
        w.append(bytes: recipient.bytes)
        w.append(bytes: Array(contentType.utf8))
        w.append(bytes: payload)
    }

    /// What the sender's key signs.
    public var signedMessage: [UInt8] {
        var w = RLPWriter()
        w.appendList { writeFields(&$0) }
        return SigningDomain.envelope.message(chainId: origin.chainId, w.bytes)
    }

    public var wireBytes: [UInt8] {
        var w = RLPWriter(reservingCapacity: payload.count + 200)
        w.appendList {
            writeFields(&$0)
            $0.append(bytes: signature)
        }
        return [Self.format] + w.bytes
    }

    /// keccak256 of the wire bytes.
    public var envelopeHash: Bytes32 { Keccak256.hash(wireBytes) }

    /// Parses the wire form; checks the form, not the signature.
    public init(parsing bytes: [UInt8]) throws(EnvelopeError) {
        var r = try Envelope.list(bytes, format: Self.format)
        origin = try EnvelopeOrigin(reading: &r)
        let kind = try r.uint64("recipientKind")
        recipient = try EnvelopeRecipient(kind: kind, bytes: try r.bytes("recipient"))
        let type = try r.bytes("contentType")
        guard type.count <= Self.maximumContentTypeLength, let text = strictUTF8(type) else {
            throw .invalidField("contentType", "UTF-8 of at most \(Self.maximumContentTypeLength) bytes")
        }
        contentType = text
        payload = Array(try r.bytes("payload"))
        signature = Array(try r.bytes("signature", length: 64))
        try Envelope.finish(r)
    }

    init(origin: EnvelopeOrigin, recipient: EnvelopeRecipient, contentType: String, payload: [UInt8], signature: [UInt8]) {
        self.origin = origin
        self.recipient = recipient
        self.contentType = contentType
        self.payload = payload
        self.signature = signature
    }

    /// Checks the chain and that `senderKey` — the sender device's registered active key — signed it.
    public func verify(chainId: UInt64, senderKey: PublicKey) throws(EnvelopeError) {
        try origin.verify(chainId: chainId, senderKey: senderKey, signature: signature, message: signedMessage)
    }
}

/// The text of `bytes` when they are valid UTF-8 (decoding repairs nothing).
func strictUTF8(_ bytes: ArraySlice<UInt8>) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    return text.utf8.elementsEqual(bytes) ? text : nil
}
