import Foundation

/// Where a transaction's time goes in this node, since start: the time spent in each stage of
/// its way and how many times each stage ran (docs/OPERATIONS.md, `kramaa_node_phase_*`).
/// Stages run on different threads at once, so their times overlap: compare each with the
/// transactions stored in the same interval (time per transaction), not with the wall clock.
public final class PhaseClock: @unchecked Sendable {
    public enum Phase: String, CaseIterable, Sendable {
        /// Decoding, signature recovery, the pool's checks and the journal append.
        case admission
        /// Waiting for the pool journal's fsync before acknowledging (group commit).
        case journal
        /// Building and executing a block from the pool (the proposer).
        case proposal
        /// Executing a block another validator proposed and checking its roots.
        case validation
        /// Writing a finalised block and its state to the database (and its fsync).
        case storage
        /// From a validator's proposal or validation to the commit: votes and their messages.
        case consensus
    }

    private let lock = NSLock()
    private var nanoseconds = [UInt64](repeating: 0, count: Phase.allCases.count)
    private var runs = [Int](repeating: 0, count: Phase.allCases.count)

    public init() {}

    /// A monotonic instant to measure from.
    public static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One run of `phase` that began at `start` (a ``now``) and ends now.
    public func add(_ phase: Phase, since start: UInt64) {
        let elapsed = Self.now &- start
        let index = Phase.allCases.firstIndex(of: phase)!
        lock.withLock {
            nanoseconds[index] &+= elapsed
            runs[index] += 1
        }
    }

    /// Runs `body` as one run of `phase`.
    public func measure<T, E: Error>(_ phase: Phase, _ body: () throws(E) -> T) throws(E) -> T {
        let start = Self.now
        defer { add(phase, since: start) }
        return try body()
    }

    /// Seconds spent and runs per phase since start.
    public var totals: [(phase: Phase, seconds: Double, runs: Int)] {
        lock.withLock { Phase.allCases.enumerated().map { ($1, Double(nanoseconds[$0]) / 1e9, runs[$0]) } }
    }
}
