import Foundation
import Testing

@testable import KramaaValidator

/// The consensus thread's timers: `asyncAfter` wakes the thread only for a timer earlier than
/// its earliest, so each timer must still run at its time, in time order, whatever the order
/// they were set in.
@Suite struct WorkThreadTests {
    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var entries: [(name: String, at: UInt64)] = []
        func add(_ name: String) { lock.withLock { entries.append((name, DispatchTime.now().uptimeNanoseconds)) } }
    }

    @Test func timersRunAtTheirTimeWhateverTheOrderTheyWereSet() throws {
        let thread = WorkThread(name: "work-thread-test")
        defer { thread.stop() }
        let log = Log(), done = DispatchSemaphore(value: 0)
        thread.async { log.add("now") }
        Thread.sleep(forTimeInterval: 0.02)  // the thread is idle, waiting without a deadline
        let start = DispatchTime.now().uptimeNanoseconds
        // The first timer must wake it; then it waits for the 1000 ms timer, which a later one
        // need not interrupt and an earlier one must.
        thread.asyncAfter(seconds: 1.0) { log.add("1000 ms"); done.signal() }
        thread.asyncAfter(seconds: 1.2) { log.add("1200 ms"); done.signal() }
        Thread.sleep(forTimeInterval: 0.05)
        thread.asyncAfter(seconds: 0.05) { log.add("100 ms"); done.signal() }
        for _ in 0..<3 { #expect(done.wait(timeout: .now() + 5) == .success) }
        let entries = log.lock.withLock { log.entries }
        #expect(entries.map(\.name) == ["now", "100 ms", "1000 ms", "1200 ms"])
        let due: [String: Double] = ["100 ms": 0.1, "1000 ms": 1.0, "1200 ms": 1.2]
        for entry in entries where entry.name != "now" {
            let elapsed = Double(entry.at - start) / 1e9, wanted = due[entry.name]!
            #expect(elapsed >= wanted - 0.005, "\(entry.name) ran early, at \(elapsed) s")
            // Late only by scheduling: an earlier timer that did not wake the thread would run at 1000 ms.
            #expect(elapsed < wanted + 0.5, "\(entry.name) ran late, at \(elapsed) s")
        }
    }
}
