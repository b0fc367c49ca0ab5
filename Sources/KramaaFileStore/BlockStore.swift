import Foundation
import KramaaFiles

/// Blocks on disk under `<data>/files`. A block stored alone (`put`: replication, pinning
/// services) is a file in `blocks/`, named by its multihash (base32, so CIDv0 and CIDv1 of the
/// same bytes share it), in 2-character sub-directories (the characters before the last); it is
/// written to `tmp/`, fsynced, renamed into place and its directory fsynced before `put`
/// returns. An upload's blocks arrive as one pack file in `packs/` (``PackFile``), indexed in
/// memory from a scan at start. Other code reads and writes blocks through this type or through
/// `BlockSource`/`BlockSink`.
public final class BlockStore: BlockSource, @unchecked Sendable {
    public let root: String
    let blocksDirectory: String
    let tmpDirectory: String
    let packsDirectory: String
    private let lock = NSLock()
    private var usedBytes: UInt64 = 0
    private var count = 0
    private var sequence = 0
    /// Blocks held in packs, and how many sections each pack has (more than it has indexed
    /// blocks when some of them are also held alone: collection then rewrites it).
    private var packed: [String: PackLocation] = [:]
    private var packSections: [String: Int] = [:]
    /// The pack that batches of blocks (replication) are appended to, until it passes
    /// `batchPackLimit`; its lock orders appends and collection.
    private let batchLock = NSLock()
    private var batchPack: (name: String, writer: PackFile.Writer, bytes: UInt64)?
    static let batchPackLimit: UInt64 = 256 << 20

