import Foundation

/// A thread with a large stack that runs submitted work in order. The EVM interpreter
/// recurses once per call frame (up to 1024 deep), which needs far more than the 512 KiB
/// of a default secondary thread, so block building and eth_call run here. The thread ends
/// when its owner is released.
public final class LargeStackThread: @unchecked Sendable {
    /// The work queue, shared by the owner and the thread (which must not keep the owner alive).
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var work: [() -> Void] = []
        var stopped = false

        func loop() {
            while true {
                condition.lock()
                while work.isEmpty && !stopped { condition.wait() }
                if work.isEmpty && stopped { condition.unlock(); return }
                let next = work.removeFirst()
                condition.unlock()
                next()
            }
        }

        func push(_ body: @escaping () -> Void, stop: Bool = false) {
            condition.lock()
            work.append(body)
            stopped = stopped || stop
            condition.signal()
            condition.unlock()
        }
    }

    private let queue = Queue()

    /// - Parameter stackSize: bytes of stack (default 256 MiB; the memory is only reserved).
    public init(name: String, stackSize: Int = 256 << 20) {
        let queue = self.queue
        let thread = Thread { queue.loop() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    deinit {
        queue.push({}, stop: true)
    }

    /// Runs `body` on the thread and waits for its result.
    public func run<T>(_ body: @escaping () -> T) -> T {
        nonisolated(unsafe) var result: T?
        let done = DispatchSemaphore(value: 0)
        queue.push { result = body(); done.signal() }
        done.wait()
        return result!
    }
}
