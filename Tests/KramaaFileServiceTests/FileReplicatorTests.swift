import Foundation
import KramaaChain
import KramaaEVM
import KramaaFileExchange
import KramaaFiles
@testable import KramaaFileService
import KramaaNetwork
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import Testing

/// Content addressing for these tests: a block is `[link count] ‖ links (36-byte CIDs) ‖ payload`
/// and its CID is CIDv1 raw sha2-256 of its bytes (the registry checks CIDs structurally).
struct TestCodec: DAGCodec {
    static func cid(_ data: [UInt8]) -> [UInt8] { [0x01, 0x55, 0x12, 0x20] + SHA256Digest.hash(data).bytes }
    static func block(links: [[UInt8]], payload: [UInt8]) -> ExchangeBlock {
        let data = [UInt8(links.count)] + links.flatMap { $0 } + payload
        return ExchangeBlock(cid: cid(data), data: data)
    }
    func matches(_ cid: [UInt8], _ data: [UInt8]) -> Bool { Self.cid(data) == cid }
    func links(of cid: [UInt8], _ data: [UInt8]) -> [[UInt8]]? {
        guard let n = data.first, data.count >= 1 + Int(n) * 36 else { return nil }
        return (0..<Int(n)).map { Array(data[1 + $0 * 36 ..< 1 + ($0 + 1) * 36]) }
    }
}

/// Blocks by content, as a node's store keeps them: a CID's multihash whichever version names it
/// (a CIDv0 and its CIDv1 are one block).
final class MemoryStore: ReplicaStore, @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [[UInt8]: [UInt8]] = [:]
    private(set) var pins: Set<[UInt8]> = []
    init(_ blocks: [ExchangeBlock] = []) { for b in blocks { self.blocks[Self.key(b.cid)] = b.data } }
    static func key(_ cid: [UInt8]) -> [UInt8] { (try? CID(bytes: cid))?.multihash.bytes ?? cid }
    func block(_ cid: [UInt8]) -> [UInt8]? { lock.withLock { blocks[Self.key(cid)] } }
    func put(_ block: ExchangeBlock) throws { lock.withLock { blocks[Self.key(block.cid)] = block.data } }
    func pin(_ root: [UInt8]) throws { _ = lock.withLock { pins.insert(root) } }
    func unpin(_ root: [UInt8]) throws { _ = lock.withLock { pins.remove(root) } }
    var freeBytes: UInt64 { 1 << 30 }
    var count: Int { lock.withLock { blocks.count } }
    var pinned: Set<[UInt8]> { lock.withLock { pins } }
}

/// Replicators connected in memory as the peer network would connect them.
final class MemoryPeers: @unchecked Sendable {
    private let lock = NSLock()
    private var services: [Address: PeerService] = [:]
    func join(_ address: Address, _ service: PeerService) {
        let others = lock.withLock { () -> [Address: PeerService] in
            let before = services
            services[address] = service
            return before
        }
        service.attach(Link(hub: self, me: address))
        for (peer, other) in others {
            other.peerConnected(address)
            service.peerConnected(peer)
        }
    }
    func leave(_ address: Address) {
        let others = lock.withLock { () -> [PeerService] in
            services[address] = nil
            return Array(services.values)
        }
        for other in others { other.peerDisconnected(address) }
    }
    fileprivate func deliver(_ type: UInt8, _ payload: [UInt8], from: Address, to: Address) -> Bool {
        guard let target = lock.withLock({ services[to] }) else { return false }
        target.received(type: type, payload: payload, from: from)
        return true
    }
    fileprivate var addresses: [Address] { lock.withLock { Array(services.keys) } }

    final class Link: PeerSender, @unchecked Sendable {
        let hub: MemoryPeers, me: Address
        init(hub: MemoryPeers, me: Address) { self.hub = hub; self.me = me }
        func send(to peer: Address, type: UInt8, payload: [UInt8]) -> Bool { hub.deliver(type, payload, from: me, to: peer) }
        func broadcast(type: UInt8, payload: [UInt8], except: Address?) -> Int {
            hub.addresses.filter { $0 != me && $0 != except }.reduce(0) { $0 + (send(to: $1, type: type, payload: payload) ? 1 : 0) }
        }
        var connectedPeerAddresses: [Address] { hub.addresses.filter { $0 != me } }
    }
}

func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { Issue.record("timed out waiting until \(what)"); return }
        try await Task.sleep(for: .milliseconds(20))
    }
}

@Suite(.serialized) struct FileReplicatorTests {
    let admins = [Secp256k1.PrivateKey(), Secp256k1.PrivateKey()]
    let nodeKeys = (0..<3).map { _ in Secp256k1.PrivateKey() }
    let origin = Secp256k1.PrivateKey()

