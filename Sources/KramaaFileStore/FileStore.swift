import Foundation
import KramaaFiles
import KramaaJSON

/// The node's files: the block store, recursive pins (`files/pins.json`, written durably),
/// the storage quota, uploads staged until committed, and garbage collection of blocks no pin
/// reaches. One lock orders commits, pins and collection, so a collection never removes a
/// block a commit is pinning.
public final class FileStore: @unchecked Sendable {
    public let blocks: BlockStore
    /// Most bytes of blocks the node keeps (pinned or not).
    public let quota: UInt64
    let directory: String
    private let lock = NSLock()
    private var pins: [CID: String] = [:]
    let uploads: UploadArea

    public static let defaultQuota: UInt64 = 10 << 30

    /// Opens (creating) `<dataDirectory>/files`.
    public init(dataDirectory: String, quota: UInt64 = FileStore.defaultQuota) throws {
        directory = dataDirectory + "/files"
        blocks = try BlockStore(directory: directory)
        self.quota = quota
        uploads = try UploadArea(directory: directory + "/uploads", store: blocks)
        pins = try Self.loadPins(directory + "/pins.json")
    }

    static func loadPins(_ path: String) throws -> [CID: String] {
        guard let bytes = try DurableFile.read(path) else { return [:] }
        guard case .object(let object)? = try? JSON.parse(bytes), case .array(let items)? = object["pins"] else {
            throw FileStoreError.io("\(path) is not a pins file; restore it or remove it (every block becomes unpinned)")
        }
        var out: [CID: String] = [:]
        for item in items {
            guard case .object(let pin) = item, case .string(let text)? = pin["cid"], let cid = try? CID(text) else { continue }
            if case .string(let name)? = pin["name"] { out[cid] = name } else { out[cid] = "" }
        }
        return out
    }

    private func savePins() throws {
        let items = pins.keys.sorted().map { cid -> JSON in .object(["cid": .string(cid.string), "name": .string(pins[cid] ?? "")]) }
        let body = JSON.object(["pins": .array(items)]).serialized()
        try DurableFile.write(body, to: directory + "/pins.json", temporary: blocks.temporaryPath())
    }

    public struct Status: Sendable {
        public var cid: CID
        public var pinned: Bool
        /// Whether every block of the DAG is here.
        public var complete: Bool
        public var blocks: Int
        public var bytes: UInt64
        public var missing: [CID]
    }

    /// What the node holds of `cid`'s DAG.
    public func status(_ cid: CID) throws -> Status {
        var status = try walkStatus(cid)
        status.pinned = lock.withLock { pins[cid] != nil }
        return status
    }

    /// The DAG part of `status`, without the lock (callers holding it use this).
    private func walkStatus(_ cid: CID) throws -> Status {
        var seen = Set<CID>()
        var bytes: UInt64 = 0
        var missing: [CID] = []
        // File data (raw leaves) is sized, not read: a status of a large file reads its few nodes only.
        try DAGWalker(source: blocks).walkShape(cid, skipping: &seen, leafSize: { blocks.size($0) }) { next, size in
            if let size { bytes += size } else { missing.append(next) }
        }
        return Status(cid: cid, pinned: false, complete: missing.isEmpty, blocks: seen.count - missing.count, bytes: bytes, missing: missing)
    }

    /// Pins `cid` recursively; every block of its DAG must be here.
    public func pin(_ cid: CID, name: String = "") throws {
        guard blocks.has(cid) else { throw FileStoreError.notFound("\(cid) is not held by this node; add it first (kramaa file add)") }
        try lock.withLock {
            let status = try walkStatus(cid)
            guard status.complete else {
                throw FileStoreError.incomplete("\(cid) is missing \(status.missing.count) block(s), e.g. \(status.missing[0]); add the whole DAG first")
            }
            pins[cid] = name
            try savePins()
        }
    }

    /// Removes a pin; its blocks stay until the next collection.
    public func unpin(_ cid: CID) throws {
        try lock.withLock {
            guard pins.removeValue(forKey: cid) != nil else { throw FileStoreError.notFound("\(cid) is not pinned") }
            try savePins()
        }
    }

