/// A device transaction (type 0x4b, docs/DEVICE-TRANSACTIONS.md) sent by the device from its
/// own account, unsponsored: an EIP-1559 transaction with the device's key and signature.
///
/// ```
/// 0x4b ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList,
///             keyType, publicKey, sponsor, signature, sponsorYParity, sponsorR, sponsorS])
/// signingHash = keccak256(0x4b ‖ rlp([the first twelve fields]))
/// ```
/// Amounts are 64-bit (up to about 18.4 ether per field), enough for a device's fees.
public struct DeviceTransaction {
    public static let type: UInt8 = 0x4b

    public var chainId: UInt64
    public var nonce: UInt64
    public var maxPriorityFeePerGas: UInt64
    public var maxFeePerGas: UInt64
    public var gasLimit: UInt64
    public var to: Address20
    public var value: UInt64
    /// The call data (see ``Calldata``).
    public var data: UnsafeRawBufferPointer

    public init(chainId: UInt64, nonce: UInt64, maxPriorityFeePerGas: UInt64, maxFeePerGas: UInt64, gasLimit: UInt64,
                to: Address20, value: UInt64 = 0, data: UnsafeRawBufferPointer) {
        self.chainId = chainId
        self.nonce = nonce
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
    }

    /// Writes the signed wire form (for `eth_sendRawTransaction`) into `out` (from its start) and
    /// returns the transaction hash, keccak256 of the wire form.
    @discardableResult
    public func build(signedBy key: DeviceKey, into out: inout FrameBuffer) throws(FrameError) -> Bytes32 {
        out.reset()
        out.update(Self.type)
        let list = RLP.beginList(out)
        RLP.uint(chainId, into: &out)
        RLP.uint(nonce, into: &out)
        RLP.uint(maxPriorityFeePerGas, into: &out)
        RLP.uint(maxFeePerGas, into: &out)
        RLP.uint(gasLimit, into: &out)
        RLP.string(contentsOf: to, into: &out)
        RLP.uint(value, into: &out)
        RLP.string(data, into: &out)
        let accessList = RLP.beginList(out)                  // access list: empty
        RLP.endList(accessList, into: &out)
        RLP.uint(UInt64(key.typeCode), into: &out)
        key.publicKey.withBytes { RLP.string($0, into: &out) }
        RLP.string(UnsafeRawBufferPointer(start: nil, count: 0), into: &out)   // sponsor: none
        RLP.endList(list, into: &out)
        try out.check()
        let signingHash = Keccak256.hash(out.bytes)
        let signature = key.sign(digest: signingHash)
        RLP.reopenList(list, into: &out)
        RLP.string(contentsOf: signature, into: &out)
        for _ in 0..<3 { RLP.uint(0, into: &out) }            // no sponsor signature
        RLP.endList(list, into: &out)
        try out.check()
        return Keccak256.hash(out.bytes)
    }
}

/// Solidity ABI call data for the system contracts a device calls.
public enum Calldata {
    /// The provenance registry, `0x…4b520013`.
    public static var provenanceRegistry: Address20 { systemContract(0x13) }
    /// The device readings contract, `0x…4b520018`.
    public static var deviceReadings: Address20 { systemContract(0x18) }

    static func systemContract(_ last: UInt8) -> Address20 {
        var a = Address20(repeating: 0)
        a[16] = 0x4b; a[17] = 0x52; a[18] = 0x00; a[19] = last
        return a
    }

    /// `captureEvents(uint256 org, bytes document)`: an EPCIS document captured by the device
    /// (org 0: the device's own organisation).
    public static func captureEvents(org: UInt64, document: UnsafeRawBufferPointer, into out: inout FrameBuffer) throws(FrameError) {
        out.reset()
        selector("captureEvents(uint256,bytes)", into: &out)
        word(org, into: &out)
        word(0x40, into: &out)
        bytes(document, into: &out)
        try out.check()
    }

