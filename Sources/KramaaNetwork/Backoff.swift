/// Exponential back-off with jitter, capped: the delay before retry `attempt` (0-based) is
/// `min(initial · multiplier^attempt, maximum)`, scaled by a random factor in `[1 − jitter, 1]`
/// so that nodes that lost a peer at the same moment do not redial in lockstep.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// 0 ... 1: the fraction of the delay that is random.
    public var jitter: Double

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30),
                multiplier: Double = 2, jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before retry `attempt`; `random` is uniform in 0 ..< 1.
    public func delay(attempt: Int, random: Double) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = Self.seconds(maximum)
        let exponent = Double(max(0, min(attempt, 64)))
        let capped = min(initialSeconds * pow(multiplier, exponent), maximumSeconds)
        let scaled = capped * (1 - jitter * min(max(random, 0), 1))
        return .nanoseconds(Int64(scaled * 1e9))
    }

    /// The delay before retry `attempt`, with a fresh random jitter.
    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
