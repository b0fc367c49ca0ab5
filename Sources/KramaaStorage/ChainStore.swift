import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// The chain on disk: SQLite through GRDB in WAL mode. Headers, bodies, receipts, a
/// transaction index, a log index (`LogIndex`) and the flat world state (accounts, storage, code),
/// which catches up with the head every few blocks from per-block change records (`StateFolding`).
/// A block and the state changes it made are written in one SQLite transaction with
/// `synchronous=FULL`, so a block reported as stored survives kill -9 and power loss.
public final class ChainStore: Sendable {
    public let path: String
    let db: DatabasePool
    /// When the flat state tables catch up with the head (``StateFolding``).
    public let stateFolding: StateFolding
    /// Decoded logs of recently read blocks: at most 256 blocks and 100,000 logs (about 30 MB
    /// of Transfer-sized logs), so a few full blocks cannot hold hundreds of megabytes.
    let logCache = BlockCache<[LocatedLog]>(capacity: 256, maxWeight: 100_000) { $0.count }
    /// The transaction hashes waiting to be folded into their index, as lookups last read them.
    let waitingTransactions = WaitingTransactions()

    /// The writer connection's page cache, in KiB (an upper bound: SQLite fills it as pages are used).
    static let writerCacheKiB = 32 * 1024

    /// Opens (creating if needed) the database at `path`, migrates it, and checks it.
    public init(path: String, stateFolding: StateFolding = .standard) throws(StoreError) {
        self.path = path
        self.stateFolding = stateFolding
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The writer inserts at random places of large indexes (transactions by hash, storage
            // by slot): with SQLite's default 2 MiB page cache nearly every insert reads its leaf
            // page back from the file. Readers keep the default.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)") }
        }
        do {
            db = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        do {
            let check = try db.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            if check != "ok" { throw StoreError.corrupt(path: path, reason: check ?? "quick_check gave nothing") }
            try Self.migrator.migrate(db)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .corrupt(path: path, reason: "\(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE headers(number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, rlp BLOB NOT NULL);
                CREATE TABLE bodies(number INTEGER PRIMARY KEY, rlp BLOB NOT NULL);
                CREATE TABLE receipts(number INTEGER PRIMARY KEY, rlp BLOB NOT NULL);
                CREATE TABLE transactions(hash BLOB PRIMARY KEY, number INTEGER NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE logs(number INTEGER NOT NULL, log_index INTEGER NOT NULL, address BLOB NOT NULL,
                                  topic0 BLOB, PRIMARY KEY(number, log_index)) WITHOUT ROWID;
                CREATE INDEX logs_by_address ON logs(address, number);
                CREATE INDEX logs_by_topic0 ON logs(topic0, number);
                CREATE TABLE accounts(address BLOB PRIMARY KEY, nonce INTEGER NOT NULL, balance BLOB NOT NULL,
                                      code_hash BLOB NOT NULL) WITHOUT ROWID;
                CREATE TABLE storage(address BLOB NOT NULL, slot BLOB NOT NULL, value BLOB NOT NULL,
                                     PRIMARY KEY(address, slot)) WITHOUT ROWID;
                CREATE TABLE code(hash BLOB PRIMARY KEY, bytes BLOB NOT NULL) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2: undo records") { db in
            try db.execute(sql: "CREATE TABLE undo(number INTEGER PRIMARY KEY, rlp BLOB NOT NULL)")
        }
        m.registerMigration("v3: commit certificates") { db in
            try db.execute(sql: "CREATE TABLE certificates(number INTEGER PRIMARY KEY, rlp BLOB NOT NULL)")
        }
        m.registerMigration("v4: log index by address and every topic position") { db in
            try LogIndex.create(db: db)
            try db.execute(sql: "DROP TABLE logs")
        }
        m.registerMigration("v5: state change records folded into the flat state") { db in
            try StateChangeLog.create(db: db)
        }
        m.registerMigration("v6: transaction hashes folded into their index") { db in
            try TransactionIndex.batches.create(db: db)
        }
        m.registerMigration("v7: log keys folded into their index") { db in
            try LogIndex.batches.create(db: db)
        }
        return m
    }

    /// How many recent blocks keep their undo records (the state before them stays readable).
    public static let undoDepth: UInt64 = 128

    // MARK: Writing

    /// Stores the genesis document, block 0 and the genesis state; fails if a chain is there.
    public func initialize(genesisDocument: Data, block: Block, changes: StateChanges) throws(StoreError) {
        try write { db in
            if try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'genesis'") != nil {
                throw StoreError.alreadyInitialized(path: self.path)
            }
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('genesis', ?)", arguments: [genesisDocument])
            try Self.insert(block: block, receipts: StoredReceipts(receipts: [], senders: [], outcomes: []), folding: stateFolding, db: db)
            try Self.apply(changes, db: db)
        }
    }

    /// Appends an executed block and the state changes it made, atomically.
    /// `certificate` is the consensus commit certificate that finalised the block, if any.
    /// `keepUndo`: how many recent blocks keep their undo records (nil: every block, an archive node).
    public func append(_ executed: ExecutedBlock, changes: StateChanges, certificate: [UInt8]? = nil,
                       keepUndo: UInt64? = ChainStore.undoDepth) throws(StoreError) {
        try write { db in
            let stored = StoredReceipts(receipts: executed.receipts, senders: executed.senders, outcomes: executed.outcomes)
            try Self.insert(block: executed.block, receipts: stored, transactionHashes: executed.transactionHashes, folding: self.stateFolding, db: db)
            let n = executed.block.number
            try StateChangeLog.append(changes, number: n, folding: self.stateFolding, db: db)
            if let certificate {
                try db.execute(sql: "INSERT INTO certificates(number, rlp) VALUES (?, ?)", arguments: [Int64(n), Data(certificate)])
            }
            try db.execute(sql: "INSERT INTO undo(number, rlp) VALUES (?, ?)", arguments: [Int64(n), Data(changes.undo.encoded)])
            if let keep = keepUndo, n > keep {
                try db.execute(sql: "DELETE FROM undo WHERE number <= ?", arguments: [Int64(n - keep)])
            }
        }
    }

    private func write(_ body: (Database) throws -> Void) throws(StoreError) {
        do {
            try db.write { db in try body(db) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .write("\(error)")
        }
    }

    /// `transactionHashes`: those of `block.transactions` when the caller has them.
    static func insert(block: Block, receipts: StoredReceipts, transactionHashes: [Bytes32]? = nil, folding: StateFolding, db: Database) throws {
        let n = Int64(block.number)
        let hash = block.hash
        try db.execute(sql: "INSERT INTO headers(number, hash, rlp) VALUES (?, ?, ?)",
                       arguments: [n, Data(hash.bytes), Data(block.header.encoded)])
        try db.execute(sql: "INSERT INTO bodies(number, rlp) VALUES (?, ?)", arguments: [n, Data(block.encodedBody)])
        try db.execute(sql: "INSERT INTO receipts(number, rlp) VALUES (?, ?)", arguments: [n, Data(receipts.encoded)])
        try TransactionIndex.append(transactionHashes ?? block.transactions.map(\.hash), number: block.number, folding: folding, db: db)
        try LogIndex.insert(number: block.number, receipts: receipts.receipts, folding: folding, db: db)
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('head', ?)", arguments: [Data(String(n).utf8)])
    }

    /// Writes state changes straight into the flat tables (the genesis state, a snapshot's, a fold).
    static func apply(_ changes: StateChanges, db: Database) throws {
        try insertCode(changes.code, db: db)
        try applyFlat(changes, db: db)
    }

    /// New code, by hash.
    static func insertCode(_ code: [Bytes32: [UInt8]], db: Database) throws {
        for (hash, bytes) in code {
            try db.execute(sql: "INSERT OR IGNORE INTO code(hash, bytes) VALUES (?, ?)", arguments: [Data(hash.bytes), Data(bytes)])
        }
    }

    /// Writes changed accounts and slots, one row each, in key order (the order of the tables'
    /// B-trees, so consecutive writes share pages), through statements prepared once per
    /// connection: cleared storages first, then accounts, then slots.
    static func applyFlat(_ changes: StateChanges, db: Database) throws {
        for address in changes.clearedStorage.sorted() {
            try db.execute(sql: "DELETE FROM storage WHERE address = ?", arguments: [Data(address.bytes)])
        }
        let putAccount = try db.cachedStatement(sql: "INSERT OR REPLACE INTO accounts(address, nonce, balance, code_hash) VALUES (?, ?, ?, ?)")
        let deleteAccount = try db.cachedStatement(sql: "DELETE FROM accounts WHERE address = ?")
        for (address, info) in changes.accounts.sorted(by: { $0.key < $1.key }) {
            let key = Data(address.bytes)
            if let info {
                try putAccount.execute(arguments: [key, Int64(bitPattern: info.nonce), Data(info.balance.bigEndianBytes), Data(info.codeHash.bytes)])
            } else {
                try deleteAccount.execute(arguments: [key])
            }
        }
        let putSlot = try RowStatement(db, sql: "INSERT OR REPLACE INTO storage(address, slot, value) VALUES (?, ?, ?)")
        let deleteSlot = try RowStatement(db, sql: "DELETE FROM storage WHERE address = ? AND slot = ?")
        for (address, slots) in changes.storage.sorted(by: { $0.key < $1.key }) {
            try address.withUnsafeBytes { key in
                for (slot, value) in slots.sorted(by: { $0.key < $1.key }) {
                    try slot.bytes32.withUnsafeBytes { slot in
                        if value.isZero {
                            try deleteSlot.run(key, slot)
                        } else {
                            try value.bytes32.withUnsafeBytes { value in try putSlot.run(key, slot, value) }
                        }
                    }
                }
            }
        }
    }
}

/// A small cache of per-block answers, keyed by block number; the oldest numbers go first.
/// Bounded by entries and by total weight (what `weight` says an entry costs, e.g. its logs).
final class BlockCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [UInt64: Value] = [:]
    private var totalWeight = 0
    private let capacity: Int
    private let maxWeight: Int
    private let weight: (Value) -> Int

    init(capacity: Int, maxWeight: Int = .max, weight: @escaping (Value) -> Int = { _ in 1 }) {
        self.capacity = capacity
        self.maxWeight = maxWeight
        self.weight = weight
    }

    func get(_ number: UInt64) -> Value? { lock.withLock { entries[number] } }

    /// Keeps `value` unless it alone passes the weight bound, dropping the oldest numbers
    /// until it fits.
    func put(_ number: UInt64, _ value: Value) {
        let cost = weight(value)
        guard cost <= maxWeight else { return }
        lock.withLock {
            if let old = entries.removeValue(forKey: number) { totalWeight -= weight(old) }
            while !entries.isEmpty && (entries.count >= capacity || totalWeight + cost > maxWeight), let oldest = entries.keys.min() {
                totalWeight -= weight(entries.removeValue(forKey: oldest)!)
            }
            entries[number] = value
            totalWeight += cost
        }
    }
}
