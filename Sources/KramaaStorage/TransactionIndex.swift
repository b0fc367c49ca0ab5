import Foundation
import GRDB
import KramaaPrimitives

/// The index of transactions by hash (`transactions`: hash → block number and position).
///
/// At about 500 transactions a block, written row by row, nearly every page of this index was
/// rewritten with every block (two writes each to the WAL, then one to the file): a third of a
/// validator's SQLite writes. So each block's hashes (32 bytes each, in order) wait in
/// `transaction_batches` and are folded into the index in hash order (``IndexBatches``).
/// A lookup reads the index, then the batches waiting.
enum TransactionIndex {
    static let batches = IndexBatches(table: "transaction_batches")

    /// Records the hashes of block `number`'s transactions, in order, and folds the batches when
    /// `folding` says so. Part of storing the block, in its transaction.
    static func append(_ hashes: [Bytes32], number: UInt64, folding: StateFolding, db: Database) throws {
        guard !hashes.isEmpty else { return }
        var joined = [UInt8]()
        joined.reserveCapacity(hashes.count * 32)
        for hash in hashes { joined.append(contentsOf: hash.bytes) }
        if try batches.append(joined, number: number, folding: folding, db: db) { try fold(db: db) }
    }

    /// Writes the waiting batches into the index, in hash order, and drops them.
    static func fold(db: Database) throws {
        var rows: [(hash: Bytes32, number: Int64, index: Int64)] = []
        for batch in try batches.drain(db: db) {
            try forEachHash(in: batch.entries, number: batch.number) { hash, index in rows.append((hash, batch.number, Int64(index))) }
        }
        // The same hash twice (not on a valid chain) keeps the later block's, as row-by-row inserts did.
        rows.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.number < $1.number }
        let insert = try RowStatement(db, sql: "INSERT OR REPLACE INTO transactions(hash, number, idx) VALUES (?, ?, ?)")
        for row in rows { try row.hash.withUnsafeBytes { try insert.run($0, row.number, row.index) } }
    }

    /// Where transaction `hash` was included, as seen by `db`'s transaction.
    static func location(_ hash: Bytes32, waiting: WaitingTransactions, db: Database) throws -> (number: UInt64, index: Int)? {
        if let row = try Row.fetchOne(db, sql: "SELECT number, idx FROM transactions WHERE hash = ?", arguments: [Data(hash.bytes)]) {
            return (UInt64(row["number"] as Int64), row["idx"] as Int)
        }
        return try waiting.location(hash, db: db)
    }

    /// Calls `body` with each 32-byte hash of a batch and its position in the block.
    static func forEachHash(in entries: Data, number: Int64, _ body: (Bytes32, Int) throws -> Void) throws {
        guard entries.count % 32 == 0 else {
            throw StoreError.decode("the transaction hashes of block \(number) are \(entries.count) bytes, not a multiple of 32")
        }
        try entries.withUnsafeBytes { raw in
            for index in 0..<(raw.count / 32) {
                try body(Bytes32(copying: UnsafeRawBufferPointer(rebasing: raw[(index * 32)..<(index * 32 + 32)])), index)
            }
        }
    }
}

/// The waiting batches' hashes by hash, kept between lookups: a lookup lists the batches'
/// numbers (at most a fold's worth of integers) and reads only the batches it has not seen, so
/// polling for a recent transaction's receipt costs two small queries, not a scan of the batches.
/// Whatever the snapshot a lookup reads, it answers from exactly that snapshot's batches.
final class WaitingTransactions: @unchecked Sendable {
    private let lock = NSLock()
    private var numbers: Set<Int64> = []
    private var locations: [Bytes32: (number: UInt64, index: Int)] = [:]

    func location(_ hash: Bytes32, db: Database) throws -> (number: UInt64, index: Int)? {
        let batches = TransactionIndex.batches
        let current = try batches.numbers(db: db)
        return try lock.withLock {
            if current != numbers {
                let gone = numbers.subtracting(current)
                if !gone.isEmpty { locations = locations.filter { !gone.contains(Int64($0.value.number)) } }
                for number in current.subtracting(numbers) {
                    guard let entries = try batches.entries(number: number, db: db) else { continue }
                    try TransactionIndex.forEachHash(in: entries, number: number) { hash, index in locations[hash] = (UInt64(number), index) }
                }
                numbers = current
            }
            return locations[hash]
        }
    }
}
