import Foundation
import GRDB
import KramaaEPCIS
import KramaaJSON
import KramaaPrimitives

/// Where the EPCIS index lives: SQLite (`epcis-index.sqlite` in the node's data directory, or
/// in memory), with the columns and indexes the typical queries narrow on: EPCs and EPC
/// classes, business location and read point with time, event time, record time, business
/// step, event ID, asset keys and the aggregation parents. Each event is kept as its JSON and
/// context, so a narrowed candidate is parsed back and checked with the full query matcher.
/// The index is derived from the chain: a missing or damaged file is rebuilt from the blocks.
final class EPCISIndexStore: @unchecked Sendable {
    let db: DatabaseQueue

    init(path: String?) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Derived data: a crash loses at most the last blocks indexed, which are indexed again.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        if let path {
            db = try DatabaseQueue(path: path, configuration: configuration)
            try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        } else {
            db = try DatabaseQueue(configuration: configuration)
        }
        try Self.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE events(seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, event_id TEXT, type TEXT NOT NULL,
                    event_time INTEGER NOT NULL, record_time INTEGER NOT NULL, biz_step TEXT, disposition TEXT,
                    read_point TEXT, biz_location TEXT, org INTEGER NOT NULL, recorder BLOB NOT NULL, device BLOB NOT NULL,
                    block INTEGER NOT NULL, block_hash BLOB NOT NULL, tx_hash BLOB NOT NULL, tx_index INTEGER NOT NULL,
                    json BLOB NOT NULL, context BLOB);
                CREATE INDEX events_by_time ON events(event_time);
                CREATE INDEX events_by_record_time ON events(record_time);
                CREATE INDEX events_by_location ON events(biz_location, event_time);
                CREATE INDEX events_by_read_point ON events(read_point, event_time);
                CREATE INDEX events_by_step ON events(biz_step);
                CREATE INDEX events_by_id ON events(event_id);
                CREATE TABLE epcs(epc TEXT NOT NULL, seq INTEGER NOT NULL, class INTEGER NOT NULL, PRIMARY KEY(epc, seq)) WITHOUT ROWID;
                CREATE TABLE keys(key BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(key, seq)) WITHOUT ROWID;
                CREATE TABLE parents(child BLOB PRIMARY KEY, parent BLOB NOT NULL) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2: events by hash") { db in
            try db.execute(sql: "CREATE INDEX events_by_hash ON events(hash)")
        }
        return m
    }

    // MARK: Progress

    func meta(_ key: String) throws -> String? {
        try db.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    var indexedThrough: UInt64 { ((try? meta("indexedThrough")) ?? nil).flatMap(UInt64.init) ?? 0 }

    /// The failure recorded by an earlier run (the index stays stopped across restarts).
    var failure: EPCISIndexError? {
        guard let text = (try? meta("failure")) ?? nil, let data = text.data(using: .utf8),
              let json = try? JSON.parse(Array(data)), let block = json["block"]?.stringValue.flatMap(UInt64.init),
              let tx = json["transaction"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }), let detail = json["detail"]?.stringValue else { return nil }
        return .mismatch(block: block, transaction: tx, detail: detail)
    }

    func recordFailure(_ failure: EPCISIndexError) throws {
        guard case .mismatch(let block, let tx, let detail) = failure else { return }
        let text = String(decoding: JSON.object(["block": .string(String(block)), "transaction": .string(tx.description), "detail": .string(detail)]).serialized(),
                          as: UTF8.self)
        try db.write { db in try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('failure', ?)", arguments: [text]) }
    }

    // MARK: Writing

    /// One block's events and aggregation changes, and the block as indexed, in one transaction.
    func append(_ entries: [EPCISIndex.Entry], parents: [(child: UInt256, parent: UInt256?)], through block: UInt64) throws {
        try db.write { db in
            for entry in entries {
                let e = entry.event
                try db.execute(sql: """
                    INSERT INTO events(hash, event_id, type, event_time, record_time, biz_step, disposition, read_point, biz_location,
                                       org, recorder, device, block, block_hash, tx_hash, tx_index, json, context)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        Data(entry.hash.bytes), e.eventID, e.type.name, Self.milliseconds(e.eventTime), Self.milliseconds(e.recordTime ?? e.eventTime),
                        e.bizStep, e.disposition, e.readPoint, e.bizLocation, Int64(bitPattern: entry.organization), Data(entry.recorder.bytes),
                        Data(entry.device.bytes), Int64(entry.blockNumber), Data(entry.blockHash.bytes), Data(entry.transactionHash.bytes),
                        entry.transactionIndex, Data(e.json.serialized()), e.contextJSON.map { Data($0.serialized()) },
                    ])
                let seq = db.lastInsertedRowID
                for epc in e.allEPCs { try db.execute(sql: "INSERT OR IGNORE INTO epcs VALUES (?, ?, 0)", arguments: [epc, seq]) }
                for epcClass in e.allQuantities.map(\.epcClass) {
                    try db.execute(sql: "INSERT OR IGNORE INTO epcs VALUES (?, ?, 1)", arguments: [epcClass, seq])
                }
                for key in entry.keys { try db.execute(sql: "INSERT OR IGNORE INTO keys VALUES (?, ?)", arguments: [Data(key.bigEndianBytes), seq]) }
            }
            for (child, parent) in parents {
                if let parent {
                    try db.execute(sql: "INSERT OR REPLACE INTO parents VALUES (?, ?)", arguments: [Data(child.bigEndianBytes), Data(parent.bigEndianBytes)])
                } else {
                    try db.execute(sql: "DELETE FROM parents WHERE child = ?", arguments: [Data(child.bigEndianBytes)])
                }
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('indexedThrough', ?)", arguments: [String(block)])
        }
    }

    static func milliseconds(_ t: EPCISTimestamp) -> Int64 { t.secondsSinceEpoch * 1000 + Int64(t.nanoseconds / 1_000_000) }

    // MARK: Reading

    func parent(of key: UInt256) throws -> UInt256? {
        try db.read { db in
            try Data.fetchOne(db, sql: "SELECT parent FROM parents WHERE child = ?", arguments: [Data(key.bigEndianBytes)])
        }.flatMap { try? UInt256(bigEndianBytes: Array($0)) }
    }

    /// The events naming any of `keys`, in chain order.
    func event(hash: Bytes32) throws -> EPCISIndex.Entry? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM events WHERE hash = ?", arguments: [Data(hash.bytes)]).flatMap { try? Self.entry($0, db) }
        }
    }

    func events(withKeys keys: Set<UInt256>) throws -> [EPCISIndex.Entry] {
        let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq IN (SELECT seq FROM keys WHERE key IN (\(placeholders))) ORDER BY seq",
                             arguments: StatementArguments(keys.map { Data($0.bigEndianBytes) })).compactMap { try? Self.entry($0, db) }
        }
    }

    /// Calls `body` with the events in `narrowing` (a superset of a query's matches), `batch` at
    /// a time, in chain order from after `seq` (or by event time), until it returns false.
    func scan(_ narrowing: EPCISIndexNarrowing, after seq: Int64?, byEventTime: Bool = false, batch: Int = 512,
              _ body: ([(seq: Int64, entry: EPCISIndex.Entry)]) throws -> Bool) throws {
        let (clauses, arguments) = narrowing.sql()
        var cursor = seq ?? (byEventTime ? Int64.min : 0)
        var timeCursor = Int64.min
        while true {
            var where_ = clauses, args = arguments
            if byEventTime {
                where_.append("(event_time > ? OR (event_time = ? AND seq > ?))")
                args += [timeCursor, timeCursor, cursor]
            } else {
                where_.append("seq > ?")
                args.append(cursor)
            }
            let order = byEventTime ? "event_time, seq" : "seq"
            let rows = try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM events WHERE \(where_.joined(separator: " AND ")) ORDER BY \(order) LIMIT \(batch)",
                                 arguments: StatementArguments(args))
                    .map { row -> (Int64, Int64, EPCISIndex.Entry?) in (row["seq"], row["event_time"], try? Self.entry(row, db)) }
            }
            guard let last = rows.last else { return }
            (cursor, timeCursor) = (last.0, last.1)
            guard try body(rows.compactMap { seq, _, entry in entry.map { (seq, $0) } }), rows.count == batch else { return }
        }
    }

    /// Distinct values of an event column, or of the EPCs, in first-seen order.
    func distinct(_ column: String) throws -> [String] {
        let sql = column == "epc"
            ? "SELECT epc FROM epcs WHERE class = 0 GROUP BY epc ORDER BY MIN(seq)"
            : "SELECT \(column) FROM events WHERE \(column) IS NOT NULL GROUP BY \(column) ORDER BY MIN(seq)"
        return try db.read { db in try String.fetchAll(db, sql: sql) }
    }

    func lastSequence() throws -> Int64 { try db.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 } }

    func count() throws -> Int { try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 } }

    static func entry(_ row: Row, _ db: Database) throws -> EPCISIndex.Entry {
        let json = try JSON.parse(Array(row["json"] as Data))
        let context = (row["context"] as Data?).flatMap { try? JSON.parse(Array($0)) }
        let event = try EPCISEvent(json: json, documentContext: context)
        let seq: Int64 = row["seq"]
        let keys = try Data.fetchAll(db, sql: "SELECT key FROM keys WHERE seq = ?", arguments: [seq]).compactMap { try? UInt256(bigEndianBytes: Array($0)) }
        return EPCISIndex.Entry(event: event, hash: try Bytes32(Array(row["hash"] as Data)), organization: UInt64(bitPattern: row["org"]),
                                recorder: try Address(Array(row["recorder"] as Data)), device: try Address(Array(row["device"] as Data)),
                                blockNumber: UInt64(row["block"] as Int64), blockHash: try Bytes32(Array(row["block_hash"] as Data)),
                                transactionHash: try Bytes32(Array(row["tx_hash"] as Data)), transactionIndex: row["tx_index"], keys: keys)
    }
}

/// What SQL can narrow a query to: a superset of its matches, from the conditions the index
/// has columns for (exact EPCs and classes, locations, event and record time, business step,
/// event ID, event type). The full matcher decides on the candidates.
struct EPCISIndexNarrowing {
    var epcs: [Set<String>] = []
    var columns: [(column: String, values: Set<String>)] = []
    var times: [(column: String, op: String, milliseconds: Int64)] = []

    init(_ query: EPCISQuery) {
        for condition in query.conditions {
            switch condition {
            case .match(_, let patterns) where !patterns.isEmpty && !patterns.contains(where: \.isPattern):
                epcs.append(Set(patterns.map(\.text)))
            case .location(let field, let values, withDescendants: false) where !values.isEmpty:
                columns.append((field == .bizLocation ? "biz_location" : "read_point", values))
            case .identifier(.eventID, let values) where !values.isEmpty:
                columns.append(("event_id", values))
            case .vocabulary(.bizStep, let values) where !values.isEmpty:
                columns.append(("biz_step", values))
            case .eventType(let types) where !types.isEmpty:
                columns.append(("type", types))
            case .time(let field, let comparison, let bound) where field == .eventTime || field == .recordTime:
                let column = field == .eventTime ? "event_time" : "record_time"
                let ms = EPCISIndexStore.milliseconds(bound)
                // Stored times are truncated to milliseconds: widen by one so the filter stays a superset.
                switch comparison {
                case .greaterOrEqual, .greater: times.append((column, ">=", ms - 1))
                case .less, .lessOrEqual: times.append((column, "<=", ms + 1))
                case .equal: times.append((column, ">=", ms - 1)); times.append((column, "<=", ms + 1))
                }
            default:
                continue
            }
        }
    }

    /// Where-clauses and their arguments.
    func sql() -> ([String], [any DatabaseValueConvertible]) {
        var clauses: [String] = [], arguments: [any DatabaseValueConvertible] = []
        for set in epcs {
            clauses.append("seq IN (SELECT seq FROM epcs WHERE epc IN (\(Array(repeating: "?", count: set.count).joined(separator: ", "))))")
            arguments += set.sorted() as [any DatabaseValueConvertible]
        }
        for (column, values) in columns {
            clauses.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            arguments += values.sorted() as [any DatabaseValueConvertible]
        }
        for (column, op, ms) in times {
            clauses.append("\(column) \(op) ?")
            arguments.append(ms)
        }
        if clauses.isEmpty { clauses.append("1") }
        return (clauses, arguments)
    }
}
