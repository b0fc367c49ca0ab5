import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage
import Testing

@Suite struct ChainStoreTests {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7])
    static var sender: Address { key.publicKey.address }

    static func tempPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-store-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("chain.sqlite").path
    }

    /// A genesis with one funded sender and a contract that logs and stores its calldata.
    static func genesis() -> Genesis {
        var g = Genesis(config: ChainConfig(chainId: 5))
        g.alloc[sender] = .init(balance: UInt256(10_000_000_000_000_000_000 as UInt64))
        // CALLDATALOAD(0) → SSTORE(slot 1); LOG1(topic = calldata word) with no data.
        let code: [UInt8] = [0x5f, 0x35, 0x60, 0x01, 0x55, 0x5f, 0x35, 0x5f, 0x5f, 0xa1, 0x00]
        g.alloc[Address(word: UInt256(0xc0de))] = .init(code: code, storage: [UInt256(2): UInt256(3)])
        return g
    }

    func call(nonce: UInt64, word: UInt64) -> Transaction {
        Transaction(type: .dynamicFee, chainId: 5, nonce: nonce, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(10_000_000_000),
                    gasLimit: 100_000, to: Address(word: UInt256(0xc0de)), data: UInt256(word).bigEndianBytes)
            .signed(with: Self.key)
    }

    @Test func blocksAndStateSurviveReopeningAndLogsAreIndexed() throws {
        let path = Self.tempPath()
        let genesis = Self.genesis()
        let state = InMemoryState()
        let block0 = genesis.makeBlock(into: state)
        var head = block0.header
        do {
            let store = try ChainStore(path: path)
            try store.initialize(genesisDocument: Data("{}".utf8), block: block0, changes: state.takeChanges())
            let executor = BlockExecutor(config: genesis.config)
            for n in 0..<5 {
                let tx = call(nonce: UInt64(n), word: UInt64(100 + n))
                let built = executor.build(executor.childHeader(of: head, timestamp: UInt64(n + 1), coinbase: .zero),
                                           candidates: [SignedTransaction(tx, sender: Self.sender)], state: state)
                #expect(built.block.transactions.count == 1)
                try store.append(built, changes: state.takeChanges())
                head = built.block.header
            }
            #expect(throws: StoreError.self) { try store.initialize(genesisDocument: Data(), block: block0, changes: StateChanges()) }
        }
        let reopened = try ChainStore(path: path)
        #expect(try reopened.headNumber() == 5)
        let storedHead = try #require(try reopened.header(number: 5))
        #expect(storedHead == head)
        let loaded = InMemoryState()
        try reopened.loadState(into: loaded, head: storedHead)
        #expect(loaded.storage(Address(word: UInt256(0xc0de)), slot: .one) == UInt256(104))
        #expect(loaded.account(Self.sender)?.nonce == 5)

        let third = try #require(try reopened.block(number: 3))
        #expect(third.header == (try reopened.header(number: 3)))
        #expect(try reopened.number(ofHash: third.hash) == 3)
        let location = try #require(try reopened.transactionLocation(third.transactions[0].hash))
        #expect(location.number == 3 && location.index == 0)
        let receipts = try #require(try reopened.receipts(number: 3))
        #expect(receipts.senders == [Self.sender] && receipts.receipts[0].success)

        let topic = UInt256(102).bytes32
        let logs = try reopened.logs(LogFilter(fromBlock: 0, toBlock: 5, topics: [[topic]]))
        #expect(logs.map(\.blockNumber) == [3])
        let all = try reopened.logs(LogFilter(fromBlock: 2, toBlock: 4, addresses: [Address(word: UInt256(0xc0de))]))
        #expect(all.map(\.blockNumber) == [2, 3, 4])
        #expect(try reopened.logs(LogFilter(fromBlock: 0, toBlock: 5, addresses: [Self.sender])).isEmpty)
    }

    @Test func aStateThatDoesNotMatchTheHeadIsReported() throws {
        let path = Self.tempPath()
        let state = InMemoryState()
        let block0 = Self.genesis().makeBlock(into: state)
        let store = try ChainStore(path: path)
        var changes = state.takeChanges()
        changes.accounts[Address(word: UInt256(0xdead))] = AccountInfo(nonce: 1)
        try store.initialize(genesisDocument: Data("{}".utf8), block: block0, changes: changes)
        #expect(throws: StoreError.self) { try store.loadState(into: InMemoryState(), head: block0.header) }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedClearly() throws {
        let path = Self.tempPath()
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ChainStore(path: path)
            Issue.record("opened a file of garbage")
        } catch {
            #expect(error.description.contains(path))
        }
    }
}
