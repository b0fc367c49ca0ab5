import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
@testable import KramaaStorage
import KramaaTestSupport
import Testing

/// Transactions are found by hash whether their block's hashes were folded into the index or
/// still wait in `transaction_batches` (``TransactionIndex``), and after the store is reopened.
@Suite struct TransactionIndexTests {
    /// `count` distinct signed transactions (the hashes differ by nonce).
    static func transactions(_ count: Int) -> [Transaction] {
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7])
        return (0..<count).map { nonce in
            Transaction(type: .dynamicFee, chainId: 5, nonce: UInt64(nonce), maxPriorityFeePerGas: .one,
                        maxFeePerGas: UInt256(10_000_000_000), gasLimit: 21_000, to: Address(word: UInt256(0xbeef)), data: [])
                .signed(with: key)
        }
    }

    static func waitingBatches(_ store: ChainStore) throws -> Int {
        try store.db.read { db in try TransactionIndex.batches.numbers(db: db).count }
    }

    static func indexed(_ store: ChainStore) throws -> Int {
        try store.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions") ?? 0 }
    }

    @Test(arguments: [1, 4, 1_000])
    func everyTransactionIsFoundByHashWhetherFoldedOrWaiting(foldEvery: Int) throws {
        let path = ChainStoreTests.tempPath()
        var store = try ChainStore(path: path, stateFolding: StateFolding(blocks: foldEvery, bytes: 1 << 20))
        var parent = Bytes32.zero
        let genesis = SyntheticLogBlocks.block(number: 0, parent: &parent, transactions: [], logs: [])
        try store.initialize(genesisDocument: Data("{}".utf8), block: genesis.block, changes: StateChanges())
        var pool = Self.transactions(40)[...]
        var included: [(hash: Bytes32, number: UInt64, index: Int)] = []
        let never = Self.transactions(41).last!.hash
        for number in UInt64(1)...13 {
            // Block 5 is empty: it adds no batch.
            let count = number == 5 ? 0 : Int(number % 4) + 1
            let transactions = Array(pool.prefix(count))
            pool = pool.dropFirst(count)
            try store.append(SyntheticLogBlocks.block(number: number, parent: &parent, transactions: transactions,
                                                      logs: transactions.map { _ in [] }), changes: StateChanges())
            for (index, tx) in transactions.enumerated() { included.append((tx.hash, number, index)) }
            for entry in included {
                let location = try #require(try store.transactionLocation(entry.hash), "block \(number): \(entry.hash) not found")
                #expect(location.number == entry.number && location.index == entry.index)
            }
            #expect(try store.transactionLocation(never) == nil)
        }
        // 12 blocks with transactions: every one folded, 12 % 4 = 0 waiting, or none folded.
        let folded = foldEvery <= 12
        #expect(try Self.waitingBatches(store) == (folded ? 0 : 12) && Self.indexed(store) == (folded ? included.count : 0))
        // One more block leaves one batch waiting beside the folded ones (fold every 4).
        let last = Array(pool.prefix(3))
        try store.append(SyntheticLogBlocks.block(number: 14, parent: &parent, transactions: last, logs: last.map { _ in [] }),
                         changes: StateChanges())
        for (index, tx) in last.enumerated() { included.append((tx.hash, 14, index)) }
        store = try ChainStore(path: path, stateFolding: StateFolding(blocks: foldEvery, bytes: 1 << 20))
        for entry in included {
            let location = try #require(try store.transactionLocation(entry.hash), "after reopening: \(entry.hash) not found")
            #expect(location.number == entry.number && location.index == entry.index)
        }
        #expect(try store.transactionLocation(never) == nil)
    }

    @Test func aDamagedBatchIsReportedNotMisread() throws {
        let store = try ChainStore(path: ChainStoreTests.tempPath(), stateFolding: StateFolding(blocks: 16, bytes: 1 << 20))
        var parent = Bytes32.zero
        let genesis = SyntheticLogBlocks.block(number: 0, parent: &parent, transactions: [], logs: [])
        try store.initialize(genesisDocument: Data("{}".utf8), block: genesis.block, changes: StateChanges())
        let txs = Self.transactions(2)
        try store.append(SyntheticLogBlocks.block(number: 1, parent: &parent, transactions: txs, logs: [[], []]), changes: StateChanges())
        try store.db.write { db in try db.execute(sql: "UPDATE transaction_batches SET entries = X'0102'") }
        #expect(throws: StoreError.self) { try store.transactionLocation(txs[1].hash) }
    }
}
