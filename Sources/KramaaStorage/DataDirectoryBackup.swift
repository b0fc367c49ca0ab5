import Foundation
import GRDB
import KramaaPrimitives

/// Online backup and restore of a node's data directory (docs/OPERATIONS.md, "Backup").
///
/// A backup is a directory: a copy of every file the node needs, SQLite databases taken with
/// `VACUUM INTO` (one read transaction: a consistent snapshot, while the node keeps writing in
/// WAL mode), and `manifest.json` listing each file with its size, SHA-256 and mode, and the
/// chain head the copy holds. It is built in `OUT.partial` and renamed to `OUT` only when whole
/// and synced, so a backup cut short (kill -9, full disk) is never mistaken for one.
public enum DataDirectoryBackup {
    public static let manifestName = "manifest.json"
    public static let format = "kramaa-backup-1"
    /// SQLite databases: copied as snapshots, never byte by byte.
    static let databases: Set<String> = ["chain.sqlite", "tags.sqlite", "epcis-index.sqlite"]
    /// Not part of a node's state: locks, SQLite's side files (the snapshot is whole without
    /// them), uploads in flight, temporary files, readiness probes.
    static func skipped(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.hasSuffix(".lock") || name.hasSuffix("-wal") || name.hasSuffix("-shm") || name.hasSuffix("-journal")
            || name == ".ready-probe" || name.contains(".tmp-") || path.hasPrefix("files/tmp/") || path.hasPrefix("files/uploads/")
    }

    /// One file of a backup.
    public struct Entry: Codable, Equatable, Sendable {
        public var path: String
        public var size: UInt64
        public var sha256: String
        public var mode: UInt16
    }

    public struct Manifest: Codable, Equatable, Sendable {
        public var format: String
        public var createdAt: String
        /// The head block in the backed-up chain database.
        public var headNumber: UInt64
        public var headHash: String
        public var files: [Entry]
    }

    /// Backs up `dataDirectory` into `output` (which must not exist). `pause` is slept after
    /// each file, to spare a busy node's disk.
    @discardableResult
    public static func create(dataDirectory: URL, output: URL, pause: Duration = .zero) throws(BackupError) -> Manifest {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: output.path) else { throw .outputExists(output.path) }
        guard fm.fileExists(atPath: dataDirectory.appendingPathComponent("chain.sqlite").path) else {
            throw .notADataDirectory(dataDirectory.path)
        }
        let partial = URL(fileURLWithPath: output.path + ".partial")
        try? fm.removeItem(at: partial)
        do { try fm.createDirectory(at: partial, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw .io("cannot create \(partial.path): \(error.localizedDescription)")
        }
        var entries: [Entry] = []
        // What is derived from the chain (the EPCIS index) first, so it is never ahead of the chain
        // copied after it; then the chain; then the other files (keys, tokens, pins, private data),
        // which only grow or are replaced whole; a restored node catches up from its peers.
        let ordered = relativeFiles(dataDirectory).sorted { (Self.copyOrder($0), $0) < (Self.copyOrder($1), $1) }
        for relative in ordered {
            let source = dataDirectory.appendingPathComponent(relative), target = partial.appendingPathComponent(relative)
            do { try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
                throw .io("cannot create \(target.deletingLastPathComponent().path): \(error.localizedDescription)")
            }
            if databases.contains(relative) {
                try snapshot(source.path, into: target.path)
            } else {
                do { try fm.copyItem(at: source, to: target) } catch {
                    if !fm.fileExists(atPath: source.path) { continue }  // removed meanwhile (a purged item, a rotated file)
                    throw .io("cannot copy \(source.path): \(error.localizedDescription)")
                }
            }
            let mode = UInt16(((try? fm.attributesOfItem(atPath: source.path)[.posixPermissions]) as? Int) ?? 0o600)
            _ = chmod(target.path, mode_t(mode))
            guard let (digest, size) = SHA256Stream.file(target.path) else { throw .io("cannot read back \(target.path)") }
            entries.append(Entry(path: relative, size: size, sha256: digest.description, mode: mode))
            if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
        }
        let head = try headOf(partial.appendingPathComponent("chain.sqlite").path)
        let manifest = Manifest(format: format, createdAt: ISO8601DateFormatter().string(from: Date()), headNumber: head.number,
                                headHash: head.hash, files: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try PrivateFile.create(path: partial.appendingPathComponent(manifestName).path, content: Array(try encoder.encode(manifest)))
        } catch { throw .io("cannot write the manifest: \(error)") }
        syncTree(partial)
        guard rename(partial.path, output.path) == 0 else { throw .io("cannot rename \(partial.path) to \(output.path): \(String(cString: strerror(errno)))") }
        syncTree(output.deletingLastPathComponent(), recursive: false)
        return manifest
    }

