import GRDB
import GRDBSQLite

/// A cached statement run once per item with its arguments bound straight from memory.
/// For writes that go row by row through thousands of items (a fold's slots, a block's
/// transaction hashes and log keys): GRDB's `execute(arguments:)` makes a `Data`, a
/// `DatabaseValue` and an arguments array per row, about as much work as SQLite's own insert
/// of a small row. Blobs are borrowed for the call only.
struct RowStatement {
    private let statement: Statement

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    /// Runs the statement with the blobs as its parameters 1, 2 (and 3).
    func run(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ third: UnsafeRawBufferPointer? = nil) throws {
        try execute { s in
            var code = sqlite3_bind_blob(s, 1, first.baseAddress, Int32(first.count), nil)
            if code == SQLITE_OK { code = sqlite3_bind_blob(s, 2, second.baseAddress, Int32(second.count), nil) }
            if code == SQLITE_OK, let third { code = sqlite3_bind_blob(s, 3, third.baseAddress, Int32(third.count), nil) }
            return code
        }
    }

    /// Runs the statement with a blob as parameter 1 and integers as 2 (and 3).
    func run(_ blob: UnsafeRawBufferPointer, _ first: Int64, _ second: Int64? = nil) throws {
        try execute { s in
            var code = sqlite3_bind_blob(s, 1, blob.baseAddress, Int32(blob.count), nil)
            if code == SQLITE_OK { code = sqlite3_bind_int64(s, 2, first) }
            if code == SQLITE_OK, let second { code = sqlite3_bind_int64(s, 3, second) }
            return code
        }
    }

    private func execute(_ bind: (OpaquePointer) -> Int32) throws {
        let s = statement.sqliteStatement
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)  // the blobs are the caller's: nothing keeps pointing at them
        }
        var code = bind(s)
        if code == SQLITE_OK { code = sqlite3_step(s) }
        guard code == SQLITE_DONE else {
            throw StoreError.write("\(statement.sql): \(String(cString: sqlite3_errmsg(sqlite3_db_handle(s))))")
        }
    }
}
