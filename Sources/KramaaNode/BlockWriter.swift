import Foundation
import KramaaStorage

/// Writes committed blocks to the database one at a time on its own thread, so that a
/// validator decides and executes the next height while the last one is written (write-behind;
/// see ``Node/commit(_:certificate:waitForStorage:transactionHashes:)``).
///
/// At most one block is in flight: whoever stores next waits until the writer is idle. A failed
/// write is kept and refuses every later one: the head in memory has run ahead of the disk,
/// and only a restart (which reloads what was stored) brings them together again.
final class BlockWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kramaa-block-writer")
    private let busy = DispatchGroup()
    private let lock = NSLock()
    private var failure: StoreError?

    /// Runs before each write on the writer's thread (tests hold a write back with it).
    var beforeWrite: (@Sendable () -> Void)?

    /// Queues `write`; once it has run (and succeeded), `announce` runs, after the writer
    /// counts as idle, so an announcement may wait for anything that waits for the writer.
    func enqueue(_ write: @escaping @Sendable () throws(StoreError) -> Void, then announce: @escaping @Sendable () -> Void) {
        busy.enter()
        queue.async { [self] in
            beforeWrite?()
            var written = false
            if lock.withLock({ failure == nil }) {
                do throws(StoreError) {
                    try write()
                    written = true
                } catch {
                    lock.withLock { failure = error }
                }
            }
            busy.leave()
            if written { announce() }
        }
    }

    /// Returns once nothing is in flight; throws the failure of a write that did not happen.
    func waitUntilIdle() throws(StoreError) {
        busy.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
