import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The platform's system contracts driven by signed transactions in built blocks.
/// Keys: 0 = brand admin, 1 = brand member (given roles), 2 = carrier admin, 3 = outsider.
@Suite struct PlatformContractTests {
    static let orgs = OrganizationRegistry.address, devices = DeviceRegistry.address, assets = AssetRegistry.address
    static let epc = "urn:epc:id:sgtin:0614141.107346.2018"

    static func chain(_ contracts: SystemContracts = .platform, keyCount: Int = 4) -> ContractChain {
        ContractChain(contracts: contracts, keyCount: keyCount)
    }

    /// A chain with the brand (org 1, key 0 admin, key 1 manufacturer + device manager) and the carrier (org 2, key 2).
    static func withOrganisations(_ contracts: SystemContracts = .platform, keyCount: Int = 4) -> ContractChain {
        let chain = chain(contracts, keyCount: keyCount)
        #expect(chain.send(0, orgs, OrganizationRegistry.Method.register.callData([.string("Acme Brand")])).success)
        #expect(chain.send(2, orgs, OrganizationRegistry.Method.register.callData([.string("Fast Carrier")])).success)
        let roles = OrganizationRoles([.manufacturer, .deviceManager]).rawValue
        #expect(chain.send(0, orgs, OrganizationRegistry.Method.setRoles.callData([.uint(UInt256(1)), .address(chain.addresses[1]), .uint(UInt256(roles))])).success)
        return chain
    }

    /// Sends a call that must fail with `reason`, and checks that it changed nothing.
    static func expectRefusal(_ chain: ContractChain, _ key: Int, _ to: Address, _ data: [UInt8], _ reason: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let before = [orgs, devices, assets, ProvenanceRegistry.address, FileRegistry.address].map { chain.storage($0) }
        let result = chain.send(key, to, data)
        #expect(!result.success, "\(reason)", sourceLocation: sourceLocation)
        #expect(ContractChain.revertReason(result.output) == reason, sourceLocation: sourceLocation)
        #expect(result.logs.isEmpty, sourceLocation: sourceLocation)
        #expect([orgs, devices, assets, ProvenanceRegistry.address, FileRegistry.address].map { chain.storage($0) } == before, "\(reason)", sourceLocation: sourceLocation)
    }

    static func decode<T>(_ result: ExecutionResult, _ body: (inout ABIDecoder) throws -> T) throws -> T {
        #expect(result.status == .success)
        var d = ABIDecoder(result.output[...])
        return try body(&d)
    }

    // MARK: Organisations

    @Test func organisationsHaveAdminsMembersAndRoles() throws {
        let chain = Self.withOrganisations()
        let roles = try Self.decode(chain.read(Self.orgs, OrganizationRegistry.Method.rolesOf.callData([.uint(UInt256(1)), .address(chain.addresses[1])]))) { try $0.nextUInt64() }
        #expect(OrganizationRoles(rawValue: roles) == [.manufacturer, .deviceManager])
        let (name, founder) = try Self.decode(chain.read(Self.orgs, OrganizationRegistry.Method.get.callData([.uint(UInt256(2))]))) {
            (try $0.nextString(), try $0.nextAddress())
        }
        #expect(name == "Fast Carrier" && founder == chain.addresses[2])
        let has = OrganizationRegistry.Method.hasRole.callData([.uint(UInt256(1)), .address(chain.addresses[2]), .uint(UInt256(OrganizationRoles.admin.rawValue))])
        #expect(try Self.decode(chain.read(Self.orgs, has)) { try $0.nextBool() } == false)
    }

