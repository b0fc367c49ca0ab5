import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The typed system-contract clients against the contracts themselves: what they send is
/// what the contracts take, what they decode is what the contracts return.
@Suite struct PlatformClientTests {
    static let epc = "urn:epc:id:sgtin:0614141.107346.2018"

    @Test func organisationsRegisterAndReadBackThroughTheClient() async throws {
        let chain = ContractChain(contracts: .platform)
        let admin = OrganizationClient(ContractChainCaller(chain, key: 0))
        let (id, receipt) = try await admin.register(name: "Acme Brand")
        #expect(id == 1 && receipt.blockNumber == chain.head.number)
        let org = try admin.organization(id)
        #expect(org == (try {
            var d = ABIDecoder(ABI.encode([.string("Acme Brand"), .address(chain.addresses[0]), .uint(UInt256(receipt.blockNumber)), .uint(UInt256(1))])[...])
            return try OrganizationRecord(id: 1, decoding: &d)
        }()))
        _ = try await admin.setRoles([.manufacturer], of: chain.addresses[1], in: id)
        #expect(try admin.roles(of: chain.addresses[1], in: id) == [.manufacturer])
        #expect(try admin.count() == 1)
        // A refusal comes back as the contract's reason, typed.
        await #expect(throws: ContractCallError.self) { _ = try await admin.register(name: "Acme Brand") }
        #expect(throws: ContractCallError.reverted(reason: "no organisation 9")) { _ = try admin.organization(9) }
    }

    @Test func assetsAndDevicesDecodeWhatTheContractsReturn() async throws {
        let chain = ContractChain(contracts: .platform)
        let admin = OrganizationClient(ContractChainCaller(chain, key: 0))
        let (org, _) = try await admin.register(name: "Acme Brand")
        _ = try await admin.setRoles([.manufacturer, .deviceManager], of: chain.addresses[1], in: org)
        let caller = ContractChainCaller(chain, key: 1)
        let mint = AssetRegistry.Method.mint.callData([.uint(UInt256(1)), .string(Self.epc), .address(chain.addresses[2]),
                                                       .fixedBytes(Keccak256.hash(Array("m".utf8))), .string("ipfs://bafy")])
        let minted = try await caller.send(AssetRegistry.address, mint)
        let token = try AssetRegistry.tokenId(epc: Self.epc).0
        let assets = AssetClient(caller)
        let asset = try assets.asset(token)
        #expect(asset.epc == Self.epc && asset.organization == 1 && asset.owner == chain.addresses[2] && asset.custodian == chain.addresses[2])
        #expect(asset.status == .active && asset.mintedAtBlock == minted.blockNumber && asset.metadataHash == Keccak256.hash(Array("m".utf8)))
        #expect(try assets.owner(of: token) == chain.addresses[2])
        #expect(try assets.tokenURI(token) == "ipfs://bafy")
        // Device keys: a secp256k1 device of organisation 1.
        let deviceKey = PublicKey.secp256k1(chain.keys[3].publicKey)
        let register = DeviceRegistry.Method.register.callData([.uint(UInt256(1)), .uint(UInt256(UInt64(deviceKey.type.code))),
                                                                 .bytes(deviceKey.bytes), .string("Sensor v1"), .fixedBytes(Bytes32.zero)])
        let registered = try await caller.send(DeviceRegistry.address, register)
        let devices = DeviceClient(caller)
        let device = try devices.device(deviceKey.address)
        #expect(device.organization == 1 && device.status == .active && device.model == "Sensor v1" && device.currentKey == deviceKey.address)
        let key = try devices.key(deviceKey.address)
        #expect(key.device == deviceKey.address && key.validFromBlock == registered.blockNumber && key.validUntilBlock == nil)
        #expect(key.parsed == deviceKey)
        #expect(try devices.keyValid(deviceKey.address, atBlock: registered.blockNumber))
        #expect(try !devices.keyValid(deviceKey.address, atBlock: registered.blockNumber - 1))
        #expect(try ProvenanceClient(caller).breachedAt(token) == nil)
    }

    @Test func theFileRegistryClientRoundTripsNodesPinsAndKeys() async throws {
        let chain = ContractChain(contracts: .platform, keyCount: 4)
        let (org, _) = try await OrganizationClient(ContractChainCaller(chain, key: 0)).register(name: "Acme Brand")
        let admin = FileRegistryClient(ContractChainCaller(chain, key: 0)), node = FileRegistryClient(ContractChainCaller(chain, key: 1))
        let nodeAddress = chain.addresses[1]
        _ = try await admin.registerStorageNode(nodeAddress, of: org, capacity: 4096)
        #expect(try admin.storageNode(nodeAddress) == (try {
            var d = ABIDecoder(ABI.encode([.uint(UInt256(org)), .uint(UInt256(4096)), .uint(.zero), .uint(.zero), .uint(.zero), .bool(false)])[...])
            return try StorageNodeRecord(node: nodeAddress, decoding: &d)
        }()))
        let beat = try await node.heartbeat(freeBytes: 2048)
        #expect(try admin.storageNodes() == [nodeAddress])
        let cid: [UInt8] = [0x01, 0x70, 0x12, 0x20] + [UInt8](repeating: 3, count: 32)
        let request = FilePinRequest(size: 100, owner: .organization(org), minReplicas: 1, maxReplicas: 2, readers: .members(of: org, roles: [.auditor, .files]))
        let (nodes, pinned) = try await admin.pin(cid, request)
        #expect(nodes == [nodeAddress])
        let record = try admin.pin(cid)
        #expect(record.owner == request.owner && record.readers == request.readers && record.size == 100)
        #expect(record.minReplicas == 1 && record.maxReplicas == 2 && record.pinnedAtBlock == pinned.blockNumber)
        #expect(record.holders == [FilePinRecord.Holder(node: nodeAddress, held: false, live: true)])
        #expect(try admin.storageNode(nodeAddress).lastHeartbeat == chain.provider.header(number: beat.blockNumber)?.timestamp)
        _ = try await node.reportHeld(cid)
        #expect(try admin.pin(cid).holders.map(\.held) == [true])
        #expect(try admin.quota(of: org) == (try {
            var d = ABIDecoder(ABI.encode([.uint(UInt256(200)), .uint(UInt256(FileRegistry.baseQuota + 4096))])[...])
            return try FileQuotaRecord(organization: org, decoding: &d)
        }()))
        _ = try await admin.setReaderKey(cid, recipientKeyHash: Keccak256.hash([1]), wrappedKey: [9, 9])
        #expect(try admin.readerKey(cid, recipientKeyHash: Keccak256.hash([1])) == [9, 9])
        #expect(try admin.mayRead(cid, account: chain.addresses[0]) && !admin.mayRead(cid, account: chain.addresses[2]))
        await #expect(throws: ContractCallError.self) { _ = try await admin.repair(cid) }
        _ = try await admin.unpin(cid)
        #expect(try admin.storageNode(nodeAddress).allocatedBytes == 0)
        _ = try await admin.deregisterStorageNode(nodeAddress)
        #expect(try admin.storageNodes().isEmpty)
    }
}
