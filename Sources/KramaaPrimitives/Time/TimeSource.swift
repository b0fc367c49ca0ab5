import Foundation

/// The one clock the edges take (block production, the validator driver, capture jobs, REST
/// write waits): the wall clock for timestamps, a monotonic clock for deadlines, and timers.
/// The process passes `SystemTime`; tests and the simulator pass `ManualTime` and move it on
/// themselves, so nothing waits on the real clock.
public protocol TimeSource: AnyObject, Sendable {
    /// Monotonic time since an arbitrary origin: for intervals and deadlines, never going back.
    var uptime: Duration { get }
    /// Seconds since the Unix epoch (block timestamps, record times).
    var unixSeconds: UInt64 { get }
    /// The time since the Unix epoch to the clock's precision (job and document times).
    var sinceEpoch: Duration { get }
    /// Runs `work` once `delay` has passed on this clock, on a thread of the clock's choosing
    /// (callers hop to their own queue). Returns at once.
    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void)
}

extension TimeSource {
    public var sinceEpoch: Duration { .seconds(Int64(unixSeconds)) }
}

/// The machine's clocks: `DispatchTime` (monotonic) and `Date` (wall).
public final class SystemTime: TimeSource {
    public static let shared = SystemTime()
    private let timers = DispatchQueue(label: "kramaa.time", attributes: .concurrent)

    public init() {}

    public var uptime: Duration { .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds)) }
    public var unixSeconds: UInt64 { UInt64(Date().timeIntervalSince1970) }
    public var sinceEpoch: Duration {
        let t = Date().timeIntervalSince1970
        return .seconds(Int64(t)) + .nanoseconds(Int64((t - t.rounded(.down)) * 1e9))
    }

    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) {
        timers.asyncAfter(deadline: .now() + .nanoseconds(Int(max(0, delay.inNanoseconds))), execute: work)
    }
}

/// A clock that moves only when told: `advance(by:)` runs the timers that fall due, in time
/// order (ties in the order they were scheduled), on the caller's thread.
public final class ManualTime: TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Duration
    private var epoch: UInt64
    private var timers = TimedQueue<@Sendable () -> Void>()

    /// - Parameters:
    ///   - unixSeconds: the wall clock at `uptime` zero.
    public init(unixSeconds: UInt64 = 1_700_000_000) {
        now = .zero
        epoch = unixSeconds
    }

    public var uptime: Duration { lock.withLock { now } }
    public var unixSeconds: UInt64 { lock.withLock { epoch + UInt64(max(0, now.components.seconds)) } }
    public var sinceEpoch: Duration { lock.withLock { .seconds(Int64(epoch)) + now } }

    /// Timers not yet due.
    public var pendingTimers: Int { lock.withLock { timers.count } }

    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) {
        lock.withLock {
            let due = now + max(.zero, delay)
            timers.push(work, at: UInt64(due.inNanoseconds))
        }
    }

    /// Moves the clock on by `delay`, running every timer due by then (timers they schedule
    /// within the interval run too).
    public func advance(by delay: Duration) {
        let end = lock.withLock { now + max(.zero, delay) }
        while true {
            let next: (@Sendable () -> Void)? = lock.withLock {
                guard let due = timers.nextTime, due <= UInt64(end.inNanoseconds) else { return nil }
                now = max(now, .nanoseconds(Int64(due)))
                return timers.pop()!.element
            }
            guard let next else { break }
            next()
        }
        lock.withLock { now = max(now, end) }
    }
}