    @Test func organisationRefusalsChangeNothing() {
        let chain = Self.withOrganisations()
        let setRoles = { (org: UInt64, member: Int, roles: UInt64) in
            OrganizationRegistry.Method.setRoles.callData([.uint(UInt256(org)), .address(chain.addresses[member]), .uint(UInt256(roles))])
        }
        Self.expectRefusal(chain, 3, Self.orgs, OrganizationRegistry.Method.register.callData([.string("acme brand")]),
                           "an organisation named \"acme brand\" exists already")
        Self.expectRefusal(chain, 3, Self.orgs, OrganizationRegistry.Method.register.callData([.string(" x")]),
                           "an organisation name must be non-empty without surrounding spaces")
        Self.expectRefusal(chain, 1, Self.orgs, setRoles(1, 3, 2), "only an admin of organisation 1 may change roles")
        Self.expectRefusal(chain, 0, Self.orgs, setRoles(1, 0, 2), "organisation 1 would be left without an admin")
        Self.expectRefusal(chain, 0, Self.orgs, setRoles(1, 3, 1 << 40), "unknown role bits \(UInt64(1) << 40)")
        Self.expectRefusal(chain, 0, Self.orgs, setRoles(9, 3, 2), "no organisation 9")
    }

    // MARK: Devices

    static func registerDevice(_ chain: ContractChain, _ key: PublicKey, by sender: Int = 1, org: UInt64 = 1) -> (success: Bool, output: [UInt8], logs: [Log]) {
        chain.send(sender, devices, DeviceRegistry.Method.register.callData([
            .uint(UInt256(org)), .uint(UInt256(UInt64(key.type.code))), .bytes(key.bytes), .string("TempLogger T1"),
            .fixedBytes(Keccak256.hash(Array("firmware 1.0".utf8))),
        ]))
    }

    @Test func devicesRegisterRotateWithProofAndRevoke() throws {
        let chain = Self.withOrganisations()
        let first = SigningKey(generating: .p256), second = SigningKey(generating: .ed25519)
        let device = first.publicKey.address
        let registered = Self.registerDevice(chain, first.publicKey)
        #expect(registered.success && registered.logs.first?.topics[0] == DeviceRegistry.Event.registered)
        let registeredAt = chain.head.number
        let isActive = { (key: Address) in try Self.decode(chain.read(Self.devices, DeviceRegistry.Method.isActiveKey.callData([.address(key)]))) { try $0.nextBool() } }
        #expect(try isActive(device))

        // Rotation needs the new key's signature over the rotation message.
        let message = DeviceRegistry.rotationMessage(chainId: ContractChain.chainId, device: device, newKey: second.publicKey)
        let rotate = { (proof: [UInt8]) in
            DeviceRegistry.Method.rotate.callData([.address(device), .uint(UInt256(3)), .bytes(second.publicKey.bytes), .bytes(proof)])
        }
        Self.expectRefusal(chain, 1, Self.devices, rotate(first.signature(for: message)),
                           "the proof is not a signature of the rotation message by the new key")
        Self.expectRefusal(chain, 3, Self.devices, rotate(second.signature(for: message)),
                           "\(chain.addresses[3]) needs the deviceManager role in organisation 1")
        #expect(chain.send(1, Self.devices, rotate(second.signature(for: message))).success)
        let rotatedAt = chain.head.number
        let validAt = { (key: Address, block: UInt64) in
            try Self.decode(chain.read(Self.devices, DeviceRegistry.Method.keyValidAt.callData([.address(key), .uint(UInt256(block))]))) { try $0.nextBool() }
        }
        #expect(try validAt(device, registeredAt) && validAt(device, rotatedAt - 1))
        #expect(try !validAt(device, rotatedAt) && validAt(second.publicKey.address, rotatedAt))
        #expect(try !isActive(device) && isActive(second.publicKey.address))

        // Revocation ends the current key at the revoking block and is final.
        let status = { (code: UInt64) in DeviceRegistry.Method.setStatus.callData([.address(device), .uint(UInt256(code))]) }
        #expect(chain.send(1, Self.devices, status(3)).success)
        #expect(try !isActive(second.publicKey.address) && !validAt(second.publicKey.address, chain.head.number))
        #expect(try validAt(second.publicKey.address, chain.head.number - 1))
        Self.expectRefusal(chain, 1, Self.devices, status(1), "device \(device) is revoked; revocation is final")
    }