    /// `submitReading(address device, bytes32 kind, int256 value, uint64 observedAt, uint64 sequence, bytes signature)`.
    public static func submitReading(_ reading: SignedReading, signature: Bytes64, into out: inout FrameBuffer) throws(FrameError) {
        out.reset()
        selector("submitReading(address,bytes32,int256,uint64,uint64,bytes)", into: &out)
        for _ in 0..<12 { out.update(0) }
        out.update(contentsOf: reading.device)
        out.update(contentsOf: reading.kind)
        reading.writeValueWord(into: &out)
        word(reading.observedAt, into: &out)
        word(reading.sequence, into: &out)
        word(6 * 32, into: &out)
        withUnsafeBytes(of: signature) { bytes($0, into: &out) }
        try out.check()
    }

    static func selector(_ signature: StaticString, into out: inout FrameBuffer) {
        var h = Keccak256()
        h.update(ascii: signature)
        let digest = h.finalize()
        for i in 0..<4 { out.update(digest[i]) }
    }

    static func word(_ value: UInt64, into out: inout FrameBuffer) {
        for _ in 0..<24 { out.update(0) }
        out.update(bigEndian: value)
    }

    /// A dynamic `bytes`: its length word, then the bytes padded with zeros to a whole word.
    static func bytes(_ data: UnsafeRawBufferPointer, into out: inout FrameBuffer) {
        word(UInt64(data.count), into: &out)
        out.update(data)
        let pad = (32 - data.count % 32) % 32
        for _ in 0..<pad { out.update(0) }
    }
}

/// A device reading for the readings oracle (docs/DEVICES.md, "What firmware signs"):
/// `digest = keccak256("kramaa:reading" ‖ chainId (8) ‖ device (20) ‖ kind (32) ‖ value (32,
/// two's complement) ‖ observedAt (8) ‖ sequence (8))`, signed as is by the device's key.
public struct SignedReading {
    public static let preimageLength = 122

    public var chainId: UInt64
    public var device: Address20
    /// keccak256 of the kind's name, e.g. "air.temperature.centi-celsius".
    public var kind: Bytes32
    public var value: Int64
    /// Unix seconds.
    public var observedAt: UInt64
    public var sequence: UInt64

    public init(chainId: UInt64, device: Address20, kind: Bytes32, value: Int64, observedAt: UInt64, sequence: UInt64) {
        self.chainId = chainId
        self.device = device
        self.kind = kind
        self.value = value
        self.observedAt = observedAt
        self.sequence = sequence
    }

    /// The kind of a name: keccak256 of its UTF-8 bytes.
    public static func kind(named name: StaticString) -> Bytes32 {
        var h = Keccak256()
        h.update(ascii: name)
        return h.finalize()
    }

    /// Writes the 122-byte preimage.
    public func writePreimage<S: ByteSink>(to sink: inout S) {
        sink.update(ascii: "kramaa:reading")
        sink.update(bigEndian: chainId)
        sink.update(contentsOf: device)
        sink.update(contentsOf: kind)
        writeValueWord(into: &sink)
        sink.update(bigEndian: observedAt)
        sink.update(bigEndian: sequence)
    }

    /// The value as an int256 word (sign-extended).
    func writeValueWord<S: ByteSink>(into sink: inout S) {
        let fill: UInt8 = value < 0 ? 0xff : 0
        for _ in 0..<24 { sink.update(fill) }
        sink.update(bigEndian: UInt64(bitPattern: value))
    }

    /// keccak256 of the preimage: what the device signs.
    public var digest: Bytes32 {
        var h = Keccak256()
        writePreimage(to: &h)
        return h.finalize()
    }

    /// The reading frame: the preimage then the 64-byte signature (186 bytes).
    public func build(signedBy key: DeviceKey, into out: inout FrameBuffer) throws(FrameError) -> Bytes64 {
        out.reset()
        let signature = key.sign(digest: digest)
        writePreimage(to: &out)
        out.update(contentsOf: signature)
        try out.check()
        return signature
    }
}
