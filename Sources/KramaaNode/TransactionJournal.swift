import Foundation
import KramaaPrimitives

/// Why the transaction journal cannot keep its promise.
public enum JournalError: Error, CustomStringConvertible, Equatable {
    init(_ error: PrivateFileError, path: String) {
        if case .io(let path, let operation, let code) = error { self = .io(path: path, operation: operation, errno: code) } else {
            self = .io(path: path, operation: "replace", errno: EIO)
        }
    }


    /// A read, write or sync of the journal failed; `errno` says why.
    case io(path: String, operation: String, errno: Int32)
    /// The journal was closed (the node is stopping): nothing more is acknowledged.
    case closed

    public var description: String {
        switch self {
        case .io(let path, let operation, let code):
            return "transaction journal \(path): \(operation) failed (\(String(cString: strerror(code)))); "
                + "the node accepts no transactions until it is restarted with a writable data directory"
        case .closed:
            return "the transaction journal is closed (the node is stopping); send the transaction again to a running node"
        }
    }
}

/// The pool's journal, `DIR/txpool.journal`: every transaction the pool accepts is appended
/// here, and an acknowledgement (the hash answered to eth_sendRawTransaction) waits until its
/// record is on disk, so a transaction a node answered survives that node's crash (kill -9,
/// power loss). On start the node replays the journal into its pool (docs/DATA.md).
///
/// Group commit: one writer thread writes everything appended while the previous sync ran and
/// syncs it once (`fdatasync`), then wakes the waiters of all those records, so the sync rate
/// does not bound the acceptance rate. Records nobody waits for yet (peers' transactions) are
/// synced within 100 ms or with the next awaited one. The file is rewritten from the live pool (atomically:
/// temporary file, sync, rename, directory sync) when it has grown well past it, so it holds
/// about what the pool holds.
///
/// File: the magic line `kramaa-txpool-v1\n`, then records of a 4-byte big-endian length, the
/// first 4 bytes of keccak256 of the transaction and the transaction (EIP-2718 envelope). A
/// record cut short by a crash (or damaged) ends the reading; what follows it is ignored.
public final class TransactionJournal: @unchecked Sendable {
    /// Names a record: waiting on it returns once that record (and every earlier one) is durable.
    public typealias Ticket = UInt64

    static let fileName = "txpool.journal"
    static let magic = Array("kramaa-txpool-v1\n".utf8)

    public let path: String
    private let condition = NSCondition()
    private var fd: Int32
    /// Records appended and not yet written, and since when (uptime, ns) it holds any.
    private var buffer: [UInt8] = []
    private var bufferedSince: UInt64 = 0
    /// How long records nobody waits for may stay unsynced: peers' transactions are journaled
    /// without an acknowledgement depending on them, so they need not cost a sync each.
    let unwaitedDelay: Duration
    /// The last ticket handed out, and the last one on disk.
    private var appended: Ticket = 0
    private var durable: Ticket = 0
    private var waiters: [(ticket: Ticket, continuation: CheckedContinuation<Void, any Error>)] = []
    private var failure: JournalError?
    private var stopped = false
    private var fileBytes = 0
    private var syncCount = 0
    /// The file size after the last rewrite (what the pool held then).
    private var compactedBytes = 0
    private let finished = DispatchSemaphore(value: 0)
    /// Gives the live records for a rewrite; see `init`.
    private let liveRecords: (_ cut: () -> Void) -> [[UInt8]]
    /// A rewrite happens once the file exceeds this and four times the size of the last one.
    let compactionThreshold: Int

    /// Records of the journal at `path` in order (none if there is no file), stopping at the
    /// first record that is cut short or damaged.
    public static func read(path: String) throws(JournalError) -> [[UInt8]] {
        do { return try RecordLog.read(path: path, magic: magic) } catch { throw JournalError(error, path: path) }
    }

    /// Starts a journal at `path` holding `initial` (the pool as replayed), replacing the file.
    ///
    /// - Parameter liveRecords: returns every transaction the pool holds now, encoded, for a
    ///   rewrite. It must call `cut` while holding the lock under which the owner calls `append`
    ///   after adding to its pool, so that every record is either in what it returns or
    ///   appended after the cut.
    ///   `unwaitedDelay` bounds how long records nobody waits for stay unsynced.
    public init(path: String, initial: [[UInt8]], compactionThreshold: Int = 16 << 20, unwaitedDelay: Duration = .milliseconds(100),
                liveRecords: @escaping (_ cut: () -> Void) -> [[UInt8]]) throws(JournalError) {
        self.path = path
        self.unwaitedDelay = unwaitedDelay
        self.liveRecords = liveRecords
        self.compactionThreshold = compactionThreshold
        fd = -1
        fd = try replaceFile(with: initial)
        let thread = Thread { [self] in
            while writeNext() {}
            finished.signal()
        }
        thread.name = "kramaa-txpool-journal"
        thread.start()
    }

    /// Queues `record` for the disk; returns its ticket for `waitUntilDurable`.
    /// - Throws: the failure that stopped the journal, if any.
    public func append(_ record: [UInt8]) throws(JournalError) -> Ticket {
        try append(record, hash: Keccak256.hash(record))
    }

