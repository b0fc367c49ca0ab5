import Foundation
import KramaaChain
import KramaaPrimitives

/// Seals blocks on a single node at the pace the genesis asks for: with a block period of
/// zero, as soon as transactions wait, once they stop arriving for `settle` (at most
/// `maxDelay` after the first), so a burst goes into one block rather than one block per
/// transaction; otherwise once per period, empty or not as `emptyBlocks` says.
///
/// Driven by timers of its `TimeSource` (tests pass a `ManualTime` and advance it); blocks
/// are sealed one at a time under its lock. The validator network (consensus) replaces it.
public final class BlockProducer: @unchecked Sendable {
    private let node: Node
    private let clock: TimeSource
    /// Guards the producer's state; held only briefly, never while a block is sealed, so a
    /// transaction's arrival (on the thread that accepted it) never waits for a block.
    private let lock = NSLock()
    /// Held while a block is sealed: one block at a time, and `stop` waits for it.
    private let sealing = NSLock()
    private var stopped = false
    /// Period 0: when the burst being gathered began and when its last transaction came;
    /// nil while no check is armed.
    private var burst: (first: Duration, last: Duration)?
    /// Period > 0: when the next block is due.
    private var nextDue: Duration = .zero
    /// Period 0: how long the pool must be quiet before sealing, and the longest wait.
    public var settle: Duration = .milliseconds(2)
    public var maxDelay: Duration = .milliseconds(50)
    private var observer: Int?
    private let onError: @Sendable (NodeError) -> Void

    /// - Parameter onError: called when a block cannot be stored; production stops after it.
    public init(node: Node, clock: TimeSource = SystemTime.shared, onError: @escaping @Sendable (NodeError) -> Void) {
        self.node = node
        self.clock = clock
        self.onError = onError
    }

    private var period: UInt64 { node.config.blockPeriodSeconds }

    public func start() {
        observer = node.addObserver { [weak self] event in
            if case .newTransaction = event { self?.transactionArrived() }
        }
        if period == 0 {
            if node.hasPendingTransactions { transactionArrived() }
            scheduleDueCheck()
        } else {
            let first = lock.withLock { () -> Duration in
                nextDue = clock.uptime + .seconds(Int64(period))
                return nextDue
            }
            schedulePeriodic(at: first)
        }
    }

    /// Stops after the block being sealed, if any, is stored; waits for that.
    public func stop() {
        lock.withLock { stopped = true }
        sealing.withLock {}  // a block being sealed is stored; none starts after this
        if let observer { node.removeObserver(observer) }
    }

    // MARK: Period 0: bursts

    /// Period 0 only: with a period, blocks come on its ticks whatever arrives.
    private func transactionArrived() {
        guard period == 0 else { return }
        let now = clock.uptime
        let arm: Bool = lock.withLock {
            guard !stopped else { return false }
            if var current = burst {
                current.last = now
                burst = current
                return false
            }
            burst = (now, now)
            return true
        }
        if arm { clock.schedule(after: settle) { [weak self] in self?.checkBurst() } }
    }

    /// Seals once the pool has been quiet for `settle` or `maxDelay` has passed since the
    /// burst began; otherwise looks again when the earlier of the two is due.
    private func checkBurst() {
        var again: Duration?
        let due: Bool = lock.withLock {
            guard !stopped, let current = burst else { return false }
            let now = clock.uptime
            let due = min(current.last + settle, current.first + maxDelay)
            if now < due {
                again = due - now
                return false
            }
            burst = nil
            return true
        }
        // What did not fit this block goes next (unless an arrival while sealing armed a check
        // already); what cannot run waits for a new transaction.
        if due, seal(allowEmpty: false) == true, node.hasPendingTransactions {
            lock.withLock {
                guard !stopped, burst == nil else { return }
                let now = clock.uptime
                burst = (now, now)
                again = settle
            }
        }
        if let again { clock.schedule(after: again) { [weak self] in self?.checkBurst() } }
    }

    /// Period 0 seals when transactions arrive; a trigger that becomes due while the pool is
    /// empty (a deadline passing) gets its block from this check, once a second.
    private func scheduleDueCheck() {
        clock.schedule(after: .seconds(1)) { [weak self] in
            guard let self, !self.lock.withLock({ self.stopped }) else { return }
            if self.node.hasDueSystemCalls(at: self.clock.unixSeconds) { _ = self.seal(allowEmpty: false) }
            self.scheduleDueCheck()
        }
    }

    // MARK: Period > 0

    private func schedulePeriodic(at due: Duration) {
        clock.schedule(after: due - clock.uptime) { [weak self] in self?.periodicTick() }
    }

    private func periodicTick() {
        let early: Duration? = lock.withLock { !stopped && clock.uptime < nextDue ? nextDue : nil }
        if let early { return schedulePeriodic(at: early) }  // an early wake: wait on
        guard seal(allowEmpty: node.config.emptyBlocks) != nil else { return }
        let next: Duration? = lock.withLock {
            guard !stopped else { return nil }
            nextDue = max(nextDue + .seconds(Int64(period)), clock.uptime)
            return nextDue
        }
        if let next { schedulePeriodic(at: next) }
    }

    /// Seals a block, one at a time; whether it held transactions, nil when stopped or when
    /// storing failed (production stops then).
    private func seal(allowEmpty: Bool) -> Bool? {
        sealing.withLock { () -> Bool? in
            guard !lock.withLock({ stopped }) else { return nil }
            do throws(NodeError) {
                return try node.produceBlock(timestamp: clock.unixSeconds, allowEmpty: allowEmpty) != nil
            } catch {
                lock.withLock { stopped = true }
                onError(error)
                return nil
            }
        }
    }
}
