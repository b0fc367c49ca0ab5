import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage
import KramaaTestSupport
import Testing

/// Log queries answered through the index against a brute-force scan of the same blocks, on
/// random logs and random filters (addresses, OR-lists, wildcards by nil and by an empty list,
/// values no log has, ranges, the result limit).
@Suite struct LogIndexTests {
    /// A store holding genesis and `count` random blocks, and those blocks' logs.
    static func chain(seed: UInt64, count: Int, folding: StateFolding = .standard) throws -> (ChainStore, [[LocatedLog]]) {
        let store = try ChainStore(path: ChainStoreTests.tempPath(), stateFolding: folding)
        var blocks = SyntheticLogBlocks(seed: seed)
        var parent = Bytes32.zero
        let genesis = SyntheticLogBlocks.block(number: 0, parent: &parent, transactions: [], logs: [])
        try store.initialize(genesisDocument: Data("{}".utf8), block: genesis.block, changes: StateChanges())
        var logs: [[LocatedLog]] = [[]]
        for n in 1...UInt64(count) {
            let executed = blocks.block(number: n)
            try store.append(executed, changes: StateChanges())
            logs.append(LocatedLog.locate(block: executed.block, receipts: executed.receipts))
        }
        return (store, logs)
    }

    /// A random filter over the generator's contracts and topic values, with some values no
    /// log has and every kind of wildcard.
    static func filter(_ random: inout SplitMix64, blocks: Int, generator: SyntheticLogBlocks) -> LogFilter {
        func pick<T>(_ values: [T], upTo n: Int) -> [T] { (0..<Int(random.next() % UInt64(n + 1))).map { _ in values[Int(random.next() % UInt64(values.count))] } }
        let from = random.next() % UInt64(blocks + 2)
        let to = from + random.next() % UInt64(blocks + 2)
        let addresses = random.next() % 3 == 0 ? [] : pick(generator.contracts + [Address(word: UInt256(0xdead))], upTo: 3)
        let topics: [[Bytes32]?] = (0..<Int(random.next() % 5)).map { _ in
            switch random.next() % 4 {
            case 0: nil
            case 1: []
            default: pick(generator.topicValues + [UInt256(0xbeef).bytes32], upTo: 3)
            }
        }
        return LogFilter(fromBlock: from, toBlock: to, addresses: addresses, topics: topics)
    }

    /// What the filter selects, by reading every block in its range.
    static func scan(_ logs: [[LocatedLog]], _ filter: LogFilter) -> [LocatedLog] {
        guard filter.fromBlock < UInt64(logs.count) else { return [] }
        return logs[Int(filter.fromBlock)...Int(min(filter.toBlock, UInt64(logs.count - 1)))].flatMap { $0.filter { filter.matches($0.log) } }
    }

    /// Folded every block, every 16 (the last 12 blocks' keys still wait in `log_batches`), and
    /// never (every block's keys wait).
    @Test(arguments: [1, 16, 1_000])
    func indexedAnswersEqualAScanOnRandomLogs(foldEvery: Int) throws {
        let generator = SyntheticLogBlocks(seed: 11)
        let (store, logs) = try Self.chain(seed: 11, count: 300, folding: StateFolding(blocks: foldEvery, bytes: 1 << 20))
        var random = SplitMix64(seed: 5)
        var nonEmpty = 0
        for _ in 0..<600 {
            let filter = Self.filter(&random, blocks: 300, generator: generator)
            let expected = Self.scan(logs, filter)
            let limit = random.next() % 4 == 0 ? Int(random.next() % 40) : 10_000
            if expected.count > limit {
                #expect(throws: StoreError.tooManyResults(limit: limit), "\(filter)") { try store.logs(filter, limit: limit) }
            } else {
                #expect(try store.logs(filter, limit: limit) == expected, "\(filter)")
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        #expect(nonEmpty > 100, "the random filters should often match something")
    }

    @Test func topicPositionsFollowGeth() throws {
        let (store, _) = try Self.chain(seed: 3, count: 1)
        var parent = try #require(try store.header(number: 1)).hash
        let a = UInt256(0xa).bytes32, b = UInt256(0xb).bytes32
        let contract = Address(word: UInt256(0xc0de))
        let one = Log(address: contract, topics: [a], data: []), two = Log(address: contract, topics: [a, b], data: [])
        let block = SyntheticLogBlocks.block(number: 2, parent: &parent, transactions: [SyntheticLogBlocks.transactions[0]], logs: [[one, two]])
        try store.append(block, changes: StateChanges())
        func found(_ topics: [[Bytes32]?]) throws -> [[Bytes32]] {
            try store.logs(LogFilter(fromBlock: 2, toBlock: 2, addresses: [contract], topics: topics)).map(\.log.topics)
        }
        #expect(try found([[a]]) == [[a], [a, b]])
        #expect(try found([[a], nil]) == [[a, b]], "a wildcard position still needs the log to have that topic")
        #expect(try found([nil, [b]]) == [[a, b]])
        #expect(try found([[b, a], []]) == [[a, b]])
        #expect(try found([[b]]) == [])
        #expect(try found([nil, nil, nil]) == [])
    }

    /// A database indexed the old way (addresses and first topics, table `logs`) is reindexed
    /// when opened, and answers as a fresh one does.
    @Test func anOldDatabaseIsReindexedWhenOpened() throws {
        let generator = SyntheticLogBlocks(seed: 21)
        let (store, logs) = try Self.chain(seed: 21, count: 120)
        let path = store.path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                DROP TABLE log_keys; DROP TABLE log_blocks; DROP TABLE log_batches;
                CREATE TABLE logs(number INTEGER NOT NULL, log_index INTEGER NOT NULL, address BLOB NOT NULL,
                                  topic0 BLOB, PRIMARY KEY(number, log_index)) WITHOUT ROWID;
                DELETE FROM grdb_migrations WHERE identifier LIKE 'v4%' OR identifier LIKE 'v7%';
                """)
        }
        try queue.close()
        let reopened = try ChainStore(path: path)
        var random = SplitMix64(seed: 8)
        for _ in 0..<200 {
            let filter = Self.filter(&random, blocks: 120, generator: generator)
            #expect(try reopened.logs(filter, limit: 1_000_000) == Self.scan(logs, filter), "\(filter)")
        }
    }
}
