import Foundation

/// A dedicated thread that runs submitted work in order, with timers. Consensus runs here
/// rather than on a dispatch queue: queues share the global pool's few threads with
/// signature recovery, and a starved consensus queue stalls every height behind it.
final class WorkThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var timers: [(deadline: UInt64, sequence: UInt64, body: () -> Void)] = []
    private var sequence: UInt64 = 0
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

    /// Runs `body` on the thread once `seconds` have passed.
    func asyncAfter(seconds: Double, _ body: @escaping () -> Void) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        condition.lock()
        sequence += 1
        timers.append((deadline, sequence, body))
        condition.signal()
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

    private func loop() {
        while true {
            condition.lock()
            var next: (() -> Void)?
            while next == nil {
                let now = DispatchTime.now().uptimeNanoseconds
                if let i = timers.indices.min(by: { (timers[$0].deadline, timers[$0].sequence) < (timers[$1].deadline, timers[$1].sequence) }),
                   timers[i].deadline <= now {
                    next = timers.remove(at: i).body
                } else if !work.isEmpty {
                    next = work.removeFirst()
                } else if stopped {
                    condition.unlock()
                    return
                } else if let earliest = timers.map(\.deadline).min() {
                    _ = condition.wait(until: Date().addingTimeInterval(Double(earliest - now) / 1e9))
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
            next!()
        }
    }
}