    @Test func deviceRefusalsChangeNothing() {
        let chain = Self.withOrganisations()
        let key = SigningKey(generating: .secp256k1).publicKey
        Self.expectRefusal(chain, 3, Self.devices, DeviceRegistry.Method.register.callData([
            .uint(UInt256(1)), .uint(UInt256(1)), .bytes(key.bytes), .string("m"), .fixedBytes(.zero)]),
            "\(chain.addresses[3]) needs the deviceManager role in organisation 1")
        Self.expectRefusal(chain, 1, Self.devices, DeviceRegistry.Method.register.callData([
            .uint(UInt256(1)), .uint(UInt256(9)), .bytes(key.bytes), .string("m"), .fixedBytes(.zero)]),
            "unknown key type 9 (1 secp256k1, 2 P-256, 3 Ed25519)")
        let offCurve = [UInt8](repeating: 7, count: 33)
        let refused = chain.send(1, Self.devices, DeviceRegistry.Method.register.callData([
            .uint(UInt256(1)), .uint(UInt256(2)), .bytes(offCurve), .string("m"), .fixedBytes(.zero)]))
        #expect(!refused.success && ContractChain.revertReason(refused.output)?.hasPrefix("invalid p256 public key") == true)
        #expect(Self.registerDevice(chain, key).success)
        Self.expectRefusal(chain, 1, Self.devices, DeviceRegistry.Method.register.callData([
            .uint(UInt256(1)), .uint(UInt256(1)), .bytes(key.bytes), .string("m"), .fixedBytes(.zero)]),
            "key \(key.address) is registered already")
    }

    // MARK: Assets

    static func mint(_ chain: ContractChain, epc: String = epc, by sender: Int = 1, owner: Int = 0) -> (success: Bool, output: [UInt8], logs: [Log]) {
        chain.send(sender, assets, AssetRegistry.Method.mint.callData([
            .uint(UInt256(1)), .string(epc), .address(chain.addresses[owner]),
            .fixedBytes(Keccak256.hash(Array("metadata".utf8))), .string("ipfs://bafy-metadata"),
        ]))
    }

    @Test func assetsAreERC721TokensNamedByTheirEPC() throws {
        let chain = Self.withOrganisations()
        let minted = Self.mint(chain)
        #expect(minted.success)
        let token = try AssetRegistry.tokenId(epc: Self.epc).0
        var d = ABIDecoder(minted.output[...])
        #expect(try d.nextUInt() == token)
        #expect(minted.logs.first?.topics == [AssetRegistry.Event.transfer, .zero, Bytes32(UInt256(chain.addresses[0])), Bytes32(token)])
        let ownerOf = { try Self.decode(chain.read(Self.assets, AssetRegistry.Method.ownerOf.callData([.uint(token)]))) { try $0.nextAddress() } }
        #expect(try ownerOf() == chain.addresses[0])
        #expect(try Self.decode(chain.read(Self.assets, AssetRegistry.Method.tokenIdOf.callData([.string(Self.epc)]))) { try $0.nextUInt() } == token)
        #expect(try Self.decode(chain.read(Self.assets, AssetRegistry.Method.supportsInterface.callData([.fixedBytes(try Bytes32([0x80, 0xac, 0x58, 0xcd] + [UInt8](repeating: 0, count: 28)))]))) { try $0.nextBool() })

        // Approve key 2, which moves it to key 3; custody stays with key 0 until handed over.
        #expect(chain.send(0, Self.assets, AssetRegistry.Method.approve.callData([.address(chain.addresses[2]), .uint(token)])).success)
        let moved = chain.send(2, Self.assets, AssetRegistry.Method.transferFrom.callData([.address(chain.addresses[0]), .address(chain.addresses[3]), .uint(token)]))
        #expect(moved.success)
        #expect(try ownerOf() == chain.addresses[3])
        #expect(try Self.decode(chain.read(Self.assets, AssetRegistry.Method.balanceOf.callData([.address(chain.addresses[0])]))) { try $0.nextUInt() } == .zero)
        let custodian = { try Self.decode(chain.read(Self.assets, AssetRegistry.Method.getAsset.callData([.uint(token)]))) { d -> Address in
            _ = try d.nextString(); _ = try d.nextUInt(); _ = try d.nextAddress(); return try d.nextAddress() } }
        #expect(try custodian() == chain.addresses[0])
        #expect(chain.send(0, Self.assets, AssetRegistry.Method.transferCustody.callData([.uint(token), .address(chain.addresses[2])])).success)
        #expect(try custodian() == chain.addresses[2])
        // The approval was cleared by the transfer.
        Self.expectRefusal(chain, 2, Self.assets, AssetRegistry.Method.transferFrom.callData(
                           [.address(chain.addresses[3]), .address(chain.addresses[2]), .uint(token)]), "ERC721: caller is not token owner or approved")
        // Consumed assets no longer change hands.
        #expect(chain.send(3, Self.assets, AssetRegistry.Method.setStatus.callData([.uint(token), .uint(UInt256(4))])).success)
        Self.expectRefusal(chain, 3, Self.assets, AssetRegistry.Method.transferFrom.callData(
                           [.address(chain.addresses[3]), .address(chain.addresses[2]), .uint(token)]),
                           "asset \(Hex.encode(token.bigEndianBytes)) is consumed and cannot change hands")
    }

