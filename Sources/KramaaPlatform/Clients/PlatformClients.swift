import KramaaEVM
import KramaaMessaging
import KramaaPrimitives

/// The organisation registry, typed: reads through any `ContractReader`, writes through a
/// `ContractCaller` (the REST interface, the CLI, tests and the coming modules share these).
public struct OrganizationClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = OrganizationRegistry.Method
    static var address: Address { OrganizationRegistry.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func organization(_ id: UInt64) throws(ContractCallError) -> OrganizationRecord {
        try M.get.read(caller, at: Self.address, [.uint(UInt256(id))]) { d throws(ABIDecodingError) in try OrganizationRecord(id: id, decoding: &d) }
    }

    public func roles(of account: Address, in organization: UInt64) throws(ContractCallError) -> OrganizationRoles {
        try M.rolesOf.read(caller, at: Self.address, [.uint(UInt256(organization)), .address(account)]) { d throws(ABIDecodingError) in
            OrganizationRoles(rawValue: try d.nextUInt64())
        }
    }

    public func count() throws(ContractCallError) -> UInt64 {
        try M.count.read(caller, at: Self.address) { d throws(ABIDecodingError) in try d.nextUInt64() }
    }
}

extension OrganizationClient where Caller: ContractCaller {
    /// Registers an organisation named `name` (unique) with the caller its admin; returns its id.
    public func register(name: String) async throws(ContractCallError) -> (id: UInt64, receipt: ContractReceipt) {
        let receipt = try await M.register.send(caller, to: Self.address, [.string(name)])
        return (try receipt.decode(M.register) { d throws(ABIDecodingError) in try d.nextUInt64() }, receipt)
    }

    public func setRoles(_ roles: OrganizationRoles, of account: Address, in organization: UInt64) async throws(ContractCallError) -> ContractReceipt {
        try await M.setRoles.send(caller, to: Self.address, [.uint(UInt256(organization)), .address(account), .uint(UInt256(roles.rawValue))])
    }
}

/// The device registry, typed.
public struct DeviceClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = DeviceRegistry.Method
    static var address: Address { DeviceRegistry.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func device(_ device: Address) throws(ContractCallError) -> DeviceRecord {
        try M.get.read(caller, at: Self.address, [.address(device)]) { d throws(ABIDecodingError) in try DeviceRecord(device: device, decoding: &d) }
    }

    public func key(_ key: Address) throws(ContractCallError) -> DeviceKeyRecord {
        try M.getKey.read(caller, at: Self.address, [.address(key)]) { d throws(ABIDecodingError) in try DeviceKeyRecord(key: key, decoding: &d) }
    }

    /// Whether `key` was its device's key at `block`.
    public func keyValid(_ key: Address, atBlock block: UInt64) throws(ContractCallError) -> Bool {
        try M.keyValidAt.read(caller, at: Self.address, [.address(key), .uint(UInt256(block))]) { d throws(ABIDecodingError) in try d.nextBool() }
    }

    /// The public key that signs for `device` now: its current key while it is active, else nil
    /// (suspended, revoked). What a device token, a challenge answer or an envelope is checked against.
    public func activeSigningKey(of device: Address) throws(ContractCallError) -> PublicKey? {
        let record = try self.device(device)
        guard record.status == .active else { return nil }
        return try key(record.currentKey).parsed
    }

    /// The device's key-agreement key as registered, with whether it may be sealed to now.
    public func agreementKey(of device: Address) throws(ContractCallError) -> DeviceAgreementKeyRecord {
        try M.getAgreementKey.read(caller, at: Self.address, [.address(device)]) { d throws(ABIDecodingError) in
            try DeviceAgreementKeyRecord(device: device, decoding: &d)
        }
    }

    /// The key to seal to `device`'s envelopes: nil when it has none, or is suspended or revoked.
    public func usableAgreementKey(of device: Address) throws(ContractCallError) -> AgreementPublicKey? {
        try agreementKey(of: device).usableKey
    }
}

extension DeviceClient where Caller: ContractCaller {
    /// Sets `device`'s key-agreement key (the caller is the device or a device manager of its
    /// organisation): `possession` from ``AgreementKeyProof/prove(_:device:chainId:)``,
    /// `authorization` from ``AgreementKeyProof/authorize(_:device:chainId:with:)``.
    public func setAgreementKey(of device: Address, _ key: AgreementPublicKey, possession: [UInt8],
                                authorization: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        try await M.setAgreementKey.send(caller, to: Self.address, [.address(device), .uint(UInt256(UInt64(key.type.rawValue))), .bytes(key.bytes),
                                                                    .bytes(possession), .bytes(authorization)])
    }

    /// Revokes `device`'s key-agreement key (device managers of its organisation).
    public func revokeAgreementKey(of device: Address) async throws(ContractCallError) -> ContractReceipt {
        try await M.revokeAgreementKey.send(caller, to: Self.address, [.address(device)])
    }
}

/// The asset registry (ERC-721), typed.
public struct AssetClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = AssetRegistry.Method
    static var address: Address { AssetRegistry.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func asset(_ token: UInt256) throws(ContractCallError) -> AssetRecord {
        try M.getAsset.read(caller, at: Self.address, [.uint(token)]) { d throws(ABIDecodingError) in try AssetRecord(tokenId: token, decoding: &d) }
    }

    public func tokenURI(_ token: UInt256) throws(ContractCallError) -> String {
        try M.tokenURI.read(caller, at: Self.address, [.uint(token)]) { d throws(ABIDecodingError) in try d.nextString() }
    }

    public func owner(of token: UInt256) throws(ContractCallError) -> Address {
        try M.ownerOf.read(caller, at: Self.address, [.uint(token)]) { d throws(ABIDecodingError) in try d.nextAddress() }
    }

    /// The token bound to an NFC tag's 7-byte UID (`assetOfTag`).
    public func asset(boundToTag uid: [UInt8]) throws(ContractCallError) -> UInt256 {
        try M.assetOfTag.read(caller, at: Self.address, [.fixedBytes(AssetRegistry.tagWord(uid))]) { d throws(ABIDecodingError) in try d.nextUInt() }
    }
}

/// The provenance registry, typed.
public struct ProvenanceClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = ProvenanceRegistry.Method

    public init(_ caller: Caller) { self.caller = caller }

    /// The block at which the asset `key` (or what holds it) first had a breach recorded; nil if never.
    public func breachedAt(_ key: UInt256) throws(ContractCallError) -> UInt64? {
        let block = try M.breachedAt.read(caller, at: ProvenanceRegistry.address, [.uint(key)]) { d throws(ABIDecodingError) in try d.nextUInt64() }
        return block == 0 ? nil : block
    }
}

extension ProvenanceClient where Caller: ContractCaller {
    /// Captures an EPCIS document's events for `organization`; returns their CBV hashes.
    public func capture(_ document: [UInt8], organization: UInt64) async throws(ContractCallError) -> (hashes: [Bytes32], receipt: ContractReceipt) {
        let receipt = try await M.capture.send(caller, to: ProvenanceRegistry.address, [.uint(UInt256(organization)), .bytes(document)])
        return (try receipt.decode(M.capture) { d throws(ABIDecodingError) in try d.nextArray { d throws(ABIDecodingError) in try d.nextBytes32() } }, receipt)
    }
}
