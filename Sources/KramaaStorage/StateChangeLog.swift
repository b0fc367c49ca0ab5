import Foundation
import GRDB
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// When the flat state tables catch up with the head.
///
/// Storage slots are keyed by hashes, so a block's slot writes land at random places of the
/// `storage` table and each dirties a page of its own. Written at every block, they were about
/// two thirds of the time a validator spent storing a block of EPCIS captures (about 2,000 new
/// slots). So each block's state changes are appended to `state_changes` as one record, written
/// in sequence, and the records are folded into the tables (merged, then written in key order,
/// so neighbouring rows share their pages) every `blocks` blocks, or sooner when they pass
/// `bytes`. The head's state is the tables with the records applied in order.
public struct StateFolding: Sendable, Equatable {
    /// Records at which the records are folded (1: every block, the tables always at the head).
    public var blocks: Int
    /// Encoded bytes of the records at which they are folded whatever their number: bounds the
    /// records a fold merges in memory and a restart replays.
    public var bytes: Int

    public init(blocks: Int, bytes: Int) {
        precondition(blocks >= 1 && bytes >= 0, "a fold needs at least one record")
        self.blocks = blocks
        self.bytes = bytes
    }

    public static let standard = StateFolding(blocks: 16, bytes: 4 << 20)
}

/// The table of state change records and its fold (see ``StateFolding``).
enum StateChangeLog {
    static func create(db: Database) throws {
        try db.execute(sql: "CREATE TABLE state_changes(number INTEGER PRIMARY KEY, rlp BLOB NOT NULL)")
    }

    /// Records block `number`'s changes (its new code goes to the code table at once: it is
    /// addressed by its hash, so writing it ahead of the accounts that name it is harmless) and
    /// folds the records when `folding` says so. Part of storing the block, in its transaction.
    static func append(_ changes: StateChanges, number: UInt64, folding: StateFolding, db: Database) throws {
        try ChainStore.insertCode(changes.code, db: db)
        try db.execute(sql: "INSERT INTO state_changes(number, rlp) VALUES (?, ?)", arguments: [Int64(number), Data(changes.recordEncoded)])
        let waiting = try size(db: db)
        if waiting.records >= folding.blocks || waiting.bytes >= folding.bytes { try fold(db: db) }
    }

    /// The records not yet folded, merged in block order into one set of changes.
    static func pending(db: Database) throws -> StateChanges {
        var merged = StateChanges()
        let rows = try Row.fetchCursor(db, sql: "SELECT number, rlp FROM state_changes ORDER BY number")
        while let row = try rows.next() {
            do {
                merged.merge(try StateChanges.decodeRecord(Array(row["rlp"] as Data)))
            } catch {
                throw StoreError.decode("state change record of block \(row["number"] as Int64): \(error)")
            }
        }
        return merged
    }

    /// Writes the records into the flat tables and drops them.
    static func fold(db: Database) throws {
        try ChainStore.applyFlat(try pending(db: db), db: db)
        try db.execute(sql: "DELETE FROM state_changes")
    }

    /// The records not yet folded: how many, and their encoded bytes.
    static func size(db: Database) throws -> (records: Int, bytes: Int) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS records, TOTAL(LENGTH(rlp)) AS bytes FROM state_changes")
        return (row?["records"] ?? 0, Int(row?["bytes"] as Double? ?? 0))
    }
}

extension StateChanges {
    /// Adds the changes of a later block: afterwards, applying `self` does what applying the two
    /// in order did. A cleared storage drops the slots written before it; the latest value of a
    /// slot or an account wins. Code and undo records are not merged (see `StateChangeLog`).
    mutating func merge(_ later: StateChanges) {
        for address in later.clearedStorage {
            clearedStorage.insert(address)
            storage[address] = nil
        }
        for (address, slots) in later.storage {
            storage[address, default: [:]].merge(slots) { _, newer in newer }
        }
        for (address, info) in later.accounts {
            accounts[address] = .some(info)
        }
    }
}
