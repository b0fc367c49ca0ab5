import Foundation
import GRDB
import KramaaNFC

/// Group commit of read counters: one writer thread takes every counter queued while the last
/// batch was syncing (or while it polled briefly after it), appends them to the counter log
/// (`CounterLog`: one write and one `fdatasync`), then resumes their waiters. When the log is full, the highest counter of each
/// tag it holds goes into `tags.sqlite` in one transaction (`synchronous=FULL`), and the log
/// starts again. A counter only ever goes up in the table.
final class CounterCommitter: @unchecked Sendable {
    private struct Pending {
        let uid: TagUID
        let counter: UInt32
        let waiter: CheckedContinuation<TagStoreError?, Never>
    }

    private let database: DatabaseQueue
    private let log: CounterLog
    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    /// The highest counter per tag in the log since the last checkpoint (writer thread only).
    private var logged: [TagUID: UInt32] = [:]

    /// Opens the log beside the database and folds what a previous run left in it into the
    /// table (before the store reads its rows), then starts the writer thread.
    init(database: DatabaseQueue, logPath: String, logCapacity: Int = 1 << 20) throws(TagStoreError) {
        self.database = database
        log = try CounterLog(path: logPath, capacity: logCapacity)
        logged = try log.replay()
        try checkpoint()
        let thread = Thread { [self] in
            while flushNext() {}
            finished.signal()
        }
        thread.name = "kramaa.tags.commit"
        thread.start()
    }

    func commit(uid: TagUID, counter: UInt32) async throws(TagStoreError) {
        let failure = await withCheckedContinuation { waiter in
            condition.lock()
            pending.append(Pending(uid: uid, counter: counter, waiter: waiter))
            condition.signal()
            condition.unlock()
        }
        if let failure { throw failure }
    }

    /// Waits for work and makes one batch durable; false when the store is gone (the log is
    /// checkpointed and the thread ends).
    private func flushNext() -> Bool {
        pollBriefly()
        condition.lock()
        while pending.isEmpty {
            if stopped {
                condition.unlock()
                try? checkpoint()
                return false
            }
            condition.wait()
        }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        condition.unlock()
        var failure: TagStoreError?
        do {
            // A batch larger than the whole log goes in pieces, each checkpointed when full.
            var rest = batch[...]
            while !rest.isEmpty {
                if log.room == 0 { try checkpoint() }
                let piece = rest.prefix(log.room)
                try log.append(piece.lazy.map { (uid: $0.uid, counter: $0.counter) })
                for item in piece { logged[item.uid] = max(logged[item.uid] ?? 0, item.counter) }
                rest = rest.dropFirst(piece.count)
            }
        } catch {
            failure = error
        }
        for item in batch { item.waiter.resume(returning: failure) }
        return true
    }

    /// How long the writer looks for new counters after a batch, yielding its core between
    /// looks, before it sleeps: the next taps tend to come within this (their clients were just
    /// answered), and waking a sleeping thread on busy cores costs about as much as the sync
    /// (measured in BENCHMARKS.md, tags). At most this much CPU per batch when idle.
    static let pollNanoseconds: UInt64 = 100_000

    /// Returns when a counter is queued, the store stops, or `pollNanoseconds` have passed.
    private func pollBriefly() {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.pollNanoseconds
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if condition.withLock({ !pending.isEmpty || stopped }) { return }
            sched_yield()
        }
    }

    /// Writes the logged counters into the table (durably), then zeroes the log.
    private func checkpoint() throws(TagStoreError) {
        if !logged.isEmpty {
            do {
                try database.write { db in
                    let statement = try db.cachedStatement(sql: """
                        UPDATE tags SET last_read_counter = ?
                        WHERE uid = ? AND (last_read_counter IS NULL OR last_read_counter < ?)
                        """)
                    for (uid, counter) in logged {
                        try statement.execute(arguments: [Int64(counter), uid.description, Int64(counter)])
                    }
                }
            } catch {
                throw .database("cannot store read counters: \(error)")
            }
            logged.removeAll(keepingCapacity: true)
        }
        try log.reset()
    }

    /// Ends the writer thread once the queued counters are written and checkpointed, and
    /// waits for it: a store opened again on the same directory must not meet it still writing.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }
}
