import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives

/// The index log queries are answered through: for every block, each distinct log address and
/// each distinct topic value at each position (0...3) its logs hold, as one row
/// `(key, number)` of `log_keys`, clustered by key; and `log_blocks`, the blocks holding any
/// log. It is written with its block, in the same transaction.
///
/// A query's conditions (the addresses; each topic position with values) each select the
/// blocks holding one of their keys; the candidates are the blocks every condition selects.
/// Only those blocks are read, and their logs are matched exactly (`LogFilter.matches`), since
/// a block can hold one log with the address and another with the topic. So a query over
/// 100,000 blocks costs the blocks that can match, not the range.
enum LogIndex {
    /// The key of a log address: a 0 byte, then the 20 bytes.
    static func key(address: Address) -> Data {
        var key = Data(capacity: 21)
        key.append(0)
        address.withUnsafeBytes { key.append(contentsOf: $0) }
        return key
    }

    /// The key of a topic at `position` (0...3): the byte `1 + position`, then the 32 bytes.
    static func key(topic: Bytes32, position: Int) -> Data {
        var key = Data(capacity: 33)
        key.append(UInt8(1 + position))
        topic.withUnsafeBytes { key.append(contentsOf: $0) }
        return key
    }

    /// A part of a log a key names, before the key is encoded: gathering a block's distinct
    /// parts hashes fixed-size values, and only those distinct ones become `Data`.
    private enum Part: Hashable {
        case address(Address)
        case topic(Bytes32, position: Int)

        var key: Data {
            switch self {
            case .address(let address): LogIndex.key(address: address)
            case .topic(let topic, let position): LogIndex.key(topic: topic, position: position)
            }
        }
    }

    /// The distinct keys of a block's logs.
    static func keys(of receipts: [Receipt]) -> [Data] {
        var parts = Set<Part>()
        for receipt in receipts {
            for log in receipt.logs {
                parts.insert(.address(log.address))
                for (position, topic) in log.topics.prefix(4).enumerated() { parts.insert(.topic(topic, position: position)) }
            }
        }
        return parts.map(\.key)
    }

    /// The batches of log keys waiting to be folded into `log_keys` (``IndexBatches``): each
    /// block's distinct keys, each `00` ‖ address or `01`–`04` ‖ topic, one after the other.
    static let batches = IndexBatches(table: "log_batches")

    /// Indexes block `number`'s logs (part of storing the block): the block joins `log_blocks`
    /// at once, and its keys wait in `log_batches` until `folding` says to fold them.
    static func insert(number: UInt64, receipts: [Receipt], folding: StateFolding, db: Database) throws {
        guard receipts.contains(where: { !$0.logs.isEmpty }) else { return }
        try db.execute(sql: "INSERT INTO log_blocks(number) VALUES (?)", arguments: [Int64(number)])
        let entries = keys(of: receipts).reduce(into: [UInt8]()) { $0.append(contentsOf: $1) }
        if try batches.append(entries, number: number, folding: folding, db: db) { try fold(db: db) }
    }

    /// Writes the waiting keys into `log_keys` in key order (those of one key in block order) and drops them.
    static func fold(db: Database) throws {
        // Fixed-size keys sort without comparing `Data` (which took most of a fold's time):
        // the kind byte, then the address (left-aligned, zero-padded) or the topic, as the
        // B-tree orders the encoded keys.
        var rows: [(kind: UInt8, value: Bytes32, number: Int64)] = []
        for batch in try batches.drain(db: db) {
            for key in try keys(inBatch: batch.entries, number: batch.number) {
                var padded: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
                withUnsafeMutableBytes(of: &padded) { padded in key.dropFirst().withUnsafeBytes { padded.copyMemory(from: $0) } }
                let value = withUnsafeBytes(of: padded) { Bytes32(copying: $0) }
                rows.append((key[key.startIndex], value, batch.number))
            }
        }
        rows.sort { a, b in
            if a.kind != b.kind { return a.kind < b.kind }
            return a.value != b.value ? a.value < b.value : a.number < b.number
        }
        let statement = try RowStatement(db, sql: "INSERT INTO log_keys(key, number) VALUES (?, ?)")
        var key = [UInt8](repeating: 0, count: 33)
        for row in rows {
            key[0] = row.kind
            row.value.withUnsafeBytes { for i in 0..<32 { key[1 + i] = $0[i] } }
            try key.withUnsafeBytes { try statement.run(UnsafeRawBufferPointer(rebasing: $0[0..<(row.kind == 0 ? 21 : 33)]), row.number) }
        }
    }

