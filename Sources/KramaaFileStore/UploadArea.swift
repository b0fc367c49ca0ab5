import Foundation
import KramaaFiles

/// Uploads in progress: `files/uploads/<id>/pack`, the upload's new blocks appended to one pack
/// file (``PackFile``) as they arrive. Nothing here is in the store until the upload commits and
/// the pack moves into `files/packs`; a discarded upload (or one a restart interrupted) is
/// deleted whole, so a failed upload leaves nothing behind.
final class UploadArea: @unchecked Sendable {
    let directory: String
    let store: BlockStore
    private let lock = NSLock()
    private var uploads: [String: Upload] = [:]

    /// One upload's pack and the blocks staged in it.
    final class Upload: @unchecked Sendable {
        let pack: PackFile.Writer
        var blocks: [String: PackLocation] = [:]
        var sections = 0
        var bytes: UInt64 = 0

        init(pack: PackFile.Writer) { self.pack = pack }
    }

    /// What an upload staged: its pack's path and the blocks in it.
    struct Staged {
        var pack: String
        var sections: Int
        var blocks: [String: PackLocation]
    }

    init(directory: String, store: BlockStore) throws {
        self.directory = directory
        self.store = store
        try? FileManager.default.removeItem(atPath: directory)
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw FileStoreError.io("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    var stagedBytes: UInt64 { lock.withLock { uploads.values.reduce(0) { $0 + $1.bytes } } }

    func begin() throws -> String {
        let id = Self.randomName(bytes: 16)
        guard mkdir(directory + "/" + id, 0o755) == 0 else { throw FileStoreError.io("cannot create an upload directory") }
        let upload = Upload(pack: try PackFile.Writer(path: "\(directory)/\(id)/pack"))
        lock.withLock { uploads[id] = upload }
        return id
    }

    func exists(_ id: String) -> Bool { lock.withLock { uploads[id] != nil } }

    private func upload(_ id: String) throws -> Upload {
        guard let upload = lock.withLock({ uploads[id] }) else { throw FileStoreError.unknownUpload(id) }
        return upload
    }

    /// Appends a block (checked against its CID by the caller) to the upload's pack, unless the
    /// store or the upload holds it already.
    func stage(_ id: String, cid: CID, block: ArraySlice<UInt8>) throws {
        let upload = try upload(id)
        if cid.multihash.code == Multihash.identity || store.has(cid) { return }
        let key = BlockStore.key(cid.multihash)
        // Claimed before writing, so a block sent twice at once is written once.
        let claimed = lock.withLock { () -> Bool in
            guard upload.blocks[key] == nil else { return false }
            upload.blocks[key] = PackLocation(pack: "", offset: 0, length: 0)
            return true
        }
        guard claimed else { return }
        do {
            let (offset, length) = try upload.pack.append(cid, block)
            lock.withLock {
                upload.blocks[key] = PackLocation(pack: id, offset: offset, length: length)
                upload.sections += 1
                upload.bytes += UInt64(length)
            }
        } catch {
            lock.withLock { upload.blocks[key] = nil }
            throw error
        }
    }

    /// Makes a batch of `stage`d blocks durable (one write and fdatasync of the pack) before it is acknowledged.
    func sync(_ id: String) throws {
        try upload(id).pack.sync()
    }

    /// Completes the upload's pack before it moves into the store.
    func finish(_ id: String) throws {
        try upload(id).pack.finish()
    }

    func staged(_ id: String) throws -> Staged {
        let upload = try upload(id)
        return lock.withLock { Staged(pack: upload.pack.path, sections: upload.sections, blocks: upload.blocks) }
    }

    func discard(_ id: String) {
        lock.withLock { uploads[id] = nil }
        try? FileManager.default.removeItem(atPath: "\(directory)/\(id)")
    }
}

extension UploadArea {
    /// A fresh random name for an upload or a pack: `bytes` random bytes in hex.
    static func randomName(bytes: Int) -> String {
        Multibase.encodeBare((0..<bytes).map { _ in UInt8.random(in: 0...255) }, base: .base16)
    }
}