    func chain() throws -> (Node, BlockProducer) {
        let funded = (admins + nodeKeys + [origin]).map { "\"\($0.publicKey.address)\":{\"balance\":\"0x3635c9adc5dea00000\"}" }
        let genesis = #"{"config":{"chainId":77,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x1c9c380","alloc":{"# + funded.joined(separator: ",") + "}}"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-files-\(UUID().uuidString)")
        try Node.initialize(dataDirectory: dir, genesisDocument: Data(genesis.utf8))
        let node = try Node(dataDirectory: dir)
        let producer = BlockProducer(node: node) { error in Issue.record("producer failed: \(error)") }
        producer.start()
        return (node, producer)
    }

    /// 60 leaves of 1 KiB under parents of 8 links.
    func file() -> (root: [UInt8], blocks: [ExchangeBlock]) {
        var level = (0..<60).map { i in TestCodec.block(links: [], payload: [UInt8(i)] + [UInt8](repeating: 0x5a, count: 1024)) }
        var all = level
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 8).map { TestCodec.block(links: level[$0..<min(level.count, $0 + 8)].map(\.cid), payload: []) }
            all += level
        }
        return (level[0].cid, all)
    }

    @Test func anAllocatedNodeFetchesTheWholeFileFromItsPeersAndReportsItHeld() async throws {
        let (node, producer) = try chain()
        defer { producer.stop(); node.close() }
        let (root, blocks) = file()
        // Two organisations; storage nodes 0 and 2 in the first, 1 in the second.
        var orgs: [UInt64] = []
        for (i, admin) in admins.enumerated() {
            orgs.append(try await OrganizationClient(NodeContractCaller(node: node, key: admin)).register(name: "org \(i)").id)
        }
        let peers = MemoryPeers()
        var config = FileReplicator.Configuration()
        config.fetchTimeout = .seconds(2)
        let stores = nodeKeys.map { _ in MemoryStore() }
        let replicators = zip(nodeKeys, stores).map { FileReplicator(node: node, key: $0, store: $1, codec: TestCodec(), configuration: config) }
        let uploader = FileReplicator(node: node, key: origin, store: MemoryStore(blocks), codec: TestCodec(), configuration: config)
        for r in replicators + [uploader] {
            peers.join(r.account, r)
            r.start()
        }
        defer { for r in replicators + [uploader] { r.stop() } }
        // Registered after they started: each sends its first heartbeat when it sees its registration.
        let registryAsAdmin = [FileRegistryClient(NodeContractCaller(node: node, key: admins[0])), FileRegistryClient(NodeContractCaller(node: node, key: admins[1]))]
        for (i, key) in nodeKeys.enumerated() {
            _ = try await registryAsAdmin[i == 1 ? 1 : 0].registerStorageNode(key.publicKey.address, of: orgs[i == 1 ? 1 : 0], capacity: 1 << 30)
        }
        let reader = FileRegistryClient(NodeContractReader(node: node))
        try await waitUntil("every storage node has sent a heartbeat") {
            try nodeKeys.allSatisfy { try reader.storageNode($0.publicKey.address).lastHeartbeat != nil }
        }

        let size = UInt64(blocks.reduce(0) { $0 + $1.data.count })
        let (allocatedNodes, _) = try await registryAsAdmin[0].pin(root, FilePinRequest(size: size, owner: .organization(orgs[0]), minReplicas: 2, maxReplicas: 2))
        // Organisation diversity: one node of each organisation.
        #expect(Set(allocatedNodes.map { a in nodeKeys.firstIndex { $0.publicKey.address == a }! }).contains(1))
        try await waitUntil("both allocated nodes report the file held") {
            try reader.pin(root).holders.filter(\.held).count == 2
        }
        for (i, key) in nodeKeys.enumerated() where allocatedNodes.contains(key.publicKey.address) {
            #expect(stores[i].count == blocks.count)
            #expect(stores[i].pinned == [root])
        }
        let unallocated = nodeKeys.indices.first { !allocatedNodes.contains(nodeKeys[$0].publicKey.address) }!
        #expect(stores[unallocated].count == 0)

        // Unpinned: the holders release it.
        _ = try await registryAsAdmin[0].unpin(root)
        try await waitUntil("the holders unpin it locally") { stores.allSatisfy { $0.pinned.isEmpty } }
    }

    @Test func aReaderFetchesOnDemandAndALyingPeerIsPassedOver() async throws {
        let (node, producer) = try chain()
        defer { producer.stop(); node.close() }
        let (root, blocks) = file()
        let peers = MemoryPeers()
        var config = FileReplicator.Configuration()
        config.fetchTimeout = .seconds(2)
        let liar = LyingPeer(blocks: blocks)
        let honest = FileReplicator(node: node, key: origin, store: MemoryStore(blocks), codec: TestCodec(), configuration: config)
        let store = MemoryStore()
        let reader = FileReplicator(node: node, key: nodeKeys[0], store: store, codec: TestCodec(), configuration: config)
        peers.join(liar.address, liar)
        for r in [honest, reader] {
            peers.join(r.account, r)
            r.start()
        }
        defer { for r in [honest, reader] { r.stop() } }
        try await reader.fetch(root)
        #expect(store.count == blocks.count)
        #expect(blocks.allSatisfy { store.block($0.cid) == $0.data })
        #expect(reader.penalised[liar.address] == 1)
        #expect(store.pinned.isEmpty)  // read on demand, not allocated: not pinned

        await #expect(throws: FileReplicationError.self) { try await reader.fetch(TestCodec.cid([1, 2, 3])) }
    }
}