    /// Checks a backup against its manifest: every file there with its size and SHA-256, the
    /// databases passing SQLite's integrity check. Returns the manifest.
    public static func verify(_ backup: URL) throws(BackupError) -> Manifest {
        let manifestPath = backup.appendingPathComponent(manifestName).path
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw .incomplete("\(backup.path) has no \(manifestName): the backup did not finish (or this is not a backup)")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch { throw .corrupt("\(manifestName) does not decode: \(error)") }
        guard manifest.format == format else { throw .corrupt("\(manifestName) has format \(manifest.format), expected \(format)") }
        guard manifest.files.contains(where: { $0.path == "chain.sqlite" }) else { throw .corrupt("the backup holds no chain.sqlite") }
        for entry in manifest.files {
            guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else { throw .corrupt("\(entry.path) leaves the backup") }
            let path = backup.appendingPathComponent(entry.path).path
            guard let (digest, size) = SHA256Stream.file(path) else { throw .corrupt("\(entry.path) is missing") }
            guard size == entry.size else { throw .corrupt("\(entry.path) has \(size) bytes; the manifest says \(entry.size) (truncated?)") }
            guard digest.description == entry.sha256 else { throw .corrupt("\(entry.path) does not match its SHA-256 in the manifest") }
            if databases.contains(entry.path) { try integrityCheck(path) }
        }
        let head = try headOf(backup.appendingPathComponent("chain.sqlite").path)
        guard head.number == manifest.headNumber, head.hash == manifest.headHash else {
            throw .corrupt("chain.sqlite's head is block \(head.number) \(head.hash); the manifest says \(manifest.headNumber) \(manifest.headHash)")
        }
        return manifest
    }

    /// Verifies `backup`, then copies it into `dataDirectory` (which must not exist or be
    /// empty). Nothing is written when verification fails; a restore cut short leaves
    /// `dataDirectory.partial`, never a half-filled data directory.
    @discardableResult
    public static func restore(_ backup: URL, to dataDirectory: URL) throws(BackupError) -> Manifest {
        let manifest = try verify(backup)
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: dataDirectory.path), !existing.isEmpty {
            throw .targetNotEmpty(dataDirectory.path)
        }
        let partial = URL(fileURLWithPath: dataDirectory.path + ".partial")
        try? fm.removeItem(at: partial)
        for entry in manifest.files {
            let target = partial.appendingPathComponent(entry.path)
            do {
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try fm.copyItem(at: backup.appendingPathComponent(entry.path), to: target)
            } catch { throw .io("cannot restore \(entry.path): \(error.localizedDescription)") }
            _ = chmod(target.path, mode_t(entry.mode))
        }
        syncTree(partial)
        try? fm.removeItem(at: dataDirectory)  // empty
        guard rename(partial.path, dataDirectory.path) == 0 else {
            throw .io("cannot rename \(partial.path) to \(dataDirectory.path): \(String(cString: strerror(errno)))")
        }
        return manifest
    }

    // MARK: Pieces

    static func copyOrder(_ relative: String) -> Int {
        switch relative {
        case "epcis-index.sqlite": 0
        case "chain.sqlite": 1
        // The tag counter log before the table it is checkpointed into: a checkpoint between
        // the two copies leaves its counters in the table's snapshot, never in neither.
        case "tags.sqlite": 3
        default: 2
        }
    }

    static func relativeFiles(_ directory: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                  !isDirectory.boolValue, !skipped(relative) else { continue }
            out.append(relative)
        }
        return out
    }

    /// A consistent copy of a live SQLite database (its committed state at one moment).
    static func snapshot(_ source: String, into target: String) throws(BackupError) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let db = try DatabaseQueue(path: source, configuration: configuration)
            try db.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [target]) }
            try db.close()
        } catch { throw .io("cannot snapshot \(source): \(error)") }
    }

    static func integrityCheck(_ path: String) throws(BackupError) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let db = try DatabaseQueue(path: path, configuration: configuration)
            let result = try db.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            try db.close()
            guard result == "ok" else { throw BackupError.corrupt("\((path as NSString).lastPathComponent) fails SQLite's integrity check: \(result ?? "no answer")") }
        } catch let error as BackupError { throw error } catch {
            throw .corrupt("\((path as NSString).lastPathComponent) is not a readable SQLite database: \(error)")
        }
    }

    static func headOf(_ path: String) throws(BackupError) -> (number: UInt64, hash: String) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let db = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? db.close() }
            return try db.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT number, hash FROM headers ORDER BY number DESC LIMIT 1") else {
                    throw BackupError.corrupt("chain.sqlite holds no block")
                }
                let hash: Data = row["hash"]
                return (UInt64(row["number"] as Int64), Hex.encode(Array(hash)))
            }
        } catch let error as BackupError { throw error } catch {
            throw .corrupt("chain.sqlite cannot be read: \(error)")
        }
    }

    /// fsync of every file and directory under `url` (or just `url`).
    static func syncTree(_ url: URL, recursive: Bool = true) {
        var paths = [url.path]
        if recursive, let walker = FileManager.default.enumerator(atPath: url.path) {
            while let relative = walker.nextObject() as? String { paths.append(url.appendingPathComponent(relative).path) }
        }
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            _ = fsync(fd)
            close(fd)
        }
    }
}

/// Why a backup, its check or a restore failed.
public enum BackupError: Error, Equatable, CustomStringConvertible {
    case outputExists(String)
    case targetNotEmpty(String)
    case notADataDirectory(String)
    case incomplete(String)
    case corrupt(String)
    case io(String)

    public var description: String {
        switch self {
        case .outputExists(let path): "\(path) exists already: name a new place"
        case .targetNotEmpty(let path): "\(path) is not empty: restore into a new data directory"
        case .notADataDirectory(let path): "\(path) is not a node's data directory (it has no chain.sqlite)"
        case .incomplete(let why): "incomplete backup: \(why)"
        case .corrupt(let why): "the backup does not verify: \(why)"
        case .io(let why): why
        }
    }
}
