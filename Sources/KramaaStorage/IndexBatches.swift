import Foundation
import GRDB

/// Index entries of recent blocks, one row per block in a table of their own, waiting to be
/// folded into their index (``TransactionIndex``, ``LogIndex``).
///
/// Index keys are hashes, addresses and topics: a block's entries land at random places of
/// their index and each dirties a page of its own. Written as one row per block they are
/// written in sequence; folded every ``StateFolding/blocks`` blocks in key order, the entries of
/// many blocks that share a page are written together, as the state change records are.
struct IndexBatches {
    /// The table: `number INTEGER PRIMARY KEY` (the block) and `entries BLOB`.
    let table: String

    func create(db: Database) throws {
        try db.execute(sql: "CREATE TABLE \(table)(number INTEGER PRIMARY KEY, entries BLOB NOT NULL)")
    }

    /// Adds block `number`'s entries; true when `folding` says the batches are to be folded now.
    func append(_ entries: [UInt8], number: UInt64, folding: StateFolding, db: Database) throws -> Bool {
        let insert = try RowStatement(db, sql: "INSERT INTO \(table)(entries, number) VALUES (?, ?)")
        try entries.withUnsafeBytes { try insert.run($0, Int64(number)) }
        return try (Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0) >= folding.blocks
    }

    /// Every waiting batch, in block order, dropped from the table (part of a fold).
    func drain(db: Database) throws -> [(number: Int64, entries: Data)] {
        let batches = try waiting(db: db)
        try db.execute(sql: "DELETE FROM \(table)")
        return batches
    }

    /// The waiting batches numbered `range` (all by default), in block order.
    func waiting(_ range: ClosedRange<Int64> = Int64.min...Int64.max, db: Database) throws -> [(number: Int64, entries: Data)] {
        try Row.fetchAll(db, sql: "SELECT number, entries FROM \(table) WHERE number BETWEEN ? AND ? ORDER BY number",
                         arguments: [range.lowerBound, range.upperBound]).map { ($0["number"], $0["entries"]) }
    }

    /// The numbers of the waiting batches (at most a fold's worth).
    func numbers(db: Database) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT number FROM \(table)"))
    }

    /// The entries of batch `number`, if it is waiting.
    func entries(number: Int64, db: Database) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT entries FROM \(table) WHERE number = ?", arguments: [number])
    }
}
