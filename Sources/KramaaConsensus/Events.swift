import KramaaPrimitives

/// Round timeouts: `base + delta × round`, so that rounds grow longer until messages of correct
/// validators arrive within them after the network stabilises (the paper's partial synchrony).
public struct ConsensusConfig: Sendable, Hashable {
    public var timeoutPropose: Duration
    public var timeoutProposeDelta: Duration
    public var timeoutPrevote: Duration
    public var timeoutPrevoteDelta: Duration
    public var timeoutPrecommit: Duration
    public var timeoutPrecommitDelta: Duration

    public init(timeoutPropose: Duration = .milliseconds(3000), timeoutProposeDelta: Duration = .milliseconds(500),
                timeoutPrevote: Duration = .milliseconds(1000), timeoutPrevoteDelta: Duration = .milliseconds(500),
                timeoutPrecommit: Duration = .milliseconds(1000), timeoutPrecommitDelta: Duration = .milliseconds(500)) {
        self.timeoutPropose = timeoutPropose
        self.timeoutProposeDelta = timeoutProposeDelta
        self.timeoutPrevote = timeoutPrevote
        self.timeoutPrevoteDelta = timeoutPrevoteDelta
        self.timeoutPrecommit = timeoutPrecommit
        self.timeoutPrecommitDelta = timeoutPrecommitDelta
    }

    /// The duration of `step`'s timeout in `round`.
    public func timeout(_ step: RoundStep, round: Int) -> Duration {
        let r = Int64(min(round, 1 << 20))
        switch step {
        case .propose: return timeoutPropose + timeoutProposeDelta * r
        case .prevote: return timeoutPrevote + timeoutPrevoteDelta * r
        case .precommit: return timeoutPrecommit + timeoutPrecommitDelta * r
        }
    }
}

/// A timeout the core asked for; the runner hands it back as `ConsensusEvent.timeout` when it fires.
public struct Timeout: Sendable, Hashable, CustomStringConvertible {
    public let height: UInt64
    public let round: Int
    public let step: RoundStep

    public init(height: UInt64, round: Int, step: RoundStep) {
        self.height = height
        self.round = round
        self.step = step
    }

    public var description: String { "timeout\(step)(h\(height) r\(round))" }
}

/// Everything that happens to a validator, as the core sees it.
public enum ConsensusEvent: Sendable, Hashable {
    /// Run consensus for `height` with its validator set (after the previous height was committed
    /// and applied, or at boot with the height after the last committed block).
    case start(height: UInt64, validatorSet: ValidatorSet)
    /// A proposal from the network (unverified).
    case proposal(Proposal)
    /// A vote from the network (unverified).
    case vote(Vote)
    /// A timeout scheduled by `ConsensusAction.scheduleTimeout` fired.
    case timeout(Timeout)
    /// The application's answer to `ConsensusAction.buildBlock`.
    case blockBuilt(height: UInt64, round: Int, block: [UInt8], hash: Bytes32)
    /// The application's answer to `ConsensusAction.validateBlock`: the block executes and is acceptable.
    case blockValidated(height: UInt64, hash: Bytes32, valid: Bool)
    /// A commit learned from a peer (block sync): a certificate and its block. Verified by the core.
    case commitReceived(CommitCertificate, block: [UInt8])
}

/// What the core asks its runner to do, in order. Contract: the runner performs the actions of one
/// batch in the order given; `persist` must be durable (written and synced) before any later action
/// of the batch is performed, since a later broadcast may carry a signature that only the persisted
/// state prevents from being contradicted after a crash. The core places `persist` first in a batch.
public enum ConsensusAction: Sendable, Hashable {
    /// Store this state durably (replacing the previous one) before performing the next action.
    case persist(SafetyState)
    /// Send to every validator.
    case broadcastProposal(Proposal)
    /// Send to every validator.
    case broadcastVote(Vote)
    /// Deliver `.timeout(t)` after `after` (timeouts for old heights or rounds are ignored, so none needs cancelling).
    case scheduleTimeout(Timeout, after: Duration)
    /// Build a block for `height` and answer with `.blockBuilt`.
    case buildBlock(height: UInt64, round: Int)
    /// Execute and check `block` (whose hash is `hash`) at `height`, and answer with `.blockValidated`.
    case validateBlock(height: UInt64, hash: Bytes32, block: [UInt8])
    /// `block` is final at `height`. The runner applies and stores it with its certificate, then sends `.start`
    /// for the next height with that height's validator set.
    case commit(height: UInt64, block: [UInt8], hash: Bytes32, certificate: CommitCertificate)
}

/// Proof that a validator signed two different messages for the same slot.
public enum Evidence: Sendable, Hashable, CustomStringConvertible {
    /// Two votes of one validator for the same (height, round, kind) and different block hashes.
    case conflictingVotes(Vote, Vote)
    /// Two proposals of one round's proposer for the same (height, round) and different content.
    case conflictingProposals(Proposal, Proposal)

    public var description: String {
        switch self {
        case .conflictingVotes(let a, let b): return "equivocation: \(a) vs \(b)"
        case .conflictingProposals(let a, let b): return "equivocation: \(a) vs \(b)"
        }
    }
}
