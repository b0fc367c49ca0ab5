import Foundation
import GRDB
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// What a snapshot is made of, read from the store in one read transaction (consistent while a
/// node keeps writing): the state at `block`, and what a node needs besides it to go on from there.
public struct SnapshotSource {
    /// The chain's genesis block hash (read, not recomputed from the genesis document).
    public let genesisHash: Bytes32
    public let state: InMemoryState
    public let block: Block
    public let receipts: [UInt8]
    public let certificate: [UInt8]?
    /// Headers of up to 256 blocks before `block`, newest first.
    public let ancestorHeaders: [BlockHeader]
    public let history: HistoryAccumulator
}

extension ChainStore {
    /// The block a data directory restored from a snapshot starts at (nil: it holds every block).
    public func snapshotBase() throws(StoreError) -> UInt64? {
        try readSnapshot { db in try Self.snapshotBase(db) }
    }

    /// The hashes of the blocks before the snapshot base (up to 256, by number), for BLOCKHASH.
    public func ancestorHashes() throws(StoreError) -> [UInt64: Bytes32] {
        var out: [UInt64: Bytes32] = [:]
        for header in try readSnapshot({ db in try Self.storedAncestors(db) }) { out[header.number] = header.hash }
        return out
    }

    /// The history accumulator over blocks `0..<count`: from every stored hash, or, in a data
    /// directory restored from a snapshot, from the peaks it came with and the hashes since.
    public func historyAccumulator(count: UInt64) throws(StoreError) -> HistoryAccumulator {
        try readSnapshot { db in try Self.history(db, count: count) }
    }

