// What a device sends through the nodes' MQTT servers (docs/MESSAGING.md): its MQTT password
// (a device token), signed envelopes, and the MQTT 5 CONNECT and PUBLISH packets that carry them.

/// A device token (docs/MESSAGING.md, "Device tokens"): 145 bytes, sent as the MQTT password
/// in its text form `kmt1.` ‖ base64url.
public struct DeviceTokenFrame {
    public static let length = 145

    public var chainId: UInt64
    public var device: Address20
    /// Unix seconds.
    public var issuedAt: UInt64
    public var expiresAt: UInt64
    /// 16 random bytes (from the board's entropy).
    public var nonce: InlineArray<16, UInt8>

    public init(chainId: UInt64, device: Address20, issuedAt: UInt64, expiresAt: UInt64, nonce: InlineArray<16, UInt8>) {
        self.chainId = chainId
        self.device = device
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.nonce = nonce
    }

    /// The 145 bytes, signed by `key` (the device's current key: its address is the key address).
    public func write(signedBy key: DeviceKey) -> InlineArray<145, UInt8> {
        var token = InlineArray<145, UInt8>(repeating: 0)
        withUnsafeMutableBytes(of: &token) { raw in
            var w = FrameBuffer(raw.bindMemory(to: UInt8.self))
            w.update(1)
            w.update(bigEndian: chainId)
            w.update(contentsOf: device)
            w.update(contentsOf: key.address)
            w.update(bigEndian: issuedAt)
            w.update(bigEndian: expiresAt)
            w.update(contentsOf: nonce)
            let signed = UnsafeRawBufferPointer(start: raw.baseAddress, count: 81)
            let signature = key.sign(message: DomainMessage(purpose: "mqtt-token", chainId: chainId, body: signed))
            w.update(contentsOf: signature)
        }
        return token
    }
}

/// Where a signed envelope goes: a device's inbox, or a topic.
public enum EnvelopeTarget {
    case device(Address20)
    /// An MQTT topic name (no `+`, `#` or NUL).
    case topic(UnsafeRawBufferPointer)
}

/// A signed envelope (docs/MESSAGING.md, "Signed envelope"):
/// `0x53 ‖ rlp([chainId, sender, senderKey, sequence, timestamp, recipientKind, recipient,
/// contentType, payload, signature])`, the signature over the `envelope` message of the RLP list
/// of the nine fields before it.
public struct SignedEnvelopeFrame {
    public static let format: UInt8 = 0x53

    public var chainId: UInt64
    public var sequence: UInt64
    /// Unix milliseconds.
    public var timestamp: UInt64
    public var recipient: EnvelopeTarget
    public var contentType: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer

    public init(chainId: UInt64, sequence: UInt64, timestamp: UInt64, recipient: EnvelopeTarget,
                contentType: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        self.chainId = chainId
        self.sequence = sequence
        self.timestamp = timestamp
        self.recipient = recipient
        self.contentType = contentType
        self.payload = payload
    }

    /// Writes the wire bytes into `out` (from its start), sent by the device whose key is `key`
    /// (sender and sender key are both its address: a device's first key names it).
    public func build(signedBy key: DeviceKey, into out: inout FrameBuffer) throws(FrameError) {
        guard contentType.count <= 255 else { throw .invalidField }
        if case .topic(let topic) = recipient {
            guard topic.count >= 1 && topic.count <= 65_535 else { throw .invalidField }
            for b in topic where b == 0x2b || b == 0x23 || b == 0 { throw .invalidField }
        }
        out.reset()
        out.update(Self.format)
        let list = RLP.beginList(out)
        let address = key.address
        RLP.uint(chainId, into: &out)
        RLP.string(contentsOf: address, into: &out)
        RLP.string(contentsOf: address, into: &out)
        RLP.uint(sequence, into: &out)
        RLP.uint(timestamp, into: &out)
        switch recipient {
        case .device(let device):
            RLP.uint(0, into: &out)
            RLP.string(contentsOf: device, into: &out)
        case .topic(let topic):
            RLP.uint(1, into: &out)
            RLP.string(topic, into: &out)
        }
        RLP.string(contentType, into: &out)
        RLP.string(payload, into: &out)
        try RLP.endSignedList(list, purpose: "envelope", chainId: chainId, key: key, into: &out)
    }
}

