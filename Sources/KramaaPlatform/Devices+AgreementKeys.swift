import KramaaEVM
import KramaaMessaging
import KramaaPrimitives

/// Devices' key-agreement keys: the HPKE public keys others seal envelopes to (docs/MESSAGING.md).
///
/// A device has at most one at a time. Setting one needs two proofs (``AgreementKeyProof``): the
/// device's current signing key authorises it, and the agreement key's own secret proves
/// possession; the caller is the device itself or a device manager of its organisation. A key
/// is registered once only (never again after its rotation or revocation), and only while the
/// device is active. Device managers revoke it; a suspended or revoked device's key reads as not
/// usable.
extension DeviceRegistry {
    /// Gas for checking the two proofs: two signature checks priced as P256VERIFY, and the
    /// Edwards-to-Montgomery map of an X25519 proof (an inversion modulo 2^255 − 19).
    static let agreementProofGas: Int64 = 2 * 3_450 + 1_000

    /// Runs the agreement-key functions; nil for any other selector.
    func executeAgreementKeyMethod(_ call: SystemCall) throws(SystemCallError) -> [UInt8]? {
        switch call.selector {
        case Method.setAgreementKey.selector:
            try call.requireNoValue()
            let (device, kemId, bytes, possession, authorization) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextAddress(), try d.nextUInt64(), try d.nextBytes(), try d.nextBytes(), try d.nextBytes())
            }
            try setAgreementKey(device, try agreementKey(kemId, bytes), possession: possession, authorization: authorization, call)
            return []
        case Method.revokeAgreementKey.selector:
            try call.requireNoValue()
            try revokeAgreementKey(try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }, call)
            return []
        case Method.getAgreementKey.selector:
            let device = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            try call.require(try call.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
            let kemId = try call.load(Slot.agreementKemId(device))
            let active = try call.loadUInt64(Slot.status(device)) == DeviceStatus.active.rawValue
            let usable = !kemId.isZero && active
            return ABI.encode([.uint(kemId), .bytes(try call.loadBytes(Slot.agreementKey(device))),
                               .uint(try call.load(Slot.agreementValidFrom(device))), .bool(usable)])
        default:
            return nil
        }
    }

    private func agreementKey(_ kemId: UInt64, _ bytes: [UInt8]) throws(SystemCallError) -> AgreementPublicKey {
        let type: AgreementKeyType
        do { type = try AgreementKeyType(kemId: kemId) } catch {
            throw .reverted("unknown key-agreement key type \(kemId) (0x20 X25519, 0x10 P-256)")
        }
        do { return try AgreementPublicKey(type: type, bytes: bytes) } catch { throw .reverted("invalid \(type) key: \(error)") }
    }

    private func setAgreementKey(_ device: Address, _ key: AgreementPublicKey, possession: [UInt8], authorization: [UInt8],
                                 _ call: SystemCall) throws(SystemCallError) {
        try call.require(try call.loadUInt64(Slot.registeredAt(device)) != 0, "no device \(device)")
        let signingKeyAddress = try call.loadAddress(Slot.currentKey(device))
        if call.caller != signingKeyAddress { _ = try requireManager(of: device, call) }
        try call.require(try call.loadUInt64(Slot.status(device)) == DeviceStatus.active.rawValue, "device \(device) is not active")
        let owner = try call.loadAddress(Slot.agreementKeyDevice(key.keyHash))
        try call.require(owner == .zero, "agreement key \(key.keyHash) was registered already (to \(owner)); generate a new one")
        try call.charge(Self.agreementProofGas)
        let signingKey = try self.key(try call.loadUInt64(Slot.keyType(signingKeyAddress)), try call.loadBytes(Slot.keyBytes(signingKeyAddress)), call)
        do {
            try AgreementKeyProof.verifyAuthorization(authorization, of: key, device: device, chainId: call.chainId, signingKey: signingKey)
            try AgreementKeyProof.verifyPossession(possession, of: key, device: device, chainId: call.chainId)
        } catch {
            throw .reverted(error.description)
        }
        try call.store(Slot.agreementKemId(device), UInt64(key.type.rawValue))
        try call.storeBytes(Slot.agreementKey(device), key.bytes)
        try call.store(Slot.agreementValidFrom(device), max(call.blockNumber, 1))
        try call.store(Slot.agreementKeyDevice(key.keyHash), device)
        try call.emit([Event.agreementKeySet, Bytes32(UInt256(device))], ABI.encode([.uint(UInt256(UInt64(key.type.rawValue))), .bytes(key.bytes)]))
    }

    private func revokeAgreementKey(_ device: Address, _ call: SystemCall) throws(SystemCallError) {
        _ = try requireManager(of: device, call)
        let kemId = try call.load(Slot.agreementKemId(device))
        try call.require(!kemId.isZero, "device \(device) has no agreement key")
        let bytes = try call.loadBytes(Slot.agreementKey(device))
        try call.store(Slot.agreementKemId(device), UInt256.zero)
        try call.storeBytes(Slot.agreementKey(device), [])
        try call.store(Slot.agreementValidFrom(device), UInt256.zero)
        try call.emit([Event.agreementKeyRevoked, Bytes32(UInt256(device))], ABI.encode([.uint(kemId), .bytes(bytes)]))
    }
}