    private func readSnapshot<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try db.read { db in try body(db) } } catch let error as StoreError { throw error } catch {
            throw .decode("\(error)")
        }
    }

    // MARK: Readings inside one transaction (shared by the accessors above and `snapshotSource`)

    private static func meta(_ db: Database, _ key: String) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    private static func snapshotBase(_ db: Database) throws -> UInt64? {
        try meta(db, "snapshot_base").flatMap { UInt64(String(decoding: $0, as: UTF8.self)) }
    }

    /// The headers before the snapshot base that came with the snapshot, newest first.
    private static func storedAncestors(_ db: Database) throws -> [BlockHeader] {
        guard let raw = try meta(db, "ancestor_headers") else { return [] }
        do {
            var outer = RLPReader(Array(raw))
            var list = try outer.readList()
            var headers: [BlockHeader] = []
            while !list.isAtEnd { headers.append(try BlockHeader.decode(Array(try list.readBytes()))) }
            return headers
        } catch {
            throw StoreError.decode("stored ancestor headers: \(error)")
        }
    }

    /// The accumulator over blocks `0..<count` (see ``historyAccumulator(count:)``).
    private static func history(_ db: Database, count: UInt64) throws -> HistoryAccumulator {
        func hashes(_ range: Range<UInt64>) throws -> [Bytes32] {
            try Data.fetchAll(db, sql: "SELECT hash FROM headers WHERE number >= ? AND number < ? ORDER BY number",
                              arguments: [Int64(range.lowerBound), Int64(range.upperBound)]).map { try Bytes32(Array($0)) }
        }
        guard let base = try snapshotBase(db), let raw = try meta(db, "history_peaks") else {
            return HistoryAccumulator(leaves: try hashes(0..<count))
        }
        let peaks = stride(from: 0, to: raw.count, by: 32).compactMap { try? Bytes32(Array(raw[$0..<($0 + 32)])) }
        guard var accumulator = HistoryAccumulator(count: base, peakHashes: peaks) else {
            throw StoreError.decode("the stored history peaks do not fit block \(base)")
        }
        for hash in try hashes(base..<max(base, count)) { accumulator.append(hash) }
        return accumulator
    }

    /// The state at block `height` and the rest of a snapshot of it, read consistently. The state of
    /// an older block than the head is the head's with the undo records of the blocks after it
    /// reverted, so `height` must be one whose state the store keeps.
    public func snapshotSource(at height: UInt64?) throws(StoreError) -> SnapshotSource {
        try readSnapshot { db throws -> SnapshotSource in
            guard let headText = try Self.meta(db, "head"), let head = UInt64(String(decoding: headText, as: UTF8.self)) else {
                throw StoreError.notInitialized(path: self.path)
            }
            let target = height ?? head
            guard target <= head else { throw StoreError.unavailable("block \(target) is beyond the head \(head)") }
            let base = try Self.snapshotBase(db) ?? 0
            guard target >= base else { throw StoreError.unavailable("this node joined from a snapshot at block \(base) and holds no state before it") }
            let state = InMemoryState()
            try Self.loadFlatState(db: db, into: state)
            if target < head {
                let undos = try Row.fetchAll(db, sql: "SELECT number, rlp FROM undo WHERE number > ? ORDER BY number DESC", arguments: [Int64(target)])
                guard undos.count == Int(head - target), let oldest = undos.last, (oldest["number"] as Int64) == Int64(target + 1) else {
                    throw StoreError.unavailable("the state of block \(target) is no longer kept (run with --history archive, or take the snapshot at a recent block)")
                }
                for row in undos { state.revert(try StateUndo.decode(Array(row["rlp"] as Data))) }
            }
            _ = state.takeChanges()
            guard let row = try Row.fetchOne(db, sql: """
                SELECT h.rlp AS header, b.rlp AS body, r.rlp AS receipts FROM headers h
                JOIN bodies b ON b.number = h.number JOIN receipts r ON r.number = h.number WHERE h.number = ?
                """, arguments: [Int64(target)]) else { throw StoreError.unavailable("block \(target) is not stored") }
            let block = Block(header: try BlockHeader.decode(Array(row["header"] as Data)), transactions: try Block.decodeBody(Array(row["body"] as Data)))
            let certificate = try Data.fetchOne(db, sql: "SELECT rlp FROM certificates WHERE number = ?", arguments: [Int64(target)])
            var ancestors = try Data.fetchAll(db, sql: "SELECT rlp FROM headers WHERE number < ? AND number >= ? ORDER BY number DESC",
                                              arguments: [Int64(target), Int64(target > 256 ? target - 256 : 0)])
                .map { try BlockHeader.decode(Array($0)) }
            if ancestors.count < 256 { ancestors = Array((ancestors + (try Self.storedAncestors(db))).prefix(256)) }
            return SnapshotSource(genesisHash: try Self.genesisHash(db), state: state, block: block, receipts: Array(row["receipts"] as Data),
                                  certificate: certificate.map { Array($0) }, ancestorHeaders: ancestors, history: try Self.history(db, count: target))
        }
    }

    /// The genesis block's hash: block 0's, or the one a snapshot's chain was checked against.
    private static func genesisHash(_ db: Database) throws -> Bytes32 {
        if let hash = try Data.fetchOne(db, sql: "SELECT hash FROM headers WHERE number = 0") ?? meta(db, "genesis_hash") {
            return try Bytes32(Array(hash))
        }
        throw StoreError.decode("neither block 0 nor the genesis hash is stored")
    }

    /// Creates the chain from a verified snapshot: the genesis document, block `block` (the head)
    /// with its receipts and certificate, the hashes before it, the history peaks and the state.
    /// Fails if a chain is there; all or nothing.
    public func initialize(genesisDocument: Data, genesisHash: Bytes32, snapshotBlock block: Block, receipts: [UInt8], certificate: [UInt8]?,
                           ancestorHeaders: [BlockHeader], historyPeaks: [Bytes32], changes: StateChanges) throws(StoreError) {
        let stored: StoredReceipts
        do { stored = try StoredReceipts.decode(receipts) } catch { throw .decode("snapshot receipts: \(error)") }
        guard stored.receipts.count == block.transactions.count, Receipt.root(stored.receipts) == block.header.receiptsRoot else {
            throw .decode("the receipts of snapshot block \(block.number) do not give its receipts root")
        }
        do {
            try db.write { db in
                if try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'genesis'") != nil {
                    throw StoreError.alreadyInitialized(path: self.path)
                }
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('genesis', ?)", arguments: [genesisDocument])
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('genesis_hash', ?)", arguments: [Data(genesisHash.bytes)])
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('snapshot_base', ?)", arguments: [Data(String(block.number).utf8)])
                var headers = RLPWriter()
                headers.appendList { w in for header in ancestorHeaders { w.append(bytes: header.encoded) } }
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('ancestor_headers', ?)", arguments: [Data(headers.bytes)])
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('history_peaks', ?)", arguments: [Data(historyPeaks.flatMap(\.bytes))])
                try Self.insert(block: block, receipts: stored, folding: self.stateFolding, db: db)
                if let certificate {
                    try db.execute(sql: "INSERT INTO certificates(number, rlp) VALUES (?, ?)", arguments: [Int64(block.number), Data(certificate)])
                }
                try Self.apply(changes, db: db)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .write("\(error)")
        }
    }
}
