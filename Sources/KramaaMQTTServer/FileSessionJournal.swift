import Foundation
import KramaaBroker
import KramaaMQTT
import KramaaPrimitives

/// Why the MQTT session journal cannot be read or written.
public enum SessionJournalError: Error, CustomStringConvertible {
    case file(PrivateFileError)
    case damaged(path: String, reason: String)

    public var description: String {
        switch self {
        case .file(let e): "MQTT session journal: \(e)"
        case .damaged(let path, let reason): "MQTT session journal \(path) cannot be read: \(reason); move it aside to start with no sessions"
        }
    }
}

/// Persistent MQTT sessions and retained messages on disk: `DIR/mqtt-sessions.journal`, a
/// ``RecordLog`` of one record per commit (the journal changes of that commit, so a commit is
/// whole or absent after a crash). A commit is a single `write`, done before the broker sends
/// the acknowledgements that depend on it, so what was acknowledged survives the process being
/// killed (kill -9); with `syncEachCommit` it is also `fdatasync`ed (power loss), at the cost
/// of a sync per batch. The file is rewritten from the state it adds up to when it has grown
/// past 4 times that (and 8 MiB).
public final class FileSessionJournal: SessionJournal {
    static let magic = Array("kramaa-mqtt-sessions-v1\n".utf8)
    public static let fileName = "mqtt-sessions.journal"

    public let path: String
    let syncEachCommit: Bool
    private var state = JournalState()
    private var pending = MQTTWriter()
    private var pendingChanges: [JournalChange] = []
    private var fd: Int32 = -1
    private var fileBytes = 0
    private var compactedBytes = 0
    public private(set) var commits = 0

    /// Opens (or creates) the journal at `path`, replaying and compacting what it holds.
    public init(path: String, syncEachCommit: Bool = false) throws(SessionJournalError) {
        self.path = path
        self.syncEachCommit = syncEachCommit
        let records: [[UInt8]]
        do { records = try RecordLog.read(path: path, magic: Self.magic) } catch { throw .file(error) }
        for record in records {
            var r = MQTTReader(record)
            while !r.isAtEnd {
                do { state.apply(try JournalCoding.decode(&r)) } catch {
                    throw .damaged(path: path, reason: "\(error)")
                }
            }
        }
        try rewrite()
    }

    deinit { if fd >= 0 { close(fd) } }

    public func load() throws -> (sessions: [PersistedSession], retained: [BrokerMessage]) {
        (Array(state.sessions.values), Array(state.retained.values))
    }

    public func record(_ change: JournalChange) {
        JournalCoding.encode(change, into: &pending)
        pendingChanges.append(change)
    }

    public func commit() throws {
        guard !pendingChanges.isEmpty else { return }
        var bytes: [UInt8] = []
        RecordLog.frame(pending.bytes, into: &bytes)
        pending = MQTTWriter()
        for c in pendingChanges { state.apply(c) }
        pendingChanges.removeAll(keepingCapacity: true)
        if let code = PrivateFile.writeAll(bytes, to: fd) { throw SessionJournalError.file(.io(path: path, operation: "write", errno: code)) }
        if syncEachCommit && fdatasync(fd) != 0 { throw SessionJournalError.file(.io(path: path, operation: "fdatasync", errno: errno)) }
        fileBytes += bytes.count
        commits += 1
        if fileBytes > 8 << 20 && fileBytes > 4 * compactedBytes { try rewrite() }
    }

    /// Replaces the file with the changes that rebuild the current state.
    private func rewrite() throws(SessionJournalError) {
        var w = MQTTWriter()
        for c in state.changes { JournalCoding.encode(c, into: &w) }
        let records = w.bytes.isEmpty ? [] : [w.bytes]
        do {
            let (newFD, size) = try RecordLog.replace(path: path, magic: Self.magic, records: records)
            if fd >= 0 { close(fd) }
            fd = newFD
            fileBytes = size
            compactedBytes = size
        } catch {
            throw .file(error)
        }
    }
}
