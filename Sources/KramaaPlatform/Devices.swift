import KramaaEVM
import KramaaMessaging
import KramaaPrimitives

/// A device's standing.
public enum DeviceStatus: UInt64, Sendable {
    case active = 1, suspended = 2, revoked = 3
}

/// The device registry (`0x…4b520011`): devices with their public keys (secp256k1, P-256 or
/// Ed25519; `did:key` identities), model and firmware, owned by an organisation.
///
/// A device is named by the address of its first key (``PublicKey/address``). Each key it ever
/// had is recorded with the blocks it was valid for, so "was this key valid at block N?" stays
/// answerable after a rotation or revocation; from the block that revokes a key on, the
/// platform refuses what it signs.
///
/// ```
/// function registerDevice(uint256 org, uint8 keyType, bytes publicKey, string model, bytes32 firmwareHash) returns (address device)
/// function setDeviceStatus(address device, uint8 status)      // 1 active, 2 suspended, 3 revoked (final)
/// function rotateDeviceKey(address device, uint8 keyType, bytes publicKey, bytes proof)
///     // proof: the new key's signature over "kramaa:rotate-device-key" ‖ chainId (8 bytes) ‖ device ‖ new key
/// function getDevice(address device) view returns (uint256 org, uint8 status, address currentKey, string model, bytes32 firmwareHash, uint256 registeredAt)
/// function getKey(address key) view returns (address device, uint8 keyType, bytes publicKey, uint256 validFrom, uint256 validUntil)
/// function keyValidAt(address key, uint256 blockNumber) view returns (bool)
/// function isActiveDeviceKey(address key) view returns (bool)
/// function setAgreementKey(address device, uint16 kemId, bytes publicKey, bytes possessionProof, bytes authorization)
///     // kemId 0x0020 X25519 (32 bytes) or 0x0010 P-256 (65 bytes, uncompressed); proofs: AgreementKeyProof (docs/MESSAGING.md)
/// function revokeAgreementKey(address device)               // device managers of its organisation
/// function getAgreementKey(address device) view returns (uint16 kemId, bytes publicKey, uint256 validFrom, bool usable)
/// event DeviceRegistered(address indexed device, uint256 indexed org, uint8 keyType, bytes publicKey, string model)
/// event DeviceStatusChanged(address indexed device, uint8 status)
/// event DeviceKeyRotated(address indexed device, address indexed oldKey, address indexed newKey)
/// event DeviceAgreementKeySet(address indexed device, uint16 kemId, bytes publicKey)
/// event DeviceAgreementKeyRevoked(address indexed device, uint16 kemId, bytes publicKey)
/// ```
public struct DeviceRegistry: SystemContract {
    public static let address = SystemContracts.address(0x11)
    public static let maxModelLength = 256

    enum Slot {
        static let devices = StorageSlot.named("kramaa.devices")
        static let keys = StorageSlot.named("kramaa.devices.keys")
        static let agreementKeys = StorageSlot.named("kramaa.devices.agreementKeys")

