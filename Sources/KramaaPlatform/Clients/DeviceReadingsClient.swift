import KramaaEVM
import KramaaPrimitives

/// One observation of a device (docs/DEVICES.md): what the device signs and the readings
/// contract (``DeviceReadings``) stores as the latest of its `(device, kind)`.
///
/// Firmware, the node's services and the device agent build it here, sign its ``digest(chainId:)``
/// and submit it with ``submitCallData(signature:)``; the contract decodes the same calldata with
/// ``decodeSubmission(_:)`` and computes the same digest, so both sides share one definition.
public struct DeviceReading: Hashable, Sendable {
    /// The device's address (the address of its first key).
    public var device: Address
    /// A free 32-byte label, conventionally keccak256 of a name such as `"soil.moisture"` (``kind(named:)``).
    public var kind: Bytes32
    /// The int256 value as its two's-complement word (``init(device:kind:value:observedAt:sequence:)``
    /// takes an `Int64`, ``init(device:kind:valueWord:observedAt:sequence:)`` any int256;
    /// ``signedDecimal`` and ``parseSignedDecimal(_:)`` convert text).
    public var value: UInt256
    /// When the device observed it, Unix seconds of the device's clock.
    public var observedAt: UInt64
    /// Strictly increasing per `(device, kind)`: the contract refuses anything not above the last accepted.
    public var sequence: UInt64

    /// What the digest starts with: the 14 ASCII bytes `kramaa:reading`.
    public static let domain = Array("kramaa:reading".utf8)

    /// A reading of any int256 value, given as its two's-complement word.
    public init(device: Address, kind: Bytes32, valueWord value: UInt256, observedAt: UInt64, sequence: UInt64) {
        (self.device, self.kind, self.value, self.observedAt, self.sequence) = (device, kind, value, observedAt, sequence)
    }

    /// A reading whose value fits 64 bits (sign-extended to int256).
    public init(device: Address, kind: Bytes32, value: Int64, observedAt: UInt64, sequence: UInt64) {
        let magnitude = UInt256(value.magnitude)
        self.init(device: device, kind: kind, valueWord: value < 0 ? magnitude.negated : magnitude, observedAt: observedAt, sequence: sequence)
    }

    /// The conventional kind of a name: keccak256 of its UTF-8 bytes (`"soil.moisture"`).
    public static func kind(named name: String) -> Bytes32 { Keccak256.hash(Array(name.utf8)) }

    /// keccak256(`"kramaa:reading"` ‖ chainId (8 bytes big-endian) ‖ device (20) ‖ kind (32) ‖
    /// value (32, two's complement) ‖ observedAt (8) ‖ sequence (8)): what the device signs.
    public func digest(chainId: UInt64) -> Bytes32 { Keccak256.hash(preimage(chainId: chainId)) }

    /// The 122 bytes ``digest(chainId:)`` hashes.
    public func preimage(chainId: UInt64) -> [UInt8] {
        Self.domain + Self.bigEndian(chainId) + device.bytes + kind.bytes + value.bigEndianBytes + Self.bigEndian(observedAt) + Self.bigEndian(sequence)
    }

    /// `key`'s signature of the digest, in the form of its type (``PublicKey/isValidSignature(_:digest:)``).
    public func sign(with key: SigningKey, chainId: UInt64) -> [UInt8] { key.signature(digest: digest(chainId: chainId)) }

    /// The calldata of `submitReading(device, kind, value, observedAt, sequence, signature)`.
    public func submitCallData(signature: [UInt8]) -> [UInt8] {
        DeviceReadings.Method.submit.callData([.address(device), .fixedBytes(kind), .uint(value), .uint(UInt256(observedAt)),
                                               .uint(UInt256(sequence)), .bytes(signature)])
    }

