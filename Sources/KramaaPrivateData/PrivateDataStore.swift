import Foundation
import KramaaPlatform
import KramaaPrimitives

/// Where a node keeps the private data items it holds: one file per item under
/// `<data>/private-data/` (mode 0600), named by collection and key, holding the salt and the
/// value. Erasing overwrites the file with zeros before removing it, so the value does not
/// linger in the file's blocks on an ordinary file system.
public final class PrivateDataStore: @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()

    public init(dataDirectory: String) throws {
        directory = dataDirectory + "/private-data"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func path(_ collection: UInt64, _ key: Bytes32) -> String { "\(directory)/\(collection)-\(Hex.encode(key.bytes, prefix: false))" }

    /// Keeps `item`, replacing what was held under its collection and key.
    public func put(_ item: PrivateDataItem) throws {
        try lock.withLock { try PrivateFile.replace(path: path(item.collection, item.key), content: item.salt.bytes + item.value) }
    }

    public func get(_ collection: UInt64, _ key: Bytes32) -> PrivateDataItem? {
        lock.withLock {
            guard let data = FileManager.default.contents(atPath: path(collection, key)), data.count >= 32,
                  let salt = try? Bytes32(Array(data.prefix(32))) else { return nil }
            return PrivateDataItem(collection: collection, key: key, salt: salt, value: Array(data.dropFirst(32)))
        }
    }

    /// Overwrites the item with zeros, syncs, and removes it; true when there was one.
    @discardableResult
    public func erase(_ collection: UInt64, _ key: Bytes32) -> Bool {
        lock.withLock {
            let path = path(collection, key)
            guard let handle = FileHandle(forUpdatingAtPath: path) else { return false }
            let size = (try? handle.seekToEnd()) ?? 0
            try? handle.seek(toOffset: 0)
            try? handle.write(contentsOf: Data(count: Int(size)))
            try? handle.synchronize()
            try? handle.close()
            return unlink(path) == 0
        }
    }

    /// The collection and key of every item held.
    public func all() -> [(collection: UInt64, key: Bytes32)] {
        lock.withLock {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { name in
                let parts = name.split(separator: "-")
                guard parts.count == 2, let collection = UInt64(parts[0]), let key = try? Bytes32(hex: "0x" + parts[1]) else { return nil }
                return (collection, key)
            }
        }
    }
}
