import KramaaPrimitives

/// What a validator must remember across a crash so that it never signs two conflicting messages
/// and keeps the locks that make Tendermint safe. The core emits it (`ConsensusAction.persist`)
/// before any action that sends a message it signed; the runner stores it durably before going on.
///
/// Invariants kept by the core: `(round, step)` never goes back within a height; `signedVotes`
/// holds the votes signed at `height` in signing order, and signing order is increasing in
/// (round, kind), so the last one is the highest ever signed at this height.
public struct SafetyState: Sendable, Hashable {
    public var height: UInt64
    public var round: Int
    public var step: RoundStep
    /// -1 with `lockedHash` nil when not locked.
    public var lockedRound: Int
    public var lockedHash: Bytes32?
    /// -1 with `validHash`/`validBlock` nil when there is no valid value.
    public var validRound: Int
    public var validHash: Bytes32?
    /// The valid value itself, so that a restarted proposer can re-propose it.
    public var validBlock: [UInt8]?
    /// The last proposal signed at `height` (only its round can be proposed again, and only identically).
    public var signedProposal: Proposal?
    /// Votes signed at `height`, oldest first (at most `SafetyState.maxSignedVotes`, the newest kept).
    public var signedVotes: [Vote]

    public static let maxSignedVotes = 8

    public init(height: UInt64, round: Int = 0, step: RoundStep = .propose, lockedRound: Int = -1, lockedHash: Bytes32? = nil,
                validRound: Int = -1, validHash: Bytes32? = nil, validBlock: [UInt8]? = nil,
                signedProposal: Proposal? = nil, signedVotes: [Vote] = []) {
        self.height = height
        self.round = round
        self.step = step
        self.lockedRound = lockedRound
        self.lockedHash = lockedHash
        self.validRound = validRound
        self.validHash = validHash
        self.validBlock = validBlock
        self.signedProposal = signedProposal
        self.signedVotes = signedVotes
    }

    /// The signed vote for (height, round, kind), if any.
    public func signedVote(height h: UInt64, round r: Int, kind: VoteKind) -> Vote? {
        guard h == height else { return nil }
        return signedVotes.last { $0.round == r && $0.kind == kind }
    }

    // MARK: RLP:
    // [height, round, step, lockedRound+1, lockedHash|"", validRound+1, validHash|"", [validBlock]|[],
    //  [proposal]|[], [vote, ...]]

    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(uint: height)
            w.append(round: round)
            w.append(uint: UInt64(step.rawValue))
            w.append(optionalRound: lockedRound)
            w.append(optionalHash: lockedHash)
            w.append(optionalRound: validRound)
            w.append(optionalHash: validHash)
            w.appendList { w in if let validBlock { w.append(bytes: validBlock) } }
            w.appendList { w in signedProposal?.append(to: &w) }
            w.appendList { w in for v in signedVotes { v.append(to: &w) } }
        }
        return w.bytes
    }

    public init(rlp bytes: [UInt8]) throws(ConsensusDecodingError) {
        self = try decodeWhole(bytes) { (r: inout RLPReader) throws(ConsensusDecodingError) -> SafetyState in
            var l = try r.list()
            let height = try l.uint64()
            let round = try l.round()
            let s = try l.uint64()
            guard s <= 0xff, let step = RoundStep(rawValue: UInt8(s)) else { throw .unknownStep(s) }
            let lockedRound = try l.optionalRound()
            let lockedHash = try l.optionalHash()
            let validRound = try l.optionalRound()
            let validHash = try l.optionalHash()
            var blockList = try l.list()
            var validBlock: [UInt8]?
            if !blockList.isAtEnd { validBlock = try blockList.byteArray() }
            guard blockList.isAtEnd else { throw .badOptional }
            var proposalList = try l.list()
            var proposal: Proposal?
            if !proposalList.isAtEnd { proposal = try Proposal(reader: &proposalList) }
            guard proposalList.isAtEnd else { throw .badOptional }
            var voteList = try l.list()
            var votes: [Vote] = []
            while !voteList.isAtEnd { votes.append(try Vote(reader: &voteList)) }
            try l.end()
            return SafetyState(height: height, round: round, step: step, lockedRound: lockedRound, lockedHash: lockedHash,
                               validRound: validRound, validHash: validHash, validBlock: validBlock,
                               signedProposal: proposal, signedVotes: votes)
        }
    }
}
