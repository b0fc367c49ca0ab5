import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

extension ChainStore {
    private func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try db.read { db in try body(db) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .decode("\(error)")
        }
    }

    /// The genesis document the chain was initialised with, nil for an empty database.
    public func genesisDocument() throws(StoreError) -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'genesis'") }
    }

    /// The highest stored block number.
    public func headNumber() throws(StoreError) -> UInt64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(number) FROM headers").map { UInt64($0) } }
    }

    public func header(number: UInt64) throws(StoreError) -> BlockHeader? {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT rlp FROM headers WHERE number = ?", arguments: [Int64(number)])
                .map { try BlockHeader.decode(Array($0)) }
        }
    }

    /// The hashes of the stored blocks numbered `range`, in order (the history accumulator's leaves).
    public func blockHashes(_ range: Range<UInt64>) throws(StoreError) -> [Bytes32] {
        try read { db in
            try Data.fetchAll(db, sql: "SELECT hash FROM headers WHERE number >= ? AND number < ? ORDER BY number",
                              arguments: [Int64(range.lowerBound), Int64(range.upperBound)]).map { try Bytes32(Array($0)) }
        }
    }

    public func number(ofHash hash: Bytes32) throws(StoreError) -> UInt64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT number FROM headers WHERE hash = ?", arguments: [Data(hash.bytes)]).map { UInt64($0) }
        }
    }

    public func block(number: UInt64) throws(StoreError) -> Block? {
        guard let header = try header(number: number) else { return nil }
        let body = try read { db in
            try Data.fetchOne(db, sql: "SELECT rlp FROM bodies WHERE number = ?", arguments: [Int64(number)])
        }
        guard let body else { throw .decode("block \(number) has a header but no body") }
        do {
            return Block(header: header, transactions: try Block.decodeBody(Array(body)))
        } catch {
            throw .decode("body of block \(number): \(error)")
        }
    }

    public func receipts(number: UInt64) throws(StoreError) -> StoredReceipts? {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT rlp FROM receipts WHERE number = ?", arguments: [Int64(number)])
                .map { try StoredReceipts.decode(Array($0)) }
        }
    }

    /// The undo records kept for blocks `first ... last` (all kept ones by default), by block number.
    public func undoRecords(from first: UInt64 = 0, through last: UInt64 = UInt64(Int64.max)) throws(StoreError) -> [UInt64: StateUndo] {
        try read { db in
            var out: [UInt64: StateUndo] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT number, rlp FROM undo WHERE number BETWEEN ? AND ?",
                                        arguments: [Int64(first), Int64(min(last, UInt64(Int64.max)))]) {
                out[UInt64(row["number"] as Int64)] = try StateUndo.decode(Array(row["rlp"] as Data))
            }
            return out
        }
    }

    /// The oldest block whose undo record is kept (the state before it is the oldest readable), if any.
    public func oldestUndo() throws(StoreError) -> UInt64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MIN(number) FROM undo").map(UInt64.init) }
    }

    /// The commit certificate stored with block `number`, if any.
    public func certificate(number: UInt64) throws(StoreError) -> [UInt8]? {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT rlp FROM certificates WHERE number = ?", arguments: [Int64(number)]).map { Array($0) }
        }
    }

    /// Where a transaction was included: block number and index.
    public func transactionLocation(_ hash: Bytes32) throws(StoreError) -> (number: UInt64, index: Int)? {
        try read { db in try TransactionIndex.location(hash, waiting: waitingTransactions, db: db) }
    }

    /// Logs matching `filter`, in chain order. The log index (`LogIndex`) gives the blocks that
    /// can hold a match; only their logs are read and matched. More than `limit` matches
    /// throw `tooManyResults`.
    public func logs(_ filter: LogFilter, limit: Int = 10_000) throws(StoreError) -> [LocatedLog] {
        let from = Int64(min(filter.fromBlock, UInt64(Int64.max))), to = Int64(min(filter.toBlock, UInt64(Int64.max)))
        let numbers = try read { db in try LogIndex.candidates(filter, from: from, to: to, db: db) }
        var out: [LocatedLog] = []
        for n in numbers {
            let logs = try locatedLogs(number: UInt64(n))
            // Every log of the block often matches (a block's Transfer events by token address):
            // the cached array is then shared, not copied log by log.
            if out.isEmpty && logs.allSatisfy({ filter.matches($0.log) }) { out = logs } else { out += logs.filter { filter.matches($0.log) } }
            if out.count > limit { throw .tooManyResults(limit: limit) }
        }
        return out
    }

    /// Every log of block `number` with its position; recent blocks' answers are cached
    /// (blocks never change once stored).
    /// The block is read in one query and not decoded: its hash is the stored one and its
    /// transactions are only hashed.
    public func locatedLogs(number: UInt64) throws(StoreError) -> [LocatedLog] {
        if let cached = logCache.get(number) { return cached }
        let logs = try read { db -> [LocatedLog] in
            let sql = "SELECT h.hash, b.rlp AS body, r.rlp AS receipts FROM headers h JOIN bodies b ON b.number = h.number "
                + "JOIN receipts r ON r.number = h.number WHERE h.number = ?"
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [Int64(number)]) else { return [] }
            let stored = try StoredReceipts.decode(Array(row["receipts"] as Data))
            guard stored.receipts.contains(where: { !$0.logs.isEmpty }) else { return [] }
            let hashes = try Block.transactionHashes(ofBody: Array(row["body"] as Data))
            guard hashes.count == stored.receipts.count else {
                throw StoreError.decode("block \(number) has \(hashes.count) transactions and \(stored.receipts.count) receipts")
            }
            return LocatedLog.locate(number: number, blockHash: try Bytes32(Array(row["hash"] as Data)), receipts: stored.receipts) { hashes[$0] }
        }
        logCache.put(number, logs)
        return logs
    }

    /// Loads the flat state into `state` and checks it against the head's state root.
    public func loadState(into state: InMemoryState, head: BlockHeader) throws(StoreError) {
        try read { db in try Self.loadFlatState(db: db, into: state) }
        _ = state.takeChanges()
        let root = state.stateRoot
        if root != head.stateRoot {
            throw .stateMismatch(head: head.number, expected: head.stateRoot.description, found: root.description)
        }
    }

    /// Reads the head's state into `state`: the flat state tables, with the change records not yet
    /// folded into them applied in block order (``StateFolding``).
    static func loadFlatState(db: Database, into state: InMemoryState) throws {
        var storage: [Address: [UInt256: UInt256]] = [:]
        let slots = try Row.fetchCursor(db, sql: "SELECT address, slot, value FROM storage")
        while let row = try slots.next() {
            let slot = try UInt256(bigEndianBytes: row["slot"] as Data)
            storage[try Address(row["address"] as Data), default: [:]][slot] = try UInt256(bigEndianBytes: row["value"] as Data)
        }
        var accounts: [Address: AccountInfo] = [:]
        var code: [Bytes32: [UInt8]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT a.address, a.nonce, a.balance, a.code_hash, c.bytes FROM accounts a LEFT JOIN code c ON c.hash = a.code_hash")
        while let row = try rows.next() {
            let info = AccountInfo(nonce: UInt64(bitPattern: row["nonce"] as Int64), balance: try UInt256(bigEndianBytes: row["balance"] as Data),
                                   codeHash: try Bytes32(Array(row["code_hash"] as Data)))
            accounts[try Address(row["address"] as Data)] = info
            if let bytes = row["bytes"] as Data? { code[info.codeHash] = Array(bytes) }
        }
        let pending = try StateChangeLog.pending(db: db)
        for address in pending.clearedStorage { storage[address] = nil }
        for (address, slots) in pending.storage {
            for (slot, value) in slots { storage[address, default: [:]][slot] = value.isZero ? nil : value }
        }
        for (address, info) in pending.accounts {
            accounts[address] = info
            if let info, code[info.codeHash] == nil,
               let bytes = try Data.fetchOne(db, sql: "SELECT bytes FROM code WHERE hash = ?", arguments: [Data(info.codeHash.bytes)]) {
                code[info.codeHash] = Array(bytes)
            }
        }
        for (address, info) in accounts {
            state.set(address, nonce: info.nonce, balance: info.balance, code: code[info.codeHash] ?? [], storage: storage[address] ?? [:])
        }
    }
}