    /// Queues `record`, whose keccak256 the caller has already (a transaction's hash is that of
    /// its encoding): the node appends under its lock, so nothing is hashed twice there.
    public func append(_ record: [UInt8], hash: Bytes32) throws(JournalError) -> Ticket {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        if stopped { throw .closed }
        let first = buffer.isEmpty
        if first { bufferedSince = DispatchTime.now().uptimeNanoseconds }
        RecordLog.frame(record, hash: hash, into: &buffer)
        appended += 1
        // Only the first record of a write matters to the writer (it starts the unwaited
        // delay); later ones leave its deadline as it was, and waking it for each would cost a
        // context switch per transaction.
        if first { condition.signal() }
        return appended
    }

    /// Returns once the record of `ticket` is on disk; throws if the journal cannot write it.
    public func waitUntilDurable(_ ticket: Ticket) async throws(JournalError) {
        // Most of a batch's tickets were made durable by the sync its first one waited for:
        // those return without suspending the task (a suspension is a hop through the executor).
        if condition.withLock({ durable >= ticket }) { return }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                condition.lock()
                if durable >= ticket {
                    condition.unlock()
                    continuation.resume()
                } else if let failure = failure ?? (stopped ? .closed : nil) {
                    condition.unlock()
                    continuation.resume(throwing: failure)
                } else {
                    // Someone waits now: sync without the unwaited delay. The writer has been
                    // told already if others wait (it takes every waiter before it sleeps again).
                    if waiters.isEmpty { condition.signal() }
                    waiters.append((ticket, continuation))
                    condition.unlock()
                }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw .closed
        }
    }

    /// Syncs of appended records so far (each covers everything appended while the previous ran).
    public var syncs: Int { condition.withLock { syncCount } }

    /// Writes what is queued, then ends the writer thread and closes the file. Waiters of
    /// records written are answered; appends after this throw `closed`.
    public func close() {
        condition.lock()
        let wasRunning = !stopped
        stopped = true
        condition.signal()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    // MARK: The writer thread

    /// Waits for records, writes and syncs them, answers their waiters, and rewrites the file
    /// when it has grown; false once stopped with nothing left to write.
    private func writeNext() -> Bool {
        condition.lock()
        while !stopped {
            if buffer.isEmpty {
                condition.wait()
                continue
            }
            if !waiters.isEmpty || failure != nil { break }
            // Only records nobody waits for (transactions from peers): synced within
            // `unwaitedDelay`, or with the next acknowledged one, whichever comes first.
            let due = bufferedSince + UInt64(unwaitedDelay.inNanoseconds)
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= due { break }
            _ = condition.wait(until: Date().addingTimeInterval(Double(due - now) / 1e9))
        }
        if failure != nil { buffer.removeAll() }  // nothing more can be made durable
        if buffer.isEmpty {  // stopped, everything written
            condition.unlock()
            finish()
            return false
        }
        let bytes = buffer, last = appended
        buffer.removeAll(keepingCapacity: true)
        condition.unlock()
        do throws(JournalError) {
            try Self.writeAll(bytes, to: fd, path: path)
            guard fdatasync(fd) == 0 else { throw .io(path: path, operation: "fdatasync", errno: errno) }
            fileBytes += bytes.count
            condition.withLock { syncCount += 1 }
            settle(durableThrough: last)
            if fileBytes > compactionThreshold && fileBytes > 4 * compactedBytes { try compact() }
        } catch {
            fail(error)
        }
        return true
    }

    /// Rewrites the file with the pool's live transactions (records appended after the cut
    /// follow in the new file).
    private func compact() throws(JournalError) {
        var cut: Ticket = 0
        let live = liveRecords {
            condition.lock()
            cut = appended
            buffer.removeAll(keepingCapacity: true)  // in the pool (hence `live`) or already in a stored block
            condition.unlock()
        }
        let old = fd
        fd = try replaceFile(with: live)
        Foundation.close(old)
        settle(durableThrough: cut)
    }

    /// Replaces the journal with `records` (atomically: `PrivateFile.replace`); returns the new
    /// file open for appending.
    private func replaceFile(with records: [[UInt8]]) throws(JournalError) -> Int32 {
        do {
            let (appending, size) = try RecordLog.replace(path: path, magic: Self.magic, records: records)
            fileBytes = size
            compactedBytes = size
            return appending
        } catch {
            throw JournalError(error, path: path)
        }
    }

    private func settle(durableThrough ticket: Ticket) {
        condition.lock()
        durable = max(durable, ticket)
        var ready: [CheckedContinuation<Void, any Error>] = []
        waiters.removeAll { waiter in
            guard waiter.ticket <= durable else { return false }
            ready.append(waiter.continuation)
            return true
        }
        condition.unlock()
        for continuation in ready { continuation.resume() }
    }

    /// Stops acknowledging: every waiter, and every later append, gets `error`.
    private func fail(_ error: JournalError) {
        condition.lock()
        failure = error
        let pending = waiters
        waiters.removeAll()
        condition.unlock()
        for waiter in pending { waiter.continuation.resume(throwing: error) }
    }

    private func finish() {
        condition.lock()
        let pending = waiters
        waiters.removeAll()
        condition.unlock()
        for waiter in pending { waiter.continuation.resume(throwing: JournalError.closed) }
        Foundation.close(fd)
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(JournalError) {
        if let code = PrivateFile.writeAll(bytes, to: fd) { throw .io(path: path, operation: "write", errno: code) }
    }
}
