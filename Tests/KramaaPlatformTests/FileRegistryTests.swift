import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The file registry driven by signed transactions in built blocks.
/// Keys: 0, 1, 2 = admins of organisations 1 (Acme Brand), 2 (Fast Carrier), 3 (Big Retail);
/// 3 = outsider; 4… = storage nodes' accounts.
@Suite struct FileRegistryTests {
    static let files = FileRegistry.address
    typealias M = FileRegistry.Method
    typealias P = PlatformContractTests
    static let outsider = 3

    /// A storage node to set up: its organisation, capacity and the free bytes its first heartbeat reports (nil: none sent).
    struct NodeSpec {
        var org: UInt64
        var capacity: UInt64 = 10_000
        var free: UInt64?
    }

    /// Three organisations and `nodes` (keys 4…), registered by their admins, each with its heartbeat.
    static func consortium(_ nodes: [NodeSpec]) -> ContractChain {
        let chain = ContractChain(contracts: .platform, keyCount: 4 + nodes.count)
        for (admin, name) in ["Acme Brand", "Fast Carrier", "Big Retail"].enumerated() {
            #expect(chain.send(admin, OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string(name)])).success)
        }
        for (i, node) in nodes.enumerated() {
            let register = M.registerNode.callData([.uint(UInt256(node.org)), .address(chain.addresses[4 + i]), .uint(UInt256(node.capacity))])
            #expect(chain.send(Int(node.org) - 1, files, register).success)
            if let free = node.free { #expect(chain.send(4 + i, files, M.heartbeat.callData([.uint(UInt256(free))])).success) }
        }
        return chain
    }

    /// A CIDv1 (raw, sha2-256) whose digest is `n` repeated.
    static func cid(_ n: UInt8, codec: UInt8 = 0x55) -> [UInt8] { [0x01, codec, 0x12, 0x20] + [UInt8](repeating: n, count: 32) }

    static func cidHash(_ cid: [UInt8]) -> Bytes32 { FileRegistry.cidHash(try! CIDBytes(cid)) }

    /// How refusals name a file.
    static func text(_ cid: [UInt8]) -> String { "file \(Hex.encode(try! CIDBytes(cid).canonical))" }

    static func pin(_ cid: [UInt8], size: UInt64 = 100, owner: FileOwner = .organization(1), min: UInt64 = 1, max: UInt64 = 3,
                    readers: FileReaders = .anyone) -> [UInt8] {
        M.pin.callData(FilePinRequest(size: size, owner: owner, minReplicas: min, maxReplicas: max, readers: readers).arguments(cid))
    }

    static func client(_ chain: ContractChain, _ key: Int = 0) -> FileRegistryClient<ContractChainCaller> {
        FileRegistryClient(ContractChainCaller(chain, key: key))
    }

    static func allocated(_ logs: [Log]) -> [Address] {
        logs.filter { $0.topics[0] == FileRegistry.Event.allocated }.map { Address(word: UInt256($0.topics[2])) }
    }

    // MARK: Allocation

    @Test func allocationPrefersOrganisationDiversityThenRoom() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 1, free: 900), NodeSpec(org: 2, free: 500), NodeSpec(org: 3, free: 300)])
        let n = Array(chain.addresses[4...])
        // The most room first; then the other organisations before Acme's second, larger node.
        let first = chain.send(0, Self.files, Self.pin(Self.cid(1), max: 3))
        #expect(first.success)
        #expect(Self.allocated(first.logs) == [n[0], n[2], n[3]])
        #expect(try Self.client(chain).storageNode(n[0]).allocatedBytes == 100)
        #expect(try Self.client(chain).storageNode(n[0]).freeBytes == 900)
        // Acme's nodes now tie at 900: the lower address wins, then another organisation however small.
        let second = chain.send(0, Self.files, Self.pin(Self.cid(2), max: 2))
        #expect(Self.allocated(second.logs) == [min(n[0], n[1]), n[2]])
        // When only one organisation has room, it takes two replicas.
        let third = chain.send(0, Self.files, Self.pin(Self.cid(3), size: 350, min: 2, max: 3))
        #expect(third.success)
        #expect(Set(Self.allocated(third.logs)) == [n[0], n[1]])
        let record = try Self.client(chain).pin(Self.cid(3))
        #expect(record.holders.map(\.node) == Self.allocated(third.logs))
        #expect(record.holders.allSatisfy { $0.live && !$0.held })
        #expect(record.owner == .organization(1) && record.size == 350 && record.minReplicas == 2 && record.maxReplicas == 3)
    }

    @Test func aPinNeedingMoreReplicasThanLiveNodesCanHoldFailsAndChangesNothing() throws {
        // The third node never sent a heartbeat: it is not live.
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 2, free: 1000), NodeSpec(org: 3)])
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(1), min: 3, max: 3),
                        "only 2 of 2 live storage nodes have room for 100 bytes; \(Self.text(Self.cid(1))) needs at least 3")
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(1), size: 1500, min: 1, max: 2),
                        "only 0 of 2 live storage nodes have room for 1500 bytes; \(Self.text(Self.cid(1))) needs at least 1")
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(1), min: 3, max: 2), "replicas must satisfy 1 ≤ minReplicas (3) ≤ maxReplicas (2) ≤ 16")
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(1), min: 0, max: 2), "replicas must satisfy 1 ≤ minReplicas (0) ≤ maxReplicas (2) ≤ 16")
        #expect(throws: ContractCallError.reverted(reason: "no pin for \(Self.text(Self.cid(1)))")) { _ = try Self.client(chain).pin(Self.cid(1)) }
        // Up to max where it can, at least min.
        let pinned = chain.send(0, Self.files, Self.pin(Self.cid(1), min: 2, max: 3))
        #expect(pinned.success && Self.allocated(pinned.logs).count == 2)
    }

    // MARK: Who may do what

    @Test func outsidersCannotPinUnpinReportOrSetKeys() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 2, free: 1000)])
        let outsider = chain.addresses[Self.outsider], file = Self.cid(1)
        let private1 = Self.pin(file, max: 2, readers: .members(of: 1, roles: []))
        P.expectRefusal(chain, Self.outsider, Self.files, private1, "\(outsider) needs the files role in organisation 1")
        P.expectRefusal(chain, 1, Self.files, private1, "\(chain.addresses[1]) needs the files role in organisation 1")
        #expect(chain.send(0, Self.files, private1).success)
        P.expectRefusal(chain, Self.outsider, Self.files, M.unpin.callData([.bytes(file)]), "\(outsider) needs the files role in organisation 1")
        P.expectRefusal(chain, Self.outsider, Self.files, M.reportHeld.callData([.bytes(file)]), "\(outsider) is not allocated \(Self.text(file))")
        let key = M.setReaderKey.callData([.bytes(file), .fixedBytes(Keccak256.hash([1])), .bytes([1, 2, 3])])
        P.expectRefusal(chain, Self.outsider, Self.files, key, "\(outsider) needs the files role in organisation 1")
        P.expectRefusal(chain, Self.outsider, Self.files, M.registerNode.callData([.uint(UInt256(1)), .address(outsider), .uint(UInt256(5))]),
                        "\(outsider) needs the admin role in organisation 1")
        P.expectRefusal(chain, Self.outsider, Self.files, M.heartbeat.callData([.uint(UInt256(5))]), "\(outsider) is not a registered storage node")
        P.expectRefusal(chain, 1, Self.files, M.deregisterNode.callData([.address(chain.addresses[4])]),
                        "\(chain.addresses[1]) needs the admin role in organisation 1")
        // Another organisation cannot take over a pinned CID either.
        P.expectRefusal(chain, 1, Self.files, Self.pin(file, owner: .organization(2)), "\(Self.text(file)) is pinned already by organisation 1")
        // The files role is what it takes.
        #expect(chain.send(0, OrganizationRegistry.address, OrganizationRegistry.Method.setRoles.callData([
            .uint(UInt256(1)), .address(outsider), .uint(UInt256(OrganizationRoles.files.rawValue))])).success)
        #expect(chain.send(Self.outsider, Self.files, key).success)
        #expect(chain.send(Self.outsider, Self.files, M.unpin.callData([.bytes(file)])).success)
    }

    @Test func onlyAnAllocatedNodeReportsHoldingAFileOnce() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 2, free: 900), NodeSpec(org: 2, free: 800)])
        let file = Self.cid(1)
        #expect(chain.send(0, Self.files, Self.pin(file, max: 2)).success)
        P.expectRefusal(chain, 6, Self.files, M.reportHeld.callData([.bytes(file)]), "\(chain.addresses[6]) is not allocated \(Self.text(file))")
        let held = chain.send(4, Self.files, M.reportHeld.callData([.bytes(file)]))
        #expect(held.success)
        #expect(held.logs.map(\.topics) == [[FileRegistry.Event.held, Self.cidHash(file), Bytes32(UInt256(chain.addresses[4]))]])
        P.expectRefusal(chain, 4, Self.files, M.reportHeld.callData([.bytes(file)]), "\(chain.addresses[4]) has reported holding \(Self.text(file)) already")
        #expect(try Self.client(chain).pin(file).holders.map(\.held) == [true, false])
    }

    // MARK: Repair

    @Test func aStaleHolderIsReplacedOnRepairAndItsReturnAllocatesNothing() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 2, free: 900), NodeSpec(org: 3, free: 800), NodeSpec(org: 1, free: 700)])
        let n = Array(chain.addresses[4...]), file = Self.cid(1), repair = M.repair.callData([.bytes(file)])
        #expect(Self.allocated(chain.send(0, Self.files, Self.pin(file, min: 2, max: 2)).logs) == [n[0], n[1]])
        P.expectRefusal(chain, Self.outsider, Self.files, repair, "\(Self.text(file)) has 2 live holders, at least its minimum of 2: nothing to repair")

        // Node 1 (Fast Carrier) goes silent for longer than the timeout; the others keep beating.
        chain.mine(after: FileRegistry.heartbeatTimeout / 2)
        for (key, free) in [(4, 900 as UInt64), (6, 800), (7, 700)] { #expect(chain.send(key, Self.files, M.heartbeat.callData([.uint(UInt256(free))])).success) }
        chain.mine(after: FileRegistry.heartbeatTimeout / 2 + 10)
        #expect(try !Self.client(chain).storageNode(n[1]).live)
        // Anyone may repair: Big Retail's node is chosen over Acme's second (Acme holds a live replica).
        let repaired = chain.send(Self.outsider, Self.files, repair)
        #expect(repaired.success && Self.allocated(repaired.logs) == [n[2]])
        var record = try Self.client(chain).pin(file)
        #expect(record.holders.map(\.node) == [n[0], n[1], n[2]] && record.holders.map(\.live) == [true, false, true])

        // It comes back: it keeps its place, and nothing is allocated because it returned.
        #expect(chain.send(5, Self.files, M.heartbeat.callData([.uint(UInt256(900))])).success)
        P.expectRefusal(chain, Self.outsider, Self.files, repair, "\(Self.text(file)) has 3 live holders, at least its minimum of 2: nothing to repair")
        record = try Self.client(chain).pin(file)
        #expect(record.holders.map(\.node) == [n[0], n[1], n[2]] && record.holders.allSatisfy(\.live))

        // A deregistered holder is released by repair (its ledger forgets the file); two live holders remain.
        #expect(chain.send(1, Self.files, M.deregisterNode.callData([.address(n[1])])).success)
        let released = chain.send(Self.outsider, Self.files, repair)
        #expect(released.success && Self.allocated(released.logs).isEmpty)
        #expect(released.logs.map { $0.topics } == [[FileRegistry.Event.released, Self.cidHash(file), Bytes32(UInt256(n[1]))]])
        #expect(try Self.client(chain).pin(file).holders.map(\.node) == [n[0], n[2]])
        #expect(try Self.client(chain).storageNodes() == [n[0], n[2], n[3]])
    }

    // MARK: Quota

    @Test func theQuotaCountsSizeTimesMaxReplicasAndRefusesBeyondIt() throws {
        let gib: UInt64 = 1 << 30, mib: UInt64 = 1 << 20
        let chain = Self.consortium([NodeSpec(org: 1, capacity: 4 * gib, free: 4 * gib), NodeSpec(org: 3, capacity: 4 * gib, free: 4 * gib)])
        let client = Self.client(chain)
        // Fast Carrier registered no node: its quota is the base; Acme's adds its node's capacity.
        #expect(try client.quota(of: 2).limit == FileRegistry.baseQuota)
        #expect(try client.quota(of: 1).limit == FileRegistry.baseQuota + 4 * gib)
        #expect(chain.send(1, Self.files, Self.pin(Self.cid(1), size: 400 * mib, owner: .organization(2), max: 2)).success)
        #expect(try client.quota(of: 2).used == 800 * mib)
        P.expectRefusal(chain, 1, Self.files, Self.pin(Self.cid(2), size: 200 * mib, owner: .organization(2), max: 2),
                        "organisation 2 has \(224 * mib) of its \(gib) bytes of quota left; this pin needs \(200 * mib) bytes × 2 replicas")
        #expect(chain.send(1, Self.files, M.unpin.callData([.bytes(Self.cid(1))])).success)
        #expect(try client.quota(of: 2).used == 0)
        #expect(chain.send(1, Self.files, Self.pin(Self.cid(2), size: 200 * mib, owner: .organization(2), max: 2)).success)
    }

    @Test func aPinAmongTheMostNodesAndItsUnpinFitInATransaction() throws {
        let nodes = (0..<FileRegistry.maxNodes).map { NodeSpec(org: UInt64($0 % 3) + 1, free: 10_000 - UInt64($0)) }
        let chain = Self.consortium(nodes)
        P.expectRefusal(chain, 0, Self.files, M.registerNode.callData([.uint(UInt256(1)), .address(chain.addresses[3]), .uint(UInt256(5))]),
                        "the registry holds \(FileRegistry.maxNodes) storage nodes already")
        let gas = { (data: [UInt8]) -> (Bool, UInt64) in
            let block = chain.mine([(0, Self.files, data)])
            return (block.receipts[0].success, block.receipts[0].cumulativeGasUsed)
        }
        let (pinned, pinGas) = gas(Self.pin(Self.cid(1), min: 16, max: 16))
        let (unpinned, unpinGas) = gas(M.unpin.callData([.bytes(Self.cid(1))]))
        #expect(pinned && unpinned)
        #expect(pinGas < 2_000_000 && unpinGas < 1_000_000, "pin \(pinGas) gas, unpin \(unpinGas) gas")
    }

    // MARK: CIDs

    @Test func malformedCIDBytesAreRefused() {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000)])
        let digest = [UInt8](repeating: 7, count: 32)
        let cases: [([UInt8], String)] = [
            ([], "a CID cannot be empty"),
            ([0x12, 0x20] + digest.dropLast(), "a CIDv0 is 0x12 0x20 followed by a 32-byte sha2-256 digest"),
            ([0x02, 0x55, 0x12, 0x20] + digest, "CID version 2 is not supported (0 or 1)"),
            ([0x01, 0x56, 0x12, 0x20] + digest, "codec 0x56 is not raw (0x55), dag-pb (0x70) or dag-cbor (0x71)"),
            ([0x01, 0x55, 0x13, 0x20] + digest, "multihash 0x13 is not sha2-256 (0x12)"),
            ([0x01, 0x55, 0x12, 0x10] + digest.prefix(16), "a sha2-256 digest has 32 bytes, not 16"),
            ([0x01, 0x55, 0x12, 0x20] + digest + [0], "1 bytes follow the CID's digest"),
            ([0x01, 0x55, 0x12, 0x20] + digest.prefix(10), "the CID ends before its digest does"),
            ([0x81, 0x00, 0x55, 0x12, 0x20] + digest, "a varint of the CID is not in its minimal form"),
            ([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], "a varint of the CID is longer than 9 bytes"),
        ]
        for (bytes, reason) in cases {
            P.expectRefusal(chain, 0, Self.files, Self.pin(bytes), "malformed CID \(Hex.encode(bytes)): \(reason)")
        }
    }

    @Test func aCIDv0AndItsDagPBCIDv1NameTheSameFile() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000)])
        let digest = [UInt8](repeating: 9, count: 32), v0 = [0x12, 0x20] + digest, v1 = Self.cid(9, codec: 0x70)
        let pinned = chain.send(0, Self.files, Self.pin(v0))
        #expect(pinned.success && pinned.logs[0].topics[1] == Keccak256.hash(v1))
        P.expectRefusal(chain, 0, Self.files, Self.pin(v1), "\(Self.text(v1)) is pinned already by organisation 1")
        #expect(try Self.client(chain).pin(v1) == Self.client(chain).pin(v0))
        #expect(chain.send(0, Self.files, Self.pin(Self.cid(9, codec: 0x71))).success)  // dag-cbor: another CID
    }

    @Test func aCIDIsReadFromItsTextFormsAndWrittenAsBase32() throws {
        // The IPFS documentation's example: a CIDv0 and its CIDv1.
        let v0 = try CIDBytes(text: "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR")
        #expect(v0.version == 0 && v0.text == "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
        #expect(try CIDBytes(text: v0.text) == CIDBytes(v0.canonical) && CIDBytes(text: "z" + "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR") == v0)
        let raw = [0x01, 0x55, 0x12, 0x20] + (0..<32).map(UInt8.init)
        #expect(try CIDBytes(raw).text == "bafkreiaaaebagbafaydqqcikbmga2dqpcaireeyuculbogazdinryhi6d4")
        #expect(try CIDBytes(text: Hex.encode(raw)) == CIDBytes(raw))
        #expect(throws: CIDBytesError.unreadableText("hello")) { try CIDBytes(text: "hello") }
        #expect(throws: CIDBytesError.unreadableText("b0")) { try CIDBytes(text: "b0") }
    }

    // MARK: Readers

    @Test func anAssetOwnedPrivateFileFollowsTheAssetToItsNewOwner() async throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000), NodeSpec(org: 2, free: 1000)])
        let (old, new) = (chain.addresses[0], chain.addresses[2])
        #expect(chain.send(0, AssetRegistry.address, AssetRegistry.Method.mint.callData([
            .uint(UInt256(1)), .string(P.epc), .address(old), .fixedBytes(Bytes32.zero), .string("")])).success)
        let token = try AssetRegistry.tokenId(epc: P.epc).0, file = Self.cid(1), recipient = Keccak256.hash(Array("old owner's key".utf8))
        let assetText = Hex.encode(token.bigEndianBytes)
        P.expectRefusal(chain, 2, Self.files, Self.pin(file, owner: .asset(token), readers: .assetHolder(token)),
                        "only the owner \(old) of asset \(assetText) may pin and manage its files")
        #expect(chain.send(0, Self.files, Self.pin(file, owner: .asset(token), max: 2, readers: .assetHolder(token))).success)
        #expect(chain.send(0, Self.files, M.setReaderKey.callData([.bytes(file), .fixedBytes(recipient), .bytes([0xaa, 0xbb])])).success)
        let client = Self.client(chain)
        #expect(try client.quota(of: 1).used == 200)  // the asset's organisation is charged
        #expect(try client.readerKey(file, recipientKeyHash: recipient) == [0xaa, 0xbb])
        #expect(try client.mayRead(file, account: old) && !client.mayRead(file, account: new))

        // Ownership and custody move to the new owner: the policy follows at once.
        let caller = ContractChainCaller(chain, key: 0)
        _ = try await caller.send(AssetRegistry.address, AssetRegistry.Method.transferFrom.callData([.address(old), .address(new), .uint(token)]))
        #expect(try client.mayRead(file, account: old))  // still the custodian
        _ = try await caller.send(AssetRegistry.address, AssetRegistry.Method.transferCustody.callData([.uint(token), .address(new)]))
        #expect(try !client.mayRead(file, account: old) && client.mayRead(file, account: new))
        // The new owner manages the pin; the old one no longer may.
        P.expectRefusal(chain, 0, Self.files, M.setReaderKey.callData([.bytes(file), .fixedBytes(recipient), .bytes([])]),
                        "only the owner \(new) of asset \(assetText) may pin and manage its files")
        #expect(chain.send(2, Self.files, M.setReaderKey.callData([.bytes(file), .fixedBytes(recipient), .bytes([])])).success)
        #expect(try client.readerKey(file, recipientKeyHash: recipient) == nil)
    }

    @Test func organisationReadersAreItsMembersWithTheRoleAtTheCurrentBlock() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000)])
        let file = Self.cid(1), client = Self.client(chain), member = chain.addresses[Self.outsider]
        #expect(chain.send(0, Self.files, Self.pin(file, readers: .members(of: 2, roles: .logistics))).success)
        #expect(try client.pin(file).readers == .members(of: 2, roles: .logistics))
        #expect(try client.mayRead(file, account: chain.addresses[1]))  // Fast Carrier's admin
        #expect(try !client.mayRead(file, account: chain.addresses[0]) && !client.mayRead(file, account: member))
        let setRoles = { (roles: OrganizationRoles) in OrganizationRegistry.Method.setRoles.callData([.uint(UInt256(2)), .address(member), .uint(UInt256(roles.rawValue))]) }
        #expect(chain.send(1, OrganizationRegistry.address, setRoles(.logistics)).success)
        #expect(try client.mayRead(file, account: member))
        #expect(chain.send(1, OrganizationRegistry.address, setRoles([])).success)
        #expect(try !client.mayRead(file, account: member))
        // A public file has no key to wrap; policies are checked.
        #expect(chain.send(0, Self.files, Self.pin(Self.cid(2))).success)
        P.expectRefusal(chain, 0, Self.files, M.setReaderKey.callData([.bytes(Self.cid(2)), .fixedBytes(Bytes32.zero), .bytes([1])]),
                        "\(Self.text(Self.cid(2))) is public: it has no file key to wrap")
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(3), readers: .members(of: 9, roles: [])), "no organisation 9")
        P.expectRefusal(chain, 0, Self.files, Self.pin(Self.cid(3), readers: .assetHolder(UInt256(5))), "no asset \(Hex.encode(UInt256(5).bigEndianBytes))")
    }

    // MARK: Events

    @Test func eachStepLogsWhatTheNodesNeed() throws {
        let chain = Self.consortium([NodeSpec(org: 1, free: 1000)])
        let node = chain.addresses[4], file = Self.cid(1), hash = Self.cidHash(file), nodeWord = Bytes32(UInt256(node))
        // Registration (again: a new capacity).
        let registered = chain.send(0, Self.files, M.registerNode.callData([.uint(UInt256(1)), .address(node), .uint(UInt256(5000))]))
        #expect(registered.logs.map(\.topics) == [[FileRegistry.Event.nodeRegistered, nodeWord, Bytes32(UInt256(1))]])
        #expect(registered.logs[0].data == ABI.encode([.uint(UInt256(5000))]))
        #expect(try Self.client(chain).quota(of: 1).limit == FileRegistry.baseQuota + 5000)

        let pinned = chain.send(0, Self.files, Self.pin(file, size: 64, max: 1, readers: .members(of: 1, roles: .auditor)))
        #expect(pinned.logs.map(\.topics) == [[FileRegistry.Event.pinned, hash, Bytes32(UInt256(1)), Bytes32(UInt256(1))],
                                               [FileRegistry.Event.allocated, hash, nodeWord]])
        #expect(pinned.logs[0].data == ABI.encode([.bytes(file), .uint(UInt256(64)), .uint(UInt256(1)), .uint(UInt256(1)), .uint(UInt256(1))]))
        #expect(pinned.logs[1].data == ABI.encode([.bytes(file), .uint(UInt256(64))]))

        let key = chain.send(0, Self.files, M.setReaderKey.callData([.bytes(file), .fixedBytes(Keccak256.hash([7])), .bytes([1, 2])]))
        #expect(key.logs.map(\.topics) == [[FileRegistry.Event.readerKeySet, hash, Keccak256.hash([7])]])
        #expect(key.logs[0].data == ABI.encode([.bytes([1, 2])]))

        let unpinned = chain.send(0, Self.files, M.unpin.callData([.bytes(file)]))
        #expect(unpinned.logs.map(\.topics) == [[FileRegistry.Event.released, hash, nodeWord], [FileRegistry.Event.unpinned, hash]])
        #expect(unpinned.logs.map(\.data) == [ABI.encode([.bytes(file)]), ABI.encode([.bytes(file)])])
        let ledger = try Self.client(chain).storageNode(node)
        #expect(ledger.allocatedBytes == 0 && ledger.freeBytes == 1000 && ledger.capacity == 5000)

        // Pinned again, it starts afresh: no held flags or keys from before.
        #expect(chain.send(0, Self.files, Self.pin(file, size: 64, max: 1, readers: .members(of: 1, roles: .auditor))).success)
        #expect(try Self.client(chain).readerKey(file, recipientKeyHash: Keccak256.hash([7])) == nil)

        let gone = chain.send(0, Self.files, M.deregisterNode.callData([.address(node)]))
        #expect(gone.logs.map(\.topics) == [[FileRegistry.Event.nodeDeregistered, nodeWord, Bytes32(UInt256(1))]])
        #expect(throws: ContractCallError.reverted(reason: "no storage node \(node)")) { _ = try Self.client(chain).storageNode(node) }
    }
}
