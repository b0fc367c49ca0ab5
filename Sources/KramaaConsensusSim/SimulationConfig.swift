import KramaaConsensus
import KramaaPrimitives

/// What a simulated run does. Times are virtual milliseconds.
public struct SimulationConfig: Sendable {
    /// Validators in the first validator set (equal power).
    public var validators: Int
    /// Byzantine validators among them (the last ones): they equivocate, proposing and voting differently
    /// to different peers, sometimes proposing invalid blocks and sending garbage bytes.
    public var byzantine: Int
    /// Commit at least this many heights…
    public var heights: UInt64
    /// …and at least this many after the network heals.
    public var heightsAfterHeal: UInt64
    /// The chaos phase lasts a duration drawn from this range; then the network heals for good.
    public var chaos: ClosedRange<UInt64>
    /// During chaos each message is lost with a per-seed probability drawn from `0...maxLoss`.
    public var maxLoss: Double
    /// Probability that a message is delivered twice (always, also after the heal).
    public var duplication: Double
    /// Partitions during chaos (random two-way splits, healed and re-split).
    public var partitions: Bool
    /// Crashes of correct nodes during chaos (between events, before a send in the middle of an action
    /// batch, and during a save of the safety state), with restarts from the state on "disk" and the last
    /// committed height.
    public var crashes: Bool
    /// From this height on, validator 0 leaves the set and a new node (which runs from the start as an
    /// observer) joins it.
    public var validatorSetChange: UInt64?
    /// After the heal, some correct node must commit a new height at least this often.
    public var livenessBound: UInt64
    /// A run that has not finished by then is a liveness violation.
    public var maxVirtualTime: UInt64
    public var consensus: ConsensusConfig
    public var chainId: UInt64
    /// A bug planted in every correct node's driver, for the test that the simulator catches it.
    public var plantedFault: ConsensusDriver.PlantedFault?

    public init(validators: Int = 4, byzantine: Int = 0, heights: UInt64 = 6, heightsAfterHeal: UInt64 = 3,
                chaos: ClosedRange<UInt64> = 20_000...60_000, maxLoss: Double = 0.3, duplication: Double = 0.05,
                partitions: Bool = true, crashes: Bool = true, validatorSetChange: UInt64? = nil,
                livenessBound: UInt64 = 150_000, maxVirtualTime: UInt64 = 900_000,
                consensus: ConsensusConfig = SimulationConfig.timeouts, chainId: UInt64 = 4242) {
        self.validators = validators
        self.byzantine = byzantine
        self.heights = heights
        self.heightsAfterHeal = heightsAfterHeal
        self.chaos = chaos
        self.maxLoss = maxLoss
        self.duplication = duplication
        self.partitions = partitions
        self.crashes = crashes
        self.validatorSetChange = validatorSetChange
        self.livenessBound = livenessBound
        self.maxVirtualTime = maxVirtualTime
        self.consensus = consensus
        self.chainId = chainId
    }

    /// Short timeouts for the simulator (messages take 5–150 ms once healed).
    public static let timeouts = ConsensusConfig(
        timeoutPropose: .milliseconds(1000), timeoutProposeDelta: .milliseconds(200),
        timeoutPrevote: .milliseconds(500), timeoutPrevoteDelta: .milliseconds(100),
        timeoutPrecommit: .milliseconds(500), timeoutPrecommitDelta: .milliseconds(100))

    /// The largest number of Byzantine validators that `validators` tolerate: f with n ≥ 3f + 1.
    public static func maxFaulty(_ validators: Int) -> Int { (validators - 1) / 3 }
}

/// A broken invariant: which, where and when (replay with the same seed and configuration).
public struct Violation: Error, Sendable, CustomStringConvertible {
    public let seed: UInt64
    public let step: Int
    public let time: UInt64
    public let message: String

    public var description: String { "seed \(seed), step \(step), virtual time \(time) ms: \(message)" }
}

/// The outcome of one run.
public struct SimulationResult: Sendable, CustomStringConvertible {
    public let seed: UInt64
    /// Heights committed by every correct node.
    public let heights: UInt64
    /// Σ over committed heights of (the round of the decision + 1).
    public let rounds: Int
    /// Highest round any decision needed.
    public let maxRound: Int
    /// Virtual time at the end, in milliseconds.
    public let virtualTime: UInt64
    /// Events processed.
    public let steps: Int
    /// Messages delivered.
    public let messages: Int
    /// Equivocations recorded by correct nodes (most by one node).
    public let evidence: Int
    /// Restarts of crashed nodes.
    public let restarts: Int
    public let violation: Violation?

    public var description: String {
        let base = "seed \(seed): \(heights) heights, \(rounds) rounds (max round \(maxRound)), \(virtualTime / 1000) s virtual, "
            + "\(steps) steps, \(messages) messages, \(restarts) restarts, \(evidence) equivocations seen"
        return violation.map { base + " — VIOLATION: \($0)" } ?? base
    }
}
