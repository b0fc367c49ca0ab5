import Foundation
import KramaaFiles

/// Blocks on disk under `<data>/files/blocks`, one file per block named by its multihash
/// (base32, so CIDv0 and CIDv1 of the same bytes share it), in 2-character sub-directories
/// (the characters before the last). A block is written to `files/tmp`, fsynced, renamed into
/// place and its directory fsynced before `put` returns. Other code (replication, pinning
/// services) reads and writes blocks through this type or through `BlockSource`/`BlockSink`.
public final class BlockStore: BlockSource, @unchecked Sendable {
    public let root: String
    let blocksDirectory: String
    let tmpDirectory: String
    private let lock = NSLock()
    private var usedBytes: UInt64 = 0
    private var count = 0
    private var sequence = 0

    public init(directory: String) throws {
        root = directory
        blocksDirectory = directory + "/blocks"
        tmpDirectory = directory + "/tmp"
        for d in [directory, blocksDirectory, tmpDirectory] {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw FileStoreError.io("cannot create \(d): \(error.localizedDescription)")
            }
        }
        // Leftovers of writes a crash interrupted were never acknowledged.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmpDirectory)) ?? [] { unlink(tmpDirectory + "/" + name) }
        try forEachKey { _, size in
            usedBytes += size
            count += 1
        }
    }

    /// Bytes and blocks held.
    public var usage: (bytes: UInt64, blocks: Int) { lock.withLock { (usedBytes, count) } }

    static func key(_ multihash: Multihash) -> String { Multibase.encodeBare(multihash.bytes, base: .base32) }

    func path(_ key: String) -> String {
        let chars = Array(key)
        let shard = String(chars[chars.count - 3..<chars.count - 1])
        return "\(blocksDirectory)/\(shard)/\(key)"
    }

    public func has(_ cid: CID) -> Bool {
        access(path(Self.key(cid.multihash)), F_OK) == 0 || cid.multihash.code == Multihash.identity
    }

    public func block(_ cid: CID) throws -> [UInt8]? {
        if cid.multihash.code == Multihash.identity { return cid.multihash.digest }
        return try DurableFile.read(path(Self.key(cid.multihash)))
    }

    /// The size of a block held, without reading it.
    public func size(_ cid: CID) -> UInt64? {
        var st = stat()
        return stat(path(Self.key(cid.multihash)), &st) == 0 ? UInt64(st.st_size) : nil
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
        let target = path(Self.key(cid.multihash))
        if access(target, F_OK) == 0 { return false }
        try ensureShard(target)
        try DurableFile.write(block, to: target, temporary: temporaryPath(), syncDirectory: syncDirectory)
        lock.withLock {
            usedBytes += UInt64(block.count)
            count += 1
        }
        return true
    }

    /// Moves a block file already written and fsynced (an upload's staging area) into place.
    func adopt(file: String, multihash: Multihash, size: UInt64) throws -> String? {
        let target = path(Self.key(multihash))
        if access(target, F_OK) == 0 { unlink(file); return nil }
        try ensureShard(target)
        try DurableFile.rename(file, to: target)
        lock.withLock {
            usedBytes += size
            count += 1
        }
        return (target as NSString).deletingLastPathComponent
    }

    private func ensureShard(_ target: String) throws {
        let shard = (target as NSString).deletingLastPathComponent
        if access(shard, F_OK) != 0 {
            mkdir(shard, 0o755)
            try DurableFile.syncDirectory(blocksDirectory)
        }
    }

    /// Removes a block (garbage collection).
    func delete(key: String, size: UInt64) {
        if unlink(path(key)) == 0 {
            lock.withLock {
                usedBytes -= min(usedBytes, size)
                count -= 1
            }
        }
    }

    /// Every block's key and size.
    func forEachKey(_ body: (String, UInt64) throws -> Void) throws {
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
