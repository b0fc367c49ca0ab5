import KramaaEVM
import KramaaPrimitives

/// Device readings (`0x…4b520018`): sensor values signed by registered devices, which
/// contracts can trust — an oracle whose only authority is the device registry
/// (docs/DEVICES.md).
///
/// Anyone may submit a reading (a relay, the device itself, a contract): the device's signature
/// is what counts, checked against the device's current key, the device active at this block.
/// The latest reading of each `(device, kind)` is kept with the block that accepted it; a
/// sequence number strictly increasing per `(device, kind)` refuses replays. `kind` is a free
/// 32-byte label, conventionally keccak256 of a name such as `"soil.moisture"`.
///
/// ```
/// function verifyDeviceSignature(address device, bytes32 digest, bytes signature) view returns (bool)
///     // false for an unknown or inactive device, a wrong length or a bad signature; never reverts for these
/// function readingDigest(address device, bytes32 kind, int256 value, uint64 observedAt, uint64 sequence) view returns (bytes32)
///     // keccak256("kramaa:reading" ‖ chainId (8) ‖ device (20) ‖ kind (32) ‖ value (32) ‖ observedAt (8) ‖ sequence (8))
/// function submitReading(address device, bytes32 kind, int256 value, uint64 observedAt, uint64 sequence, bytes signature)
/// function latestReading(address device, bytes32 kind) view returns (int256 value, uint64 observedAt, uint64 sequence, uint256 blockNumber)
///     // all zero when none
/// event ReadingAccepted(address indexed device, bytes32 indexed kind, int256 value, uint64 observedAt, uint64 sequence)
/// ```
///
/// Signatures are of the digest used as is (``PublicKey/isValidSignature(_:digest:)``): P-256
/// `r ‖ s` with low s, Ed25519 `R ‖ S`, secp256k1 `r ‖ s ‖ v` with low s. Each check is charged as
/// the precompile of its type would be (``Precompiles/signatureCheckGas(_:)``).
public struct DeviceReadings: SystemContract {
    public static let address = SystemContracts.address(0x18)
    /// How far ahead of the block's time a reading may be observed (device and validator clocks drift).
    public static let maxClockAhead: UInt64 = 300

