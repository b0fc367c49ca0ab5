import Foundation
import KramaaFiles

/// Uploads in progress: `files/uploads/<id>/`, one durably written file per block received.
/// Nothing here is in the store until the upload commits; a discarded upload (or one a restart
/// interrupted) is deleted whole, so a failed upload leaves nothing behind.
final class UploadArea: @unchecked Sendable {
    let directory: String
    let store: BlockStore
    private let lock = NSLock()
    private var sizes: [String: UInt64] = [:]

    struct Staged {
        var files: [String: (path: String, multihash: Multihash, size: UInt64)] = [:]
    }
    private var staged: [String: Staged] = [:]

    init(directory: String, store: BlockStore) throws {
        self.directory = directory
        self.store = store
        try? FileManager.default.removeItem(atPath: directory)
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw FileStoreError.io("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    var stagedBytes: UInt64 { lock.withLock { sizes.values.reduce(0, +) } }

    func begin() throws -> String {
        let id = (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16).leftPadded2 }.joined()
        guard mkdir(directory + "/" + id, 0o755) == 0 else { throw FileStoreError.io("cannot create an upload directory") }
        lock.withLock {
            sizes[id] = 0
            staged[id] = Staged()
        }
        return id
    }

    func exists(_ id: String) -> Bool { lock.withLock { staged[id] != nil } }

    func stage(_ id: String, cid: CID, block: ArraySlice<UInt8>) throws {
        guard exists(id) else { throw FileStoreError.unknownUpload(id) }
        if cid.multihash.code == Multihash.identity || store.has(cid) { return }
        let key = BlockStore.key(cid.multihash)
        let path = "\(directory)/\(id)/\(key)"
        if lock.withLock({ staged[id]?.files[key] != nil }) { return }
        // Written in place (the area is deleted whole at start, so a torn file never counts) and made
        // durable with the rest of the batch by `sync` (one syncfs), before the batch is acknowledged.
        try DurableFile.write(block, to: path, temporary: nil, syncFile: false, syncDirectory: false, startWriteback: true)
        lock.withLock {
            staged[id]?.files[key] = (path, cid.multihash, UInt64(block.count))
            sizes[id, default: 0] += UInt64(block.count)
        }
    }

    /// Makes a batch of `stage`d blocks durable: their contents (one syncfs for the batch) and
    /// their renames (one directory fsync).
    func sync(_ id: String) throws {
        try DurableFile.syncFileSystem(of: "\(directory)/\(id)")
        try DurableFile.syncDirectory("\(directory)/\(id)")
    }

    func staged(_ id: String) throws -> Staged {
        guard let s = lock.withLock({ staged[id] }) else { throw FileStoreError.unknownUpload(id) }
        return s
    }

    func discard(_ id: String) {
        lock.withLock {
            sizes[id] = nil
            staged[id] = nil
        }
        try? FileManager.default.removeItem(atPath: "\(directory)/\(id)")
    }
}

extension String {
    var leftPadded2: String { count >= 2 ? self : "0" + self }
}