        static func device(_ d: Address) -> UInt256 { StorageSlot.mapping(devices, d) }
        static func org(_ d: Address) -> UInt256 { device(d) }
        static func status(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 1) }
        static func currentKey(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 2) }
        static func model(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 3) }
        static func firmware(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 4) }
        static func registeredAt(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 5) }
        /// The current key-agreement key: its KEM id (0 when none), bytes and first block.
        static func agreementKemId(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 6) }
        static func agreementKey(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 7) }
        static func agreementValidFrom(_ d: Address) -> UInt256 { StorageSlot.offset(device(d), 8) }
        /// The device an agreement key (by ``AgreementPublicKey/keyHash``) was ever registered
        /// to: a key is registered once, never again after a rotation or revocation.
        static func agreementKeyDevice(_ hash: Bytes32) -> UInt256 { StorageSlot.mapping(agreementKeys, hash) }

        static func key(_ k: Address) -> UInt256 { StorageSlot.mapping(keys, k) }
        static func keyDevice(_ k: Address) -> UInt256 { key(k) }
        static func keyType(_ k: Address) -> UInt256 { StorageSlot.offset(key(k), 1) }
        static func keyBytes(_ k: Address) -> UInt256 { StorageSlot.offset(key(k), 2) }
        static func validFrom(_ k: Address) -> UInt256 { StorageSlot.offset(key(k), 3) }
        /// The first block the key is no longer valid at; 0 while it is.
        static func validUntil(_ k: Address) -> UInt256 { StorageSlot.offset(key(k), 4) }
    }

    /// The functions of this contract\'s ABI (the one place their signatures are written).
    public enum Method {
        public static let register = SystemMethod("registerDevice(uint256,uint8,bytes,string,bytes32)")
        public static let setStatus = SystemMethod("setDeviceStatus(address,uint8)")
        public static let rotate = SystemMethod("rotateDeviceKey(address,uint8,bytes,bytes)")
        public static let get = SystemMethod("getDevice(address)")
        public static let getKey = SystemMethod("getKey(address)")
        public static let keyValidAt = SystemMethod("keyValidAt(address,uint256)")
        public static let isActiveKey = SystemMethod("isActiveDeviceKey(address)")
        public static let setAgreementKey = SystemMethod("setAgreementKey(address,uint16,bytes,bytes,bytes)")
        public static let revokeAgreementKey = SystemMethod("revokeAgreementKey(address)")
        public static let getAgreementKey = SystemMethod("getAgreementKey(address)")
    }

    public enum Event {
        public static let registered = ABI.eventTopic("DeviceRegistered(address,uint256,uint8,bytes,string)")
        public static let statusChanged = ABI.eventTopic("DeviceStatusChanged(address,uint8)")
        public static let keyRotated = ABI.eventTopic("DeviceKeyRotated(address,address,address)")
        public static let agreementKeySet = ABI.eventTopic("DeviceAgreementKeySet(address,uint16,bytes)")
        public static let agreementKeyRevoked = ABI.eventTopic("DeviceAgreementKeyRevoked(address,uint16,bytes)")
    }

    public init() {}

    /// The message a new key signs to prove possession in a rotation.
    public static func rotationMessage(chainId: UInt64, device: Address, newKey: PublicKey) -> [UInt8] {
        Array("kramaa:rotate-device-key".utf8) + UInt256(chainId).bigEndianBytes.suffix(8) + device.bytes + newKey.bytes
    }

    /// The device a key belongs to, with its status, when the key is the current key of an
    /// active device (what a platform call signed by a device must come from).
    public static func activeDevice(forKey key: Address, _ storage: some StorageReader) throws(SystemCallError) -> (device: Address, org: UInt64)? {
        let device = try storage.loadAddress(Slot.keyDevice(key))
        guard device != .zero, try storage.loadUInt64(Slot.status(device)) == DeviceStatus.active.rawValue,
              try storage.loadAddress(Slot.currentKey(device)) == key else { return nil }
        return (device, try storage.loadUInt64(Slot.org(device)))
    }

    /// The organisation of a registered device; nil for an address the registry does not know.
    public static func organization(of device: Address, _ storage: some StorageReader) throws(SystemCallError) -> UInt64? {
        guard try storage.loadUInt64(Slot.status(device)) != 0 else { return nil }
        return try storage.loadUInt64(Slot.org(device))
    }

    /// What the registry says of a key: its device, the device's status, whether it is the
    /// device's current key, and the block it stopped being valid at (0 while valid).
    public struct KeyStanding: Equatable, Sendable {
        public var device: Address
        public var status: DeviceStatus?
        public var isCurrent: Bool
        public var validUntil: UInt64
    }

    /// The standing of `key`; nil for a key the registry never had.
    public static func standing(ofKey key: Address, _ storage: some StorageReader) throws(SystemCallError) -> KeyStanding? {
        let device = try storage.loadAddress(Slot.keyDevice(key))
        guard device != .zero else { return nil }
        return KeyStanding(device: device, status: DeviceStatus(rawValue: try storage.loadUInt64(Slot.status(device))),
                           isCurrent: try storage.loadAddress(Slot.currentKey(device)) == key,
                           validUntil: try storage.loadUInt64(Slot.validUntil(key)))
    }

    /// Whether `key` was a valid key of its device at `block`.
    public static func keyValid(_ key: Address, at block: UInt64, _ storage: some StorageReader) throws(SystemCallError) -> Bool {
        let from = try storage.load(Slot.validFrom(key))
        guard !from.isZero, let start = from.uint64Value, block >= start else { return false }
        let until = try storage.loadUInt64(Slot.validUntil(key))
        return until == 0 || block < until
    }

    /// The key `device` signs with now, read through `call` by another contract: its current
    /// key, when the device is registered and active and the key valid at this block. Reverts
    /// with what is missing otherwise (what device-signed data, like readings, is checked against).
    static func activeSigningKey(of device: Address, _ call: SystemCall) throws(SystemCallError) -> PublicKey {
        let registry = call.reading(address)
        try call.require(try registry.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
        let status = try registry.loadUInt64(Slot.status(device))
        try call.require(status == DeviceStatus.active.rawValue,
                         "device \(device) is \(DeviceStatus(rawValue: status).map { "\($0)" } ?? "not active"); it signs nothing now")
        let key = try registry.loadAddress(Slot.currentKey(device))
        try call.require(try keyValid(key, at: call.blockNumber, registry), "device \(device)'s key \(key) is not valid at block \(call.blockNumber)")
        let (code, bytes) = (try registry.loadUInt64(Slot.keyType(key)), try registry.loadBytes(Slot.keyBytes(key)))
        guard let type = KeyType(code: code), let parsed = try? PublicKey(type: type, bytes: bytes) else {
            throw .reverted("device \(device)'s key \(key) is not a readable key of type \(code)")
        }
        return parsed
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.register.selector:
            try call.requireNoValue()
            let (org, type, bytes, model, firmware) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextUInt64(), try d.nextUInt64(), try d.nextBytes(), try d.nextString(), try d.nextBytes32())
            }
            return ABI.encode([.address(try register(org, try key(type, bytes, call), model, firmware, call))])
        case Method.setStatus.selector:
            try call.requireNoValue()
            let (device, status) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextUInt64()) }
            guard let status = DeviceStatus(rawValue: status) else { throw .reverted("unknown device status \(status)") }
            try setStatus(device, status, call)
            return []
        case Method.rotate.selector:
            try call.requireNoValue()
            let (device, type, bytes, proof) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextUInt64(), try d.nextBytes(), try d.nextBytes())
            }
            try rotate(device, try key(type, bytes, call), proof: proof, call)
            return []
        case Method.get.selector:
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            try call.require(try call.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
            return ABI.encode([.uint(try call.load(Slot.org(device))), .uint(try call.load(Slot.status(device))),
                               .address(try call.loadAddress(Slot.currentKey(device))), .string(try call.loadString(Slot.model(device))),
                               .fixedBytes(Bytes32(try call.load(Slot.firmware(device)))), .uint(try call.load(Slot.registeredAt(device)))])
        case Method.getKey.selector:
            let key = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            let device = try call.loadAddress(Slot.keyDevice(key))
            try call.require(device != .zero, "no device key \(key)")
            return ABI.encode([.address(device), .uint(try call.load(Slot.keyType(key))), .bytes(try call.loadBytes(Slot.keyBytes(key))),
                               .uint(try call.load(Slot.validFrom(key))), .uint(try call.load(Slot.validUntil(key)))])
        case Method.keyValidAt.selector:
            let (key, block) = try call.decode { d throws(ABIDecodingError) in (try d.nextAddress(), try d.nextUInt64()) }
            return ABI.encode([.bool(try Self.keyValid(key, at: block, call))])
        case Method.isActiveKey.selector:
            let key = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            return ABI.encode([.bool(try Self.activeDevice(forKey: key, call) != nil)])
        default:
            if let output = try executeAgreementKeyMethod(call) { return output }
            throw .reverted("unknown function of the device registry")
        }
    }

    func key(_ code: UInt64, _ bytes: [UInt8], _ call: SystemCall) throws(SystemCallError) -> PublicKey {
        guard let type = KeyType(code: code) else { throw .reverted("unknown key type \(code) (\(KeyType.codesDescription))") }
        do { return try PublicKey(type: type, bytes: bytes) } catch { throw .reverted("invalid \(type) public key: \(error)") }
    }

    private func register(_ org: UInt64, _ key: PublicKey, _ model: String, _ firmware: Bytes32,
                          _ call: SystemCall) throws(SystemCallError) -> Address {
        try OrganizationRegistry.require(call.caller, holds: .deviceManager, in: org, call)
        try call.require(model.utf8.count <= Self.maxModelLength, "a device model has at most \(Self.maxModelLength) bytes")
        let device = key.address
        try call.require(try call.loadAddress(Slot.keyDevice(device)) == .zero, "key \(device) is registered already")
        try call.store(Slot.org(device), org)
        try call.store(Slot.status(device), DeviceStatus.active.rawValue)
        try call.store(Slot.model(device), UInt64(0))
        try call.storeString(Slot.model(device), model)
        try call.store(Slot.firmware(device), UInt256(firmware))
        try call.store(Slot.registeredAt(device), max(call.blockNumber, 1))
        try addKey(key, to: device, call)
        try call.emit([Event.registered, Bytes32(UInt256(device)), Bytes32(UInt256(org))],
                      ABI.encode([.uint(UInt256(UInt64(key.type.code))), .bytes(key.bytes), .string(model)]))
        return device
    }

    private func addKey(_ key: PublicKey, to device: Address, _ call: SystemCall) throws(SystemCallError) {
        let k = key.address
        try call.store(Slot.keyDevice(k), device)
        try call.store(Slot.keyType(k), UInt64(key.type.code))
        try call.storeBytes(Slot.keyBytes(k), key.bytes)
        try call.store(Slot.validFrom(k), max(call.blockNumber, 1))
        try call.store(Slot.currentKey(device), k)
    }

    /// The device's organisation, after checking that the caller may manage the device.
    func requireManager(of device: Address, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        try call.require(try call.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
        let org = try call.loadUInt64(Slot.org(device))
        try OrganizationRegistry.require(call.caller, holds: .deviceManager, in: org, call)
        return org
    }

    private func setStatus(_ device: Address, _ status: DeviceStatus, _ call: SystemCall) throws(SystemCallError) {
        _ = try requireManager(of: device, call)
        let current = try call.loadUInt64(Slot.status(device))
        try call.require(current != DeviceStatus.revoked.rawValue, "device \(device) is revoked; revocation is final")
        try call.require(current != status.rawValue, "device \(device) is \(status) already")
        try call.store(Slot.status(device), status.rawValue)
        if status == .revoked {
            try call.store(Slot.validUntil(try call.loadAddress(Slot.currentKey(device))), call.blockNumber)
        }
        try call.emit([Event.statusChanged, Bytes32(UInt256(device))], ABI.encode([.uint(UInt256(status.rawValue))]))
    }

    private func rotate(_ device: Address, _ newKey: PublicKey, proof: [UInt8], _ call: SystemCall) throws(SystemCallError) {
        try call.require(try call.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
        let oldKey = try call.loadAddress(Slot.currentKey(device))
        // The device itself (its current key) or a device manager of its organisation.
        if call.caller != oldKey { _ = try requireManager(of: device, call) }
        try call.require(try call.loadUInt64(Slot.status(device)) == DeviceStatus.active.rawValue, "device \(device) is not active")
        try call.require(try call.loadAddress(Slot.keyDevice(newKey.address)) == .zero, "key \(newKey.address) is registered already")
        try call.charge(Precompiles.p256VerifyGas)  // a signature check of any type, priced as P256VERIFY
        let message = Self.rotationMessage(chainId: call.chainId, device: device, newKey: newKey)
        try call.require(newKey.isValidSignature(proof, for: message), "the proof is not a signature of the rotation message by the new key")
        try call.store(Slot.validUntil(oldKey), call.blockNumber)
        try addKey(newKey, to: device, call)
        try call.emit([Event.keyRotated, Bytes32(UInt256(device)), Bytes32(UInt256(oldKey)), Bytes32(UInt256(newKey.address))])
    }
}
