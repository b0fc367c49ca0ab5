import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
@testable import KramaaStorage
import Testing

/// The flat state tables lag the head by the change records not yet folded (`StateFolding`);
/// whatever the fold, the head's state read back must be the state the blocks made.
@Suite struct StateFoldingTests {
    /// One block's worth of random changes on `truth`: slot writes (some to zero), balances,
    /// nonces and new code through a `JournaledState`, empty accounts deleted, and now and then
    /// an account's storage replaced whole.
    static func randomBlock(_ truth: InMemoryState, _ rng: inout SplitMix64, addresses: [Address]) {
        let journaled = JournaledState(backend: truth)
        for _ in 0..<Int.random(in: 2...6, using: &rng) {
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let address = addresses.randomElement(using: &rng)!
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<5:
                    let value = Bool.random(using: &rng) && Int.random(in: 0..<3, using: &rng) == 0 ? UInt256.zero : UInt256(rng.next())
                    journaled.setStorage(address, UInt256(UInt64.random(in: 0..<12, using: &rng)), value)
                    if journaled.isDead(address) { journaled.setNonce(address, 1) }
                case 5, 6: journaled.setBalance(address, UInt256(UInt64.random(in: 1...1_000, using: &rng)))
                case 7: journaled.setNonce(address, journaled.nonce(address) + 1)
                case 8 where journaled.codeHash(address) == AccountInfo.emptyCodeHash:
                    journaled.setCode(address, [0x60, UInt8.random(in: 0...255, using: &rng), 0x00])
                default:
                    // An account left empty (nonce 0, no balance, no code) is deleted (EIP-161).
                    if journaled.codeHash(address) == AccountInfo.emptyCodeHash {
                        journaled.setNonce(address, 0)
                        journaled.setBalance(address, .zero)
                        journaled.touch(address)
                    }
                }
            }
            _ = journaled.finishTransaction()
        }
        truth.commit(journaled)
        if Int.random(in: 0..<4, using: &rng) == 0 {
            let address = addresses.randomElement(using: &rng)!
            truth.set(address, nonce: 3, balance: UInt256(77), code: [], storage: [UInt256(100): UInt256(rng.next() | 1)])
        }
    }

    static func open(_ folding: StateFolding) throws -> ChainStore {
        try ChainStore(path: ChainStoreTests.tempPath(), stateFolding: folding)
    }

    static func headState(_ store: ChainStore) throws -> InMemoryState {
        let state = InMemoryState()
        try store.db.read { db in try ChainStore.loadFlatState(db: db, into: state) }
        return state
    }

    static func pendingRecords(_ store: ChainStore) throws -> Int {
        try store.db.read { db in try StateChangeLog.size(db: db).records }
    }

    @Test func theHeadsStateIsTheTablesWithTheRecordsNotYetFoldedWhateverTheFold() throws {
        var rng = SplitMix64(seed: 21)
        let addresses = (1...12).map { Address(word: UInt256(UInt64($0) * 0x1_0001)) }
        let truth = InMemoryState()
        let everyBlock = try Self.open(StateFolding(blocks: 1, bytes: 1 << 20))
        let everyThird = try Self.open(StateFolding(blocks: 3, bytes: 1 << 20))
        let bySize = try Self.open(StateFolding(blocks: 1_000, bytes: 1_500))
        var deleted = 0, cleared = 0, zeroed = 0, sizeFolds = 0, sizePendingMax = 0
        for number in 1...40 as ClosedRange<UInt64> {
            Self.randomBlock(truth, &rng, addresses: addresses)
            let changes = truth.takeChanges()
            deleted += changes.accounts.values.filter { $0 == nil }.count
            cleared += changes.clearedStorage.count
            zeroed += changes.storage.values.reduce(0) { $0 + $1.values.filter(\.isZero).count }
            let bySizeBefore = try Self.pendingRecords(bySize)
            for store in [everyBlock, everyThird, bySize] {
                try store.db.write { db in try StateChangeLog.append(changes, number: number, folding: store.stateFolding, db: db) }
                #expect(try Self.headState(store).stateRoot == truth.stateRoot, "block \(number), folding \(store.stateFolding)")
            }
            #expect(try Self.pendingRecords(everyBlock) == 0)
            #expect(try Self.pendingRecords(everyThird) == Int(number % 3))
            let bySizeAfter = try Self.pendingRecords(bySize)
            if bySizeAfter == 0 { sizeFolds += 1 } else { #expect(bySizeAfter == bySizeBefore + 1) }
            sizePendingMax = max(sizePendingMax, bySizeAfter)
        }
        // The generator did what the test is about: deletions, cleared storages and zeroed slots,
        // and the size bound folded several records at a time.
        #expect(deleted > 0 && cleared > 0 && zeroed > 0, "deleted \(deleted), cleared \(cleared), zeroed \(zeroed)")
        #expect(sizeFolds >= 2 && sizePendingMax >= 2, "folds \(sizeFolds), most records pending \(sizePendingMax)")
    }

    @Test func aStoreReopenedBetweenFoldsLoadsTheHeadAndOlderStates() throws {
        let path = ChainStoreTests.tempPath()
        let genesis = ChainStoreTests.genesis()
        let state = InMemoryState()
        let block0 = genesis.makeBlock(into: state)
        var headers = [block0.header]
        do {
            let store = try ChainStore(path: path, stateFolding: StateFolding(blocks: 4, bytes: 1 << 20))
            try store.initialize(genesisDocument: Data("{}".utf8), block: block0, changes: state.takeChanges())
            let executor = BlockExecutor(config: genesis.config)
            for n in 0..<6 {
                let tx = ChainStoreTests().call(nonce: UInt64(n), word: UInt64(500 + n))
                let built = executor.build(executor.childHeader(of: headers.last!, timestamp: UInt64(n + 1), coinbase: .zero),
                                           candidates: [SignedTransaction(tx, sender: ChainStoreTests.sender)], state: state)
                try store.append(built, changes: state.takeChanges())
                headers.append(built.block.header)
            }
            #expect(try Self.pendingRecords(store) == 2)  // blocks 5 and 6: folded at 4
        }
        let reopened = try ChainStore(path: path)  // the standard folding now: the records stay valid
        let loaded = InMemoryState()
        try reopened.loadState(into: loaded, head: headers[6])
        #expect(loaded.storage(Address(word: UInt256(0xc0de)), slot: UInt256(1)) == UInt256(505))
        for height in [6, 5, 3] as [UInt64] {
            let source = try reopened.snapshotSource(at: height)
            #expect(source.state.stateRoot == headers[Int(height)].stateRoot, "state of block \(height)")
        }
    }

    @Test func aDamagedChangeRecordIsReportedWithItsBlockAndChangesNothing() throws {
        let store = try Self.open(StateFolding(blocks: 8, bytes: 1 << 20))
        let truth = InMemoryState()
        truth.set(Address(word: UInt256(9)), nonce: 1, balance: UInt256(5), code: [], storage: [UInt256(1): UInt256(2)])
        try store.db.write { db in try StateChangeLog.append(truth.takeChanges(), number: 1, folding: store.stateFolding, db: db) }
        try store.db.write { db in try db.execute(sql: "INSERT INTO state_changes(number, rlp) VALUES (2, x'c3010203')") }
        let error = #expect(throws: StoreError.self) { try Self.headState(store) }
        #expect("\(error!)".contains("state change record of block 2"), "\(error!)")
        #expect(try Self.pendingRecords(store) == 2)
        let slots = try store.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM storage") }
        #expect(slots == 0)
    }
}