/// A peer that answers every want with the right CIDs and corrupted bytes.
final class LyingPeer: PeerService, @unchecked Sendable {
    let address = try! Address([UInt8](repeating: 0x11, count: 20))
    let messageTypes: Set<UInt8> = [MessageType.fileWant]
    let blocks: [[UInt8]: [UInt8]]
    var sender: PeerSender?
    init(blocks: [ExchangeBlock]) { self.blocks = Dictionary(uniqueKeysWithValues: blocks.map { ($0.cid, $0.data) }) }
    func attach(_ sender: PeerSender) { self.sender = sender }
    func peerConnected(_ peer: Address) {}
    func peerDisconnected(_ peer: Address) {}
    func received(type: UInt8, payload: [UInt8], from peer: Address) {
        guard case .want(let cids)? = try? ExchangeMessage(type: type, payload: payload) else { return }
        let forged = cids.compactMap { cid in blocks[cid].map { ExchangeBlock(cid: cid, data: $0 + [0]) } }
        let message = ExchangeMessage.blocks(forged)
        _ = sender?.send(to: peer, type: message.type, payload: message.payload)
    }
}

/// Collects imported blocks for a replicator's store.
struct SinkToStore: BlockSink {
    var blocks: [ExchangeBlock] = []
    mutating func put(_ cid: CID, _ block: [UInt8]) throws { blocks.append(ExchangeBlock(cid: cid.bytes, data: block)) }
}

@Suite(.serialized) struct UnixFSReplicationTests {
    @Test(arguments: [ImportProfile.kuboV1, .unixfsV0_2015])
    func aUnixFSFileImportedOnOneNodeIsFetchedWholeByAnotherWithItsCIDsChecked(profile: ImportProfile) async throws {
        let node = try FileReplicatorTests().chain().0
        defer { node.close() }
        var builder = FileBuilder(profile: profile, sink: SinkToStore())
        var generator = SplitMix64(seed: 7)
        let content = (0..<(3 * 262_144 + 1000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try builder.append(content)
        let root = try builder.finish().cid
        let blocks = builder.sink.blocks
        let peers = MemoryPeers()
        let holder = FileReplicator(node: node, key: Secp256k1.PrivateKey(), store: MemoryStore(blocks), codec: IPLDExchangeCodec())
        let store = MemoryStore()
        let reader = FileReplicator(node: node, key: Secp256k1.PrivateKey(), store: store, codec: IPLDExchangeCodec())
        for r in [holder, reader] {
            peers.join(r.account, r)
            r.start()
        }
        defer { for r in [holder, reader] { r.stop() } }
        try await reader.fetch(root.v1.bytes)
        #expect(store.count == Set(blocks.map(\.cid)).count)
        #expect(blocks.allSatisfy { store.block($0.cid) == $0.data })
    }
}

/// A peer that never answers.
final class SilentPeer: PeerService, @unchecked Sendable {
    let address = try! Address([UInt8](repeating: 0x22, count: 20))
    let messageTypes: Set<UInt8> = [MessageType.fileWant]
    func attach(_ sender: PeerSender) {}
    func peerConnected(_ peer: Address) {}
    func peerDisconnected(_ peer: Address) {}
    func received(type: UInt8, payload: [UInt8], from peer: Address) {}
}

@Suite(.serialized) struct ReaderFetchLimitTests {
    @Test func readersFetchesBeyondTheLimitAreRefusedUntilOneEnds() async throws {
        let node = try FileReplicatorTests().chain().0
        defer { node.close() }
        var config = FileReplicator.Configuration()
        config.fetchTimeout = .seconds(1)
        config.maximumReaderFetches = 1
        let peers = MemoryPeers(), silent = SilentPeer()
        let reader = FileReplicator(node: node, key: Secp256k1.PrivateKey(), store: MemoryStore(), codec: TestCodec(), configuration: config)
        peers.join(silent.address, silent)
        peers.join(reader.account, reader)
        reader.start()
        defer { reader.stop() }
        let first = Task { try await reader.fetch(TestCodec.cid([1])) }
        try await waitUntil("the first fetch runs") { !reader.fetching.isEmpty }
        await #expect(throws: FileReplicationError.busy(1)) { try await reader.fetch(TestCodec.cid([2])) }
        await #expect(throws: FileReplicationError.self) { try await first.value }  // the silent peer never answers
        try await waitUntil("the first fetch ended") { reader.fetching.isEmpty }
        // A slot again: the next fetch runs (and fails on its own account: nobody has the block).
        do {
            try await reader.fetch(TestCodec.cid([2]))
            Issue.record("fetched a block nobody has")
        } catch let error as FileReplicationError {
            guard case .fetchFailed = error else { Issue.record("expected a failed fetch, got \(error)"); return }
        }
    }
}