    @Test func tagsAndDevicesBindToAssets() throws {
        let chain = Self.withOrganisations()
        #expect(Self.mint(chain).success)
        let token = try AssetRegistry.tokenId(epc: Self.epc).0
        let uid = try Bytes32([0x04, 0xde, 0x5f, 0x1e, 0xac, 0xc0, 0x40] + [UInt8](repeating: 0, count: 25))
        #expect(chain.send(1, Self.assets, AssetRegistry.Method.bindTag.callData([.uint(token), .fixedBytes(uid)])).success)
        #expect(try Self.decode(chain.read(Self.assets, AssetRegistry.Method.assetOfTag.callData([.fixedBytes(uid)]))) { try $0.nextUInt() } == token)
        Self.expectRefusal(chain, 1, Self.assets, AssetRegistry.Method.bindTag.callData([.uint(token), .fixedBytes(uid)]),
                           "tag 0x04de5f1eacc040 is bound already")
        let logger = SigningKey(generating: .p256).publicKey
        #expect(Self.registerDevice(chain, logger).success)
        #expect(chain.send(1, Self.assets, AssetRegistry.Method.bindDevice.callData([.uint(token), .address(logger.address)])).success)
        let foreign = SigningKey(generating: .p256).publicKey
        #expect(Self.registerDevice(chain, foreign, by: 2, org: 2).success)  // an admin holds every role of its organisation
        Self.expectRefusal(chain, 1, Self.assets, AssetRegistry.Method.bindDevice.callData([.uint(token), .address(foreign.address)]),
                           "device \(foreign.address) is not a device of organisation 1")
    }

    @Test func assetRefusalsChangeNothing() {
        let chain = Self.withOrganisations()
        Self.expectRefusal(chain, 2, Self.assets, AssetRegistry.Method.mint.callData([
            .uint(UInt256(1)), .string(Self.epc), .address(chain.addresses[2]), .fixedBytes(.zero), .string("")]),
            "\(chain.addresses[2]) needs the manufacturer role in organisation 1")
        let bad = Self.mint(chain, epc: "urn:epc:id:sgtin:0614141.107346")
        #expect(!bad.success && ContractChain.revertReason(bad.output)?.hasPrefix("invalid EPC:") == true)
        let pattern = Self.mint(chain, epc: "urn:epc:idpat:sgtin:0614141.107346.*")
        #expect(!pattern.success && ContractChain.revertReason(pattern.output)?.contains("pure-identity") == true)
        #expect(Self.mint(chain).success)
        Self.expectRefusal(chain, 1, Self.assets, AssetRegistry.Method.mint.callData([
            .uint(UInt256(1)), .string(Self.epc), .address(chain.addresses[2]), .fixedBytes(.zero), .string("")]),
            "asset \(Self.epc) exists already")
    }
}