    /// The keys of a waiting batch, split by their first byte (an address's key is 21 bytes, a topic's 33).
    static func keys(inBatch entries: Data, number: Int64) throws -> [Data] {
        var keys: [Data] = []
        var at = entries.startIndex
        while at < entries.endIndex {
            let length = entries[at] == 0 ? 21 : 33
            guard entries[at] <= 4, entries.endIndex - at >= length else {
                throw StoreError.decode("the waiting log keys of block \(number) are cut short or damaged at byte \(at - entries.startIndex)")
            }
            keys.append(entries[at..<(at + length)])
            at += length
        }
        return keys
    }

    /// Creates the tables and indexes every stored block (the migration from the index of
    /// addresses and first topics, which could not narrow a query by its other topics).
    static func create(db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE log_keys(key BLOB NOT NULL, number INTEGER NOT NULL, PRIMARY KEY(key, number)) WITHOUT ROWID;
            CREATE TABLE log_blocks(number INTEGER PRIMARY KEY);
            """)
        let rows = try Row.fetchCursor(db, sql: "SELECT number, rlp FROM receipts ORDER BY number")
        while let row = try rows.next() {
            let stored = try StoredReceipts.decode(Array(row["rlp"] as Data))
            guard stored.receipts.contains(where: { !$0.logs.isEmpty }) else { continue }
            let number: Int64 = row["number"]
            try db.execute(sql: "INSERT INTO log_blocks(number) VALUES (?)", arguments: [number])
            let statement = try RowStatement(db, sql: "INSERT INTO log_keys(key, number) VALUES (?, ?)")
            for key in keys(of: stored.receipts) { try key.withUnsafeBytes { key in try statement.run(key, number) } }
        }
    }

    /// Blocks counted when estimating how many blocks a condition selects: enough to tell a
    /// narrow condition from a broad one, few enough that estimating costs little.
    static let estimateCap = 2_048

    /// The blocks numbered `from...to` that may hold a log `filter` matches, in order.
    static func candidates(_ filter: LogFilter, from: Int64, to: Int64, db: Database) throws -> [Int64] {
        // One condition per constrained part of the filter, each a list of keys (any of).
        var conditions: [[Data]] = []
        if !filter.addresses.isEmpty { conditions.append(Array(Set(filter.addresses.map { key(address: $0) }))) }
        for (position, wanted) in filter.topics.prefix(4).enumerated() {
            guard let wanted, !wanted.isEmpty else { continue }
            conditions.append(Array(Set(wanted.map { key(topic: $0, position: position) })))
        }
        guard !conditions.isEmpty else {
            return try Int64.fetchAll(db, sql: "SELECT number FROM log_blocks WHERE number BETWEEN ? AND ? ORDER BY number",
                                      arguments: [from, to])
        }
        func among(_ keys: [Data]) -> String { "key IN (" + keys.map { _ in "?" }.joined(separator: ",") + ")" }
        // The narrowest condition drives: its blocks are listed, the others only probed per block.
        let sizes = try conditions.map { keys in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM log_keys WHERE \(among(keys)) AND number BETWEEN ? AND ? LIMIT \(estimateCap))",
                             arguments: StatementArguments(keys + [from, to] as [DatabaseValueConvertible])) ?? 0
        }
        // The blocks whose keys wait in `log_batches` (the newest, at most a fold's worth) are
        // matched against the conditions in memory.
        var waiting: [Int64] = []
        for batch in try from <= to ? batches.waiting(from...to, db: db) : [] {
            let keys = Set(try keys(inBatch: batch.entries, number: batch.number))
            if conditions.allSatisfy({ $0.contains(where: keys.contains) }) { waiting.append(batch.number) }
        }
        let driver = sizes.indices.min { sizes[$0] < sizes[$1] }!
        if sizes[driver] == 0 { return waiting }
        var sql = "SELECT DISTINCT d.number FROM log_keys d WHERE d.\(among(conditions[driver])) AND d.number BETWEEN ? AND ?"
        var arguments: [DatabaseValueConvertible] = conditions[driver] + [from, to] as [DatabaseValueConvertible]
        for (i, keys) in conditions.enumerated() where i != driver {
            sql += " AND EXISTS (SELECT 1 FROM log_keys c WHERE c.\(among(keys)) AND c.number = d.number)"
            arguments += keys as [DatabaseValueConvertible]
        }
        let indexed = try Int64.fetchAll(db, sql: sql + " ORDER BY d.number", arguments: StatementArguments(arguments))
        return waiting.isEmpty ? indexed : Array(Set(indexed + waiting)).sorted()
    }
}