    public init(directory: String) throws {
        root = directory
        blocksDirectory = directory + "/blocks"
        tmpDirectory = directory + "/tmp"
        packsDirectory = directory + "/packs"
        for d in [directory, blocksDirectory, tmpDirectory, packsDirectory] {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw FileStoreError.io("cannot create \(d): \(error.localizedDescription)")
            }
        }
        // Leftovers of writes a crash interrupted were never acknowledged.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpDirectory)) ?? [] { unlink(tmpDirectory + "/" + name) }
        try forEachLooseKey { _, size in
            usedBytes += size
            count += 1
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: packsDirectory)) ?? [] where file.hasSuffix(PackFile.suffix) {
            let name = String(file.dropLast(PackFile.suffix.count))
            var sections = 0
            try PackFile.scan(path: packPath(name), name: name) { key, location in
                sections += 1
                if packed[key] == nil && !hasLoose(key) {
                    packed[key] = location
                    usedBytes += UInt64(location.length)
                    count += 1
                }
            }
            packSections[name] = sections
        }
    }

    func packPath(_ name: String) -> String { "\(packsDirectory)/\(name)\(PackFile.suffix)" }

    private func hasLoose(_ key: String) -> Bool { access(path(key), F_OK) == 0 }

    private func location(_ key: String) -> PackLocation? { lock.withLock { packed[key] } }

    /// Bytes and blocks held.
    public var usage: (bytes: UInt64, blocks: Int) { lock.withLock { (usedBytes, count) } }

    static func key(_ multihash: Multihash) -> String { Multibase.encodeBare(multihash.bytes, base: .base32) }

    func path(_ key: String) -> String {
        let chars = Array(key)
        let shard = String(chars[chars.count - 3..<chars.count - 1])
        return "\(blocksDirectory)/\(shard)/\(key)"
    }

    public func has(_ cid: CID) -> Bool {
        if cid.multihash.code == Multihash.identity { return true }
        let key = Self.key(cid.multihash)
        return location(key) != nil || hasLoose(key)
    }

    public func block(_ cid: CID) throws -> [UInt8]? {
        if cid.multihash.code == Multihash.identity { return cid.multihash.digest }
        let key = Self.key(cid.multihash)
        // A pack being collected has its live blocks written alone first: a read that finds the
        // pack gone finds the block alone.
        if let location = location(key), let block = try PackFile.read(path: packPath(location.pack), location) { return block }
        return try DurableFile.read(path(key))
    }

    /// The size of a block held, without reading it.
    public func size(_ cid: CID) -> UInt64? {
        let key = Self.key(cid.multihash)
        if let location = location(key) { return UInt64(location.length) }
        var st = stat()
        return stat(path(key), &st) == 0 ? UInt64(st.st_size) : nil
    }

    /// A fresh temporary path in `files/tmp`.
    func temporaryPath() -> String {
        lock.withLock {
            sequence += 1
            return "\(tmpDirectory)/\(getpid())-\(sequence)"
        }
    }

    /// Stores a block, checking it against its CID first. Returns whether it was new.
    @discardableResult
    public func put(_ cid: CID, _ block: [UInt8], syncDirectory: Bool = true) throws -> Bool {
        try cid.verify(block)
        if cid.multihash.code == Multihash.identity { return false }
        let key = Self.key(cid.multihash)
        let target = path(key)
        if location(key) != nil || hasLoose(key) { return false }
        try ensureShard(target)
        try DurableFile.write(block, to: target, temporary: temporaryPath(), syncDirectory: syncDirectory)
        lock.withLock {
            usedBytes += UInt64(block.count)
            count += 1
        }
        return true
    }

    /// Stores blocks received together (a replication message), each checked against its CID
    /// first unless the caller did (`checked`: replication's fetch checks every block before it
    /// decides whether to penalise the peer, so hashing it again here only doubles the work):
    /// appended to the batch pack, made durable with one write and fdatasync, then indexed. One
    /// journal commit for the batch instead of two per block. Returns how many were new.
    @discardableResult
    public func put(batch: [(cid: CID, block: [UInt8])], checked: Bool = false) throws -> Int {
        if !checked { for item in batch { try item.cid.verify(item.block) } }
        return try batchLock.withLock {
            var keys = Set<String>()
            var appended: [(key: String, location: PackLocation)] = []
            do {
                for (cid, block) in batch where cid.multihash.code != Multihash.identity {
                    let key = Self.key(cid.multihash)
                    guard !keys.contains(key), location(key) == nil, !hasLoose(key) else { continue }
                    keys.insert(key)
                    let pack = try openBatchPack()
                    let (offset, length) = try pack.writer.append(cid, block[...])
                    appended.append((key, PackLocation(pack: pack.name, offset: offset, length: length)))
                    batchPack?.bytes += UInt64(length)
                }
                guard let pack = batchPack, !appended.isEmpty else { return 0 }
                try pack.writer.sync()
            } catch {
                // What was appended is not acknowledged; the next batch starts a new pack.
                batchPack = nil
                throw error
            }
            lock.withLock {
                // A commit may have indexed one of these meanwhile: that copy stays the one read.
                for (key, location) in appended where packed[key] == nil {
                    packed[key] = location
                    usedBytes += UInt64(location.length)
                    count += 1
                }
                packSections[appended[0].location.pack, default: 0] += appended.count
            }
            if let pack = batchPack, pack.bytes >= Self.batchPackLimit { try closeBatchPack() }
            return appended.count
        }
    }

    /// The open batch pack, created (and its directory entry made durable) if there is none.
    private func openBatchPack() throws -> (name: String, writer: PackFile.Writer, bytes: UInt64) {
        if let pack = batchPack { return pack }
        let name = "batch-" + UploadArea.randomName(bytes: 12)
        let pack = (name: name, writer: try PackFile.Writer(path: packPath(name)), bytes: UInt64(0))
        try DurableFile.syncDirectory(packsDirectory)
        batchPack = pack
        return pack
    }

    /// Completes the open batch pack (its padding cut); the next batch starts another.
    private func closeBatchPack() throws {
        guard let pack = batchPack else { return }
        batchPack = nil
        try pack.writer.finish()
    }

    /// Moves an upload's pack, complete and durable, into `packs/` and indexes its blocks
    /// (`blocks`: key → where it lies in the pack). Blocks the store already holds stay where they
    /// are; a pack none of whose blocks is new is deleted at once.
    func adoptPack(file: String, name: String, sections: Int, blocks: [String: PackLocation]) throws {
        let target = packPath(name)
        try DurableFile.rename(file, to: target)
        try DurableFile.syncDirectory(packsDirectory)
        let indexed = lock.withLock { () -> Int in
            var indexed = 0
            for (key, location) in blocks where packed[key] == nil && !hasLoose(key) {
                packed[key] = location
                usedBytes += UInt64(location.length)
                count += 1
                indexed += 1
            }
            if indexed > 0 { packSections[name] = sections }
            return indexed
        }
        if indexed == 0 { unlink(target) }
    }

    private func ensureShard(_ target: String) throws {
        let shard = (target as NSString).deletingLastPathComponent
        if access(shard, F_OK) != 0 {
            mkdir(shard, 0o755)
            try DurableFile.syncDirectory(blocksDirectory)
        }
    }

    /// Removes every block whose key is not in `live` (garbage collection). A pack all of whose
    /// blocks are dead is deleted; one with some live blocks (or sections held alone as well) has
    /// its live blocks written alone, durably, before it is deleted. Returns what was removed.
    func retain(only live: Set<String>) throws -> (blocks: Int, bytes: UInt64) {
        try batchLock.withLock {
            try closeBatchPack()
            return try retainClosed(only: live)
        }
    }

    private func retainClosed(only live: Set<String>) throws -> (blocks: Int, bytes: UInt64) {
        var removedBlocks = 0
        var removedBytes: UInt64 = 0
        var dead: [(String, UInt64)] = []
        try forEachLooseKey { key, size in if !live.contains(key) { dead.append((key, size)) } }
        for (key, size) in dead where unlink(path(key)) == 0 {
            removedBlocks += 1
            removedBytes += size
        }
        let byPack = lock.withLock { Dictionary(grouping: packed, by: { $0.value.pack }) }
        for (name, entries) in byPack {
            let survivors = entries.filter { live.contains($0.key) }
            let whole = lock.withLock { packSections[name] } == entries.count
            if survivors.count == entries.count && whole { continue }
            for (key, location) in survivors {
                guard let block = try PackFile.read(path: packPath(name), location) else { continue }
                let target = path(key)
                try ensureShard(target)
                try DurableFile.write(block, to: target, temporary: temporaryPath())
            }
            lock.withLock {
                for (key, _) in entries { packed[key] = nil }
                packSections[name] = nil
            }
            unlink(packPath(name))
            for (key, location) in entries where !live.contains(key) {
                removedBlocks += 1
                removedBytes += UInt64(location.length)
            }
        }
        try DurableFile.syncDirectory(packsDirectory)
        lock.withLock {
            usedBytes -= min(usedBytes, removedBytes)
            count -= min(count, removedBlocks)
        }
        return (removedBlocks, removedBytes)
    }

    /// Every block held alone: its key and size.
    private func forEachLooseKey(_ body: (String, UInt64) throws -> Void) throws {
        let fm = FileManager.default
        for shard in (try? fm.contentsOfDirectory(atPath: blocksDirectory)) ?? [] {
            for key in (try? fm.contentsOfDirectory(atPath: blocksDirectory + "/" + shard)) ?? [] {
                var st = stat()
                guard stat("\(blocksDirectory)/\(shard)/\(key)", &st) == 0 else { continue }
                try body(key, UInt64(st.st_size))
            }
        }
    }
}