    /// The five fields as `readingDigest` and `submitReading` take them (address, bytes32, int256, uint64, uint64).
    public init(decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.init(device: try d.nextAddress(), kind: try d.nextBytes32(), valueWord: try d.nextUInt(),
                  observedAt: try d.nextUInt64(), sequence: try d.nextUInt64())
    }

    /// The reading and signature of `submitReading` calldata after its selector.
    public static func decodeSubmission(_ d: inout ABIDecoder) throws(ABIDecodingError) -> (reading: DeviceReading, signature: [UInt8]) {
        (try DeviceReading(decoding: &d), try d.nextBytes())
    }

    /// Decodes whole `submitReading` calldata (selector included), as a relay or indexer sees it.
    public static func decodeSubmission(calldata: [UInt8]) throws(ABIDecodingError) -> (reading: DeviceReading, signature: [UInt8]) {
        guard calldata.count >= 4, Array(calldata.prefix(4)) == DeviceReadings.Method.submit.selectorBytes else {
            throw .invalidWord(offset: 0, expected: "submitReading selector")
        }
        var d = ABIDecoder(calldata: calldata)
        return try decodeSubmission(&d)
    }

    /// The value in signed decimal (`-1250`).
    public var signedDecimal: String { Self.signedDecimal(value) }

    /// An int256 word in signed decimal.
    public static func signedDecimal(_ word: UInt256) -> String { word.isNegative ? "-\(word.negated)" : "\(word)" }

    /// The int256 word of a signed decimal (`"-1250"`, `"42"`); nil when it is not one or is
    /// outside −2²⁵⁵ … 2²⁵⁵ − 1.
    public static func parseSignedDecimal(_ text: String) -> UInt256? {
        let negative = text.hasPrefix("-")
        let digits = negative ? text.dropFirst() : text[...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let magnitude = try? UInt256(decimal: digits) else { return nil }
        let limit = UInt256.one << 255
        if negative { return magnitude <= limit ? magnitude.negated : nil }
        return magnitude < limit ? magnitude : nil
    }

    static func bigEndian(_ n: UInt64) -> [UInt8] { withUnsafeBytes(of: n.bigEndian, Array.init) }
}

/// `latestReading(address, bytes32) returns (int256 value, uint64 observedAt, uint64 sequence, uint256 blockNumber)`.
public struct LatestReading: Hashable, Sendable {
    public var reading: DeviceReading
    /// The block that accepted it.
    public var blockNumber: UInt64
}

/// The readings contract, typed: reads through any `ContractReader`, submissions through a `ContractCaller`.
public struct DeviceReadingsClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = DeviceReadings.Method

    public init(_ caller: Caller) { self.caller = caller }

    /// The latest accepted reading of `(device, kind)`; nil when there is none.
    public func latest(device: Address, kind: Bytes32) throws(ContractCallError) -> LatestReading? {
        try M.latest.read(caller, at: DeviceReadings.address, [.address(device), .fixedBytes(kind)]) { d throws(ABIDecodingError) in
            let (value, observedAt, sequence, block) = (try d.nextUInt(), try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64())
            guard block != 0 else { return nil }
            return LatestReading(reading: DeviceReading(device: device, kind: kind, valueWord: value, observedAt: observedAt, sequence: sequence),
                                 blockNumber: block)
        }
    }

    /// Whether `signature` is `device`'s signature of `digest` by its current key, the device active.
    public func verify(device: Address, digest: Bytes32, signature: [UInt8]) throws(ContractCallError) -> Bool {
        try M.verify.read(caller, at: DeviceReadings.address, [.address(device), .fixedBytes(digest), .bytes(signature)]) { d throws(ABIDecodingError) in
            try d.nextBool()
        }
    }
}

extension DeviceReadingsClient where Caller: ContractCaller {
    /// Submits a signed reading (the caller pays; the signature is what counts).
    public func submit(_ reading: DeviceReading, signature: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        try await caller.send(DeviceReadings.address, reading.submitCallData(signature: signature))
    }
}
