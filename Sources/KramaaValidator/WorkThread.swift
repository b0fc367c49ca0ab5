import Foundation
import KramaaPrimitives

/// A dedicated thread that runs submitted work in order, with timers. Consensus runs here
/// rather than on a dispatch queue: queues share the global pool's few threads with
/// signature recovery, and a starved consensus queue stalls every height behind it.
final class WorkThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var timers = TimedQueue<() -> Void>()
    private var stopped = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { [self] in loop() }  // kept alive until stop()
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// Runs `body` on the thread, after the work already submitted.
    func async(_ body: @escaping () -> Void) {
        condition.lock()
        work.append(body)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the thread once `seconds` have passed. The thread is woken only when this
    /// is now its earliest timer: waiting, it wakes by the earlier one anyway and looks again.
    func asyncAfter(seconds: Double, _ body: @escaping () -> Void) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        condition.lock()
        let earliest = timers.nextTime.map { deadline < $0 } ?? true
        timers.push(body, at: deadline)
        if earliest { condition.signal() }
        condition.unlock()
    }

    /// Runs `body` on the thread and waits for it.
    func sync<T>(_ body: @escaping () -> T) -> T {
        nonisolated(unsafe) var result: T?
        let done = DispatchSemaphore(value: 0)
        async { result = body(); done.signal() }
        done.wait()
        return result!
    }

    /// Ends the thread after the work already submitted; timers not yet due are dropped.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Takes everything due (timers first, then submitted work, in order) in one go, so a long
    /// queue costs no per-item removal from the front of an array.
    private func loop() {
        var batch: [() -> Void] = []
        while true {
            condition.lock()
            while batch.isEmpty {
                let now = DispatchTime.now().uptimeNanoseconds
                while let due = timers.nextTime, due <= now { batch.append(timers.pop()!.element) }
                batch += work
                work.removeAll(keepingCapacity: true)
                if !batch.isEmpty { break }
                if stopped {
                    condition.unlock()
                    return
                }
                if let earliest = timers.nextTime {
                    _ = condition.wait(until: Date().addingTimeInterval(Double(earliest - now) / 1e9))
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
            for item in batch { item() }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