    /// Per `(device, kind)`: the value's word, then one word packing sequence (bits 0–63),
    /// observedAt (64–127) and the accepting block (128–191; 0 when there is no reading).
    enum Slot {
        static let readings = StorageSlot.named("kramaa.readings")
        static func value(_ device: Address, _ kind: Bytes32) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(readings, device), kind) }
        static func meta(_ device: Address, _ kind: Bytes32) -> UInt256 { StorageSlot.offset(value(device, kind), 1) }
    }

    /// The functions of this contract's ABI (the one place their signatures are written).
    public enum Method {
        public static let verify = SystemMethod("verifyDeviceSignature(address,bytes32,bytes)")
        public static let digest = SystemMethod("readingDigest(address,bytes32,int256,uint64,uint64)")
        public static let submit = SystemMethod("submitReading(address,bytes32,int256,uint64,uint64,bytes)")
        public static let latest = SystemMethod("latestReading(address,bytes32)")
    }

    public enum Event {
        public static let accepted = ABI.eventTopic("ReadingAccepted(address,bytes32,int256,uint64,uint64)")
    }

    public init() {}

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.verify.selector:
            let (device, digest, signature) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextBytes32(), try d.nextBytes()) }
            let key: PublicKey
            do { key = try DeviceRegistry.activeSigningKey(of: device, call) } catch .revert { return ABI.encode([.bool(false)]) }
            return ABI.encode([.bool(try verify(signature, of: digest, by: key, call))])
        case Method.digest.selector:
            let reading = try call.decode { d throws(ABIDecodingError) in try DeviceReading(decoding: &d) }
            return ABI.encode([.fixedBytes(try digest(of: reading, call))])
        case Method.submit.selector:
            try call.requireNoValue()
            let (reading, signature) = try call.decode { d throws(ABIDecodingError) in try DeviceReading.decodeSubmission(&d) }
            try submit(reading, signature: signature, call)
            return []
        case Method.latest.selector:
            let (device, kind) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextBytes32()) }
            let latest = try Self.latest(device, kind, call)
            return ABI.encode([.uint(latest.value), .uint(UInt256(latest.observedAt)), .uint(UInt256(latest.sequence)), .uint(UInt256(latest.block))])
        default:
            throw .reverted("unknown function of the device readings contract")
        }
    }

    private func submit(_ reading: DeviceReading, signature: [UInt8], _ call: SystemCall) throws(SystemCallError) {
        let device = reading.device
        let key = try DeviceRegistry.activeSigningKey(of: device, call)
        let digest = try self.digest(of: reading, call)
        try call.require(try verify(signature, of: digest, by: key, call),
                         "the signature is not device \(device)'s signature of the reading digest by its current \(key.type) key")
        let meta = try call.load(Slot.meta(device, reading.kind))
        let last = Self.field(meta, 0)
        try call.require(Self.field(meta, 2).isZero || UInt256(reading.sequence) > last,
                         "sequence \(reading.sequence) is not above \(last), the last accepted of device \(device) for kind \(reading.kind): a replay")
        let latest = call.timestamp &+ Self.maxClockAhead
        try call.require(reading.observedAt <= latest,
                         "observedAt \(reading.observedAt) is more than \(Self.maxClockAhead) s after the block's time \(call.timestamp): the device's clock is ahead")
        try call.store(Slot.value(device, reading.kind), reading.value)
        let packed = UInt256(reading.sequence) | UInt256(reading.observedAt) << 64 | UInt256(max(call.blockNumber, 1)) << 128
        try call.store(Slot.meta(device, reading.kind), packed)
        try call.emit([Event.accepted, Bytes32(UInt256(device)), reading.kind],
                      ABI.encode([.uint(reading.value), .uint(UInt256(reading.observedAt)), .uint(UInt256(reading.sequence))]))
    }

    /// The reading's digest, charged as KECCAK256 of its 122-byte preimage.
    private func digest(of reading: DeviceReading, _ call: SystemCall) throws(SystemCallError) -> Bytes32 {
        let preimage = reading.preimage(chainId: call.chainId)
        try call.chargeHashing(preimage.count)
        return Keccak256.hash(preimage)
    }

    /// One signature check, charged as its type's precompile.
    private func verify(_ signature: [UInt8], of digest: Bytes32, by key: PublicKey, _ call: SystemCall) throws(SystemCallError) -> Bool {
        try call.charge(Precompiles.signatureCheckGas(key.type))
        return key.isValidSignature(signature, digest: digest)
    }

    /// The latest accepted reading of (device, kind), read from any view of this contract's
    /// storage (the trigger hook reads it too); all zero when there is none.
    public static func latest(_ device: Address, _ kind: Bytes32, _ storage: some StorageReader) throws(SystemCallError)
        -> (value: UInt256, observedAt: UInt64, sequence: UInt64, block: UInt64) {
        let value = Slot.value(device, kind)
        let meta = try storage.load(StorageSlot.offset(value, 1))  // Slot.meta, without hashing twice
        return (try storage.load(value), field(meta, 1).uint64Value ?? 0, field(meta, 0).uint64Value ?? 0, field(meta, 2).uint64Value ?? 0)
    }

    /// The sequence and accepting block of the latest reading of (device, kind), from its one
    /// packed slot (what the trigger hook needs to tell that nothing new arrived); zeros when none.
    public static func latestSequence(_ device: Address, _ kind: Bytes32, _ storage: some StorageReader) throws(SystemCallError)
        -> (sequence: UInt64, block: UInt64) {
        let meta = try storage.load(Slot.meta(device, kind))
        return (field(meta, 0).uint64Value ?? 0, field(meta, 2).uint64Value ?? 0)
    }

    /// The 64-bit field `index` of a packed meta word.
    static func field(_ word: UInt256, _ index: Int) -> UInt256 { word >> (64 * index) & UInt256(UInt64.max) }
}