extension RLP {
    /// Closes the list of an envelope's fields begun at `start`, signs it for `purpose` and
    /// appends the signature as its last field: signed and sealed envelopes end alike.
    static func endSignedList(_ start: Int, purpose: StaticString, chainId: UInt64, key: DeviceKey,
                              into out: inout FrameBuffer) throws(FrameError) {
        endList(start, into: &out)
        try out.check()
        let signature = key.sign(message: DomainMessage(purpose: purpose, chainId: chainId, body: out.bytes(from: start)))
        reopenList(start, into: &out)
        string(contentsOf: signature, into: &out)
        endList(start, into: &out)
        try out.check()
    }
}

/// MQTT 5 packets (OASIS MQTT 5.0 §3.1, §3.3) as the device sends them.
public enum MQTTFrames {
    /// CONNECT, MQTT 5, clean start, no will, no properties: user name the device address
    /// (`0x` and 40 lower-case hex digits), password the token's text.
    public static func connect(clientIdentifier: UnsafeRawBufferPointer, keepAlive: UInt16, device: Address20,
                               token: InlineArray<145, UInt8>, into out: inout FrameBuffer) throws(FrameError) {
        out.reset()
        out.update(0x10)
        let body = out.count
        string(ascii: "MQTT", into: &out)
        out.update(5)
        out.update(0xc2)                      // user name, password, clean start
        out.update(bigEndian: UInt64(keepAlive), count: 2)
        out.update(0)                         // no properties
        string(clientIdentifier, into: &out)
        out.update(bigEndian: 42, count: 2)
        out.update(0x30); out.update(0x78)    // "0x"
        withUnsafeBytes(of: device) { HexText.write($0, to: &out) }
        let prefix: StaticString = "kmt1."
        out.update(bigEndian: UInt64(prefix.utf8CodeUnitCount + Base64URLText.encodedLength(DeviceTokenFrame.length)), count: 2)
        out.update(ascii: prefix)
        withUnsafeBytes(of: token) { Base64URLText.write($0, to: &out) }
        try finish(body, into: &out)
    }

    /// PUBLISH, MQTT 5, with no properties; QoS 1 or 2 carry `packetIdentifier`.
    public static func publish(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: UInt8, packetIdentifier: UInt16,
                               into out: inout FrameBuffer) throws(FrameError) {
        guard qos <= 2, topic.count >= 1, topic.count <= 65_535, qos == 0 || packetIdentifier != 0 else { throw .invalidField }
        for b in topic where b == 0x2b || b == 0x23 || b == 0 { throw .invalidField }
        out.reset()
        out.update(0x30 | qos << 1)
        let body = out.count
        string(topic, into: &out)
        if qos > 0 { out.update(bigEndian: UInt64(packetIdentifier), count: 2) }
        out.update(0)                         // no properties
        out.update(payload)
        try finish(body, into: &out)
    }

    /// DISCONNECT, normal (reason 0x00, no properties: the two-byte form).
    public static func disconnect(into out: inout FrameBuffer) throws(FrameError) {
        out.reset()
        out.update(0xe0)
        out.update(0)
        try out.check()
    }

    static func string(_ bytes: UnsafeRawBufferPointer, into out: inout FrameBuffer) {
        out.update(bigEndian: UInt64(bytes.count), count: 2)
        out.update(bytes)
    }

    static func string(ascii text: StaticString, into out: inout FrameBuffer) {
        out.update(bigEndian: UInt64(text.utf8CodeUnitCount), count: 2)
        out.update(ascii: text)
    }

    /// Inserts the remaining length (a variable byte integer) before the body.
    static func finish(_ body: Int, into out: inout FrameBuffer) throws(FrameError) {
        try out.check()
        var length = out.count - body
        guard length <= 268_435_455 else { throw .invalidField }
        var size = 0
        var v = length
        repeat { size += 1; v >>= 7 } while v != 0
        guard out.open(size, at: body) else { throw .bufferTooSmall }
        for i in 0..<size {
            var byte = UInt8(length & 0x7f)
            length >>= 7
            if i < size - 1 { byte |= 0x80 }
            out.base[body + i] = byte
        }
    }
}
