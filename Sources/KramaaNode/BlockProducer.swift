import Foundation
import KramaaPrimitives

/// Seals blocks on a single node at the pace the genesis asks for: with a block period of
/// zero, as soon as transactions wait, once they stop arriving for `settle` (at most
/// `maxDelay` after the first), so a burst goes into one block rather than one block per
/// transaction; otherwise once per period, empty or not as `emptyBlocks` says.
/// It runs on its own thread; the validator network (consensus) replaces it.
public final class BlockProducer: @unchecked Sendable {
    private let node: Node
    private let condition = NSCondition()
    private var stopped = false
    private var wake = false
    private var lastArrival: UInt64 = 0
    /// Period 0: how long the pool must be quiet before sealing, and the longest wait.
    public var settle: Duration = .milliseconds(2)
    public var maxDelay: Duration = .milliseconds(50)
    private var observer: Int?
    private var thread: Thread?
    private let onError: @Sendable (NodeError) -> Void
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter onError: called when a block cannot be stored; production stops after it.
    public init(node: Node, onError: @escaping @Sendable (NodeError) -> Void) {
        self.node = node
        self.onError = onError
    }

    public func start() {
        observer = node.addObserver { [weak self] event in
            if case .newTransaction = event { self?.signal() }
        }
        let thread = Thread { [self] in loop() }
        thread.name = "kramaa-producer"
        self.thread = thread
        thread.start()
    }

    /// Stops after the block being built, if any, is stored; waits for that.
    public func stop() {
        condition.lock()
        let running = thread != nil && !stopped
        stopped = true
        condition.signal()
        condition.unlock()
        if let observer { node.removeObserver(observer) }
        if running { finished.wait() }
    }

    private func signal() {
        condition.lock()
        wake = true
        lastArrival = DispatchTime.now().uptimeNanoseconds
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        defer { finished.signal() }
        let period = node.config.blockPeriodSeconds
        var next = Date().addingTimeInterval(TimeInterval(period))
        if period == 0 && node.hasPendingTransactions { signal() }
        while true {
            condition.lock()
            if period == 0 {
                while !wake && !stopped { condition.wait() }
                wake = false
                let latest = DispatchTime.now().uptimeNanoseconds + UInt64(maxDelay.inNanoseconds)
                while !stopped {
                    let quietUntil = lastArrival + UInt64(settle.inNanoseconds)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if now >= quietUntil || now >= latest { break }
                    _ = condition.wait(until: Date().addingTimeInterval(Double(min(quietUntil, latest) - now) / 1e9))
                }
                wake = false
            } else {
                while !stopped && Date() < next { _ = condition.wait(until: next) }
            }
            let stop = stopped
            condition.unlock()
            if stop { return }
            let produced: Bool
            do {
                let now = UInt64(Date().timeIntervalSince1970)
                produced = try node.produceBlock(timestamp: now, allowEmpty: period > 0 && node.config.emptyBlocks) != nil
            } catch {
                onError(error)
                return
            }
            if period > 0 {
                next = next.addingTimeInterval(TimeInterval(period))
                if next < Date() { next = Date() }
            } else if produced && node.hasPendingTransactions {
                signal()  // what did not fit this block; what cannot run waits for a new transaction
            }
        }
    }
}