    public var pinned: [(cid: CID, name: String)] { lock.withLock { pins.keys.sorted().map { ($0, pins[$0] ?? "") } } }

    /// Removes every block no pin reaches. Returns the blocks and bytes removed.
    public func collectGarbage() throws -> (blocks: Int, bytes: UInt64) {
        try lock.withLock {
            var live = Set<String>()
            let walker = DAGWalker(source: blocks)
            for root in pins.keys {
                var seen = Set<CID>()
                try walker.walk(root, skipping: &seen) { cid, _ in live.insert(BlockStore.key(cid.multihash)) }
            }
            return try blocks.retain(only: live)
        }
    }

    /// Bytes held and staged for uploads, against the quota.
    var used: UInt64 { blocks.usage.bytes + uploads.stagedBytes }

    /// What the store can still take under its quota.
    public var room: UInt64 { quota > used ? quota - used : 0 }

    /// Fails with 413 if `adding` more bytes would pass the quota.
    public func checkQuota(adding: UInt64) throws {
        let used = self.used
        guard used + adding <= quota else { throw FileStoreError.quotaExceeded(used: used, adding: adding, quota: quota) }
    }

    // MARK: Uploads

    /// Starts an upload of about `size` bytes (refused at once beyond the quota).
    public func beginUpload(size: UInt64?) throws -> String {
        try checkQuota(adding: size ?? 0)
        return try uploads.begin()
    }

    /// Adds a CAR of blocks to an upload: each block checked against its CID and staged
    /// durably. A bad block, a truncated CAR or the quota discards the whole upload.
    public func addToUpload(_ id: String, car: [UInt8]) throws -> (blocks: Int, bytes: UInt64) {
        do {
            // The body is read in place: each block is hashed and written from where it lies.
            var reader = CARReader(whole: car)
            var received: [(CID, Range<Int>)] = []
            var size: UInt64 = 0
            while let (cid, range) = try reader.nextInPlace() {
                received.append((cid, range))
                size += UInt64(range.count)
            }
            try reader.finish()
            try checkQuota(adding: size)
            for (cid, range) in received { try uploads.stage(id, cid: cid, block: car[range]) }
            try uploads.sync(id)
            return (received.count, size)
        } catch {
            uploads.discard(id)
            throw error
        }
    }

    /// Ends an upload: the DAG under `root` must be complete (staged or already held); its
    /// staged blocks move into the store, then `root` is pinned. Nothing is kept otherwise.
    public func commitUpload(_ id: String, root: CID, name: String) throws -> Status {
        defer { uploads.discard(id) }
        return try lock.withLock {
            let staged = try uploads.staged(id)
            let source = StagedSource(staged: staged, store: blocks)
            var seen = Set<CID>()
            // Completeness: the DAG's nodes are read, its data blocks only looked up (each was
            // checked against its CID as it arrived).
            try DAGWalker(source: source).walkShape(root, skipping: &seen, leafSize: { source.size($0) }) { cid, size in
                if size == nil { throw FileStoreError.incomplete("the upload does not hold \(cid), which \(root) needs; nothing was stored") }
            }
            try uploads.finish(id)
            try blocks.adoptPack(file: staged.pack, name: id, sections: staged.sections, blocks: staged.blocks)
            pins[root] = name
            try savePins()
            var status = try walkStatus(root)
            status.pinned = true
            return status
        }
    }

    public func discardUpload(_ id: String) throws {
        guard uploads.exists(id) else { throw FileStoreError.unknownUpload(id) }
        uploads.discard(id)
    }
}

/// Blocks of an upload being committed, then the store.
struct StagedSource: BlockSource {
    let staged: UploadArea.Staged
    let store: BlockStore

    func block(_ cid: CID) throws -> [UInt8]? {
        if let location = staged.blocks[BlockStore.key(cid.multihash)] { return try PackFile.read(path: staged.pack, location) }
        return try store.block(cid)
    }

    /// The size of a staged or held block, without reading it.
    func size(_ cid: CID) -> UInt64? {
        staged.blocks[BlockStore.key(cid.multihash)].map { UInt64($0.length) } ?? store.size(cid)
    }
}
