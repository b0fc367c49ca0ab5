import Foundation
import GRDB
import KramaaChain
@testable import KramaaNode
import KramaaPrimitives
import KramaaTrie
import Testing

/// A produced block is written to the database outside the node's lock: what the node answers
/// meanwhile, and what a write that fails leaves behind.
@Suite struct BlockStorageTests {
    static let recipient = "0x00000000000000000000000000000000000000aa"

    static func freshNode() throws -> (Node, URL) {
        let dir = NodeTests.freshDirectory()
        try Node.initialize(dataDirectory: dir, genesisDocument: NodeTests.genesisDocument())
        return (try Node(dataDirectory: dir), dir)
    }

    @Test func aBlockTheDatabaseRefusesLeavesHeadStateAndPoolAsTheyWere() throws {
        let (node, dir) = try Self.freshNode()
        let sender = NodeTests.key.publicKey.address
        _ = try node.accept(raw: NodeTests().tx(0, to: Self.recipient))
        let head = node.latest
        let balance = node.withState { s, _ in s.account(sender)?.balance }
        // Another connection holds the database's write lock: the block cannot be stored.
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true  // the transaction stays open between the two accesses
        let other = try DatabaseQueue(path: dir.appendingPathComponent("chain.sqlite").path, configuration: holding)
        try other.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
        #expect(throws: NodeError.self) { try node.produceBlock(timestamp: 10, allowEmpty: false) }
        #expect(node.latest == head)
        #expect(node.withState { s, _ in s.stateRoot } == head.stateRoot)
        #expect(node.withState { s, _ in s.account(sender)?.balance } == balance)
        #expect(node.pendingNonce(sender) == 1, "the transaction is still in the pool")
        #expect(try node.proof(sender, slots: []).1 == head)
        // Once the lock is gone the same transaction goes into the next block.
        try other.inDatabase { try $0.execute(sql: "ROLLBACK") }
        let stored = try #require(try node.produceBlock(timestamp: 11, allowEmpty: false))
        #expect(stored.block.transactions.count == 1)
        #expect(node.latest.number == 1)
        #expect(node.withState { s, _ in s.stateRoot } == node.latest.stateRoot)
    }

    /// Proofs asked for while blocks are produced (some while one is being written) always
    /// verify against the state root of the header they come with.
    @Test func proofsDuringBlockProductionMatchTheHeaderTheyName() throws {
        let (node, _) = try Self.freshNode()
        let sender = NodeTests.key.publicKey.address
        let blocks = 40
        let producer = Thread {
            for n in 0..<blocks {
                _ = try? node.accept(raw: NodeTests().tx(UInt64(n), to: Self.recipient))
                _ = try? node.produceBlock(timestamp: UInt64(100 + n), allowEmpty: false)
            }
        }
        producer.start()
        var checked = 0, numbers = Set<UInt64>()
        // A pause between proofs, so the reader does not starve the producer of the lock.
        while !producer.isFinished {
            let (proof, header) = try node.proof(sender, slots: [])
            let leaf = try #require(try SecureTrie.verifyProof(root: header.stateRoot, key: Array(sender.bytes), proof: proof.accountProof),
                                    "block \(header.number): no account in the proof")
            var account = RLPReader(leaf)
            var fields = try account.readList()
            #expect(try fields.readUInt64() == proof.info.nonce)
            #expect(try fields.readUInt256() == proof.info.balance)
            #expect(proof.info.nonce == header.number, "one transaction per block from this sender")
            checked += 1
            numbers.insert(header.number)
            usleep(100)
        }
        #expect(node.latest.number == UInt64(blocks))
        #expect(numbers.count > 1, "proofs were asked for across blocks")
    }

    /// Blocks asked for from several threads at once are built and stored one after the other.
    @Test func concurrentProductionStoresEveryBlockInTurn() throws {
        let (node, _) = try Self.freshNode()
        for n in 0..<20 { _ = try node.accept(raw: NodeTests().tx(UInt64(n), to: Self.recipient)) }
        let threads = (0..<2).map { t in
            Thread { for n in 0..<10 { _ = try? node.produceBlock(timestamp: UInt64(100 + 10 * t + n), allowEmpty: true) } }
        }
        threads.forEach { $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(1_000) }
        #expect(node.latest.number == 20)
        #expect(node.withState { s, _ in s.stateRoot } == node.latest.stateRoot)
        var included = 0
        for n in 1...20 as ClosedRange<UInt64> { included += try node.block(number: n)?.transactions.count ?? 0 }
        #expect(included == 20)
    }

    /// The table of transactions checked ahead gives each back once and starts again empty
    /// past its bound on bytes.
    @Test func preparedTransactionsAreTakenOnceAndBounded() throws {
        let table = PreparedTransactions()
        let signed = try TxPool.check(try Transaction.decode(NodeTests().tx(0, to: Self.recipient)), encodedSize: 100,
                                      chain: ChainConfig(chainId: 77), config: TxPoolConfig())
        let first = Bytes32(UInt256(1)), second = Bytes32(UInt256(2))
        table.put(first, signed, size: 100)
        #expect(table.take(first)?.hash == signed.hash)
        #expect(table.take(first) == nil, "taken once")
        table.put(first, signed, size: PreparedTransactions.maxBytes - 10)
        table.put(second, signed, size: 20)  // past the bound: the first goes
        #expect(table.take(first) == nil)
        #expect(table.take(second) != nil)
    }

    /// Blocks a validator commits keep their undo records as the node's history setting says:
    /// an archive node can read the state of blocks older than the ones memory holds.
    @Test func committedBlocksKeepTheHistoryTheNodeIsSetTo() throws {
        let (node, _) = try Self.freshNode()
        node.historyRetention = nil  // archive
        for n in 0..<(Node.historyDepth + 3) {
            let block = try #require(node.propose(timestamp: 100 + n, coinbase: .zero, allowEmpty: true))
            _ = try node.commit(block, certificate: [0xc0])
        }
        #expect(node.latest.number == Node.historyDepth + 3)
        #expect(try node.withState(at: 1) { _, header in header.number } == 1)
    }

    /// A node made an archive node after it pruned says which state is its oldest, not how many
    /// blocks it keeps (it keeps them all from now on).
    @Test func anArchiveNodeThatPrunedBeforeNamesItsOldestState() throws {
        let (node, _) = try Self.freshNode()
        node.historyRetention = 2
        for n in 0..<(Node.historyDepth + 3) {
            let block = try #require(node.propose(timestamp: 100 + n, coinbase: .zero, allowEmpty: true))
            _ = try node.commit(block, certificate: [0xc0])
        }
        node.historyRetention = nil  // archive from now on
        do {
            _ = try node.withState(at: 1) { _, header in header.number }
            Issue.record("block 1's state was pruned, yet it was served")
        } catch {
            let text = "\(error)"
            #expect(text.contains("historical state not available: block 1 is older than the oldest state this archive node holds"), "\(text)")
            #expect(!text.contains("\(Int.max)"))
        }
    }
}
