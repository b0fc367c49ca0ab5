import KramaaPrimitives

/// The votes of one (round, kind). The first vote of each validator counts for "2f+1 of any" and for
/// its value. A different vote of the same validator (equivocation) is evidence, and also counts for
/// its own value (up to `maxConflicting` per validator): in the paper a quorum for v is 2f+1 of power
/// sending a vote for v, so an equivocator counts towards each value it voted for. This stays safe
/// (two quorums for different values would share a correct validator) and keeps correct validators
/// that saw different first votes of an equivocator from disagreeing forever on whether a polka exists.
struct VoteSet: Sendable {
    var first: [Address: Vote] = [:]
    var conflicting: [Address: [Vote]] = [:]
    var powerFor: [Bytes32: UInt64] = [:]
    var nilPower: UInt64 = 0
    var totalPower: UInt64 = 0

    static let maxConflicting = 3

    /// Adds a verified vote; false when it is a duplicate (or one conflicting vote too many).
    /// `forKnownBlock`: the vote is for a block the core holds (a proposal's) or for its lock or
    /// valid value, and is kept even beyond `maxConflicting`: an equivocator that sprays votes for made-up hashes must not
    /// crowd out its vote for a real value, or correct validators that saw its votes in
    /// different orders could disagree forever on a polka (found by the simulator driving the
    /// production driver).
    mutating func add(_ vote: Vote, power: UInt64, forKnownBlock: Bool = false) -> Bool {
        if let existing = first[vote.validator] {
            guard existing.blockHash != vote.blockHash else { return false }
            var others = conflicting[vote.validator] ?? []
            guard !others.contains(where: { $0.blockHash == vote.blockHash }), others.count < Self.maxConflicting || forKnownBlock else { return false }
            others.append(vote)
            conflicting[vote.validator] = others
        } else {
            first[vote.validator] = vote
            totalPower += power
        }
        if let h = vote.blockHash { powerFor[h, default: 0] += power } else { nilPower += power }
        return true
    }

    /// The stored vote of `validator` for `hash`, if any.
    func vote(of validator: Address, for hash: Bytes32?) -> Vote? {
        if let v = first[validator], v.blockHash == hash { return v }
        return conflicting[validator]?.first { $0.blockHash == hash }
    }

    func power(for hash: Bytes32?) -> UInt64 {
        guard let hash else { return nilPower }
        return powerFor[hash] ?? 0
    }
}

/// Tendermint BFT (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus", arXiv:1807.04938,
/// Algorithm 1) as a deterministic state machine: events in, actions out. No clocks, sockets, threads,
/// randomness or I/O; see docs/CONSENSUS.md for the contract.
///
/// The upon-rules of the paper are evaluated after every event until none applies:
/// - line 22/28: on the proposal of the current round (vr = -1, or vr with a polka at vr), prevote it
///   if it is valid and not against the lock, else prevote nil;
/// - line 34: on 2f+1 prevotes of the round (any), schedule the prevote timeout once;
/// - line 36: on the proposal and 2f+1 prevotes for it (a polka) with step ≥ prevote, first time in the
///   round: if at prevote, lock on it and precommit it; in any case it becomes the valid value;
/// - line 44: on 2f+1 nil prevotes at prevote, precommit nil;
/// - line 47: on 2f+1 precommits of the round (any), schedule the precommit timeout once;
/// - line 49: on a value and 2f+1 precommits for it in any round, decide (commit);
/// - line 55: on messages of a higher round from validators with more than 1/3 of the power, start that round.
public struct ConsensusCore: Sendable {
    public let chainId: UInt64
    public let config: ConsensusConfig
    private let signer: any ConsensusSigner
    private let hashBlock: @Sendable ([UInt8]) -> Bytes32

    /// What survives a crash; its `height`, `round` and `step` are the core's.
    public private(set) var safety: SafetyState
    /// The validator set of the current height (nil before `.start`).
    public private(set) var validatorSet: ValidatorSet?
    /// The certificate of the current height once decided (the core then waits for `.start` of the next).
    public private(set) var decision: CommitCertificate?
    /// Equivocations seen at the current height and before, in the order found.
    public private(set) var evidence: [Evidence] = []
    /// How many times the double-sign guard refused to sign (0 for a correct run; > 0 only after a
    /// restart from a state that is behind its own signatures, or with a hand-made state in tests).
    public private(set) var refusedSignatures = 0

    private var evidenceSeen = Set<Evidence>()
    private var proposals: [Int: [Proposal]] = [:]
    private var blocks: [Bytes32: [UInt8]] = [:]
    private var verdicts: [Bytes32: Bool] = [:]
    private var validationRequested = Set<Bytes32>()
    private var prevotes: [Int: VoteSet] = [:]
    private var precommits: [Int: VoteSet] = [:]
    private var roundSenders: [Int: Set<Address>] = [:]
    private var roundSenderPower: [Int: UInt64] = [:]
    private var prevoteTimeoutScheduled = Set<Int>()
    private var precommitTimeoutScheduled = Set<Int>()
    private var polkaHandled = Set<Int>()
    private var awaitingBlock: Int?
    private var receivedCertificate: CommitCertificate?
    private var actions: [ConsensusAction] = []

    /// Proposals kept per round; more from an equivocating proposer are dropped (the first is evidence enough).
    static let maxProposalsPerRound = 4

    /// - Parameters:
    ///   - chainId: signed into every message (domain separation between chains).
    ///   - signer: this node's key; a node whose address is not in a height's validator set follows that
    ///     height without signing anything.
    ///   - safety: the last persisted state (nil on first boot).
    ///   - hashBlock: the application's block hash function; a proposal whose hash is not `hashBlock(block)`
    ///     is ignored, and a certificate's block must hash to the certified hash.
    public init(chainId: UInt64, signer: any ConsensusSigner, safety: SafetyState? = nil, config: ConsensusConfig = ConsensusConfig(),
                hashBlock: @escaping @Sendable ([UInt8]) -> Bytes32) {
        self.chainId = chainId
        self.signer = signer
        self.safety = safety ?? SafetyState(height: 0)
        self.config = config
        self.hashBlock = hashBlock
    }

    public var address: Address { signer.address }
    public var height: UInt64 { safety.height }
    public var round: Int { safety.round }
    public var step: RoundStep { safety.step }
    public var lockedRound: Int { safety.lockedRound }
    public var lockedHash: Bytes32? { safety.lockedHash }
    public var validRound: Int { safety.validRound }
    public var validHash: Bytes32? { safety.validHash }
    public var isStarted: Bool { validatorSet != nil }

    /// True when this node proposes `round` of the current height.
    public func isProposer(round: Int) -> Bool {
        validatorSet?.proposer(height: height, round: round).address == signer.address
    }

    /// The stored votes of (current height, `round`, `kind`), in validator-set order (an equivocator's
    /// conflicting votes after its first).
    public func votes(round: Int, kind: VoteKind) -> [Vote] {
        let set = kind == .prevote ? prevotes[round] : precommits[round]
        return sortedVotes(set)
    }

    /// One line for logs: height, round, step, lock and valid value, and the decision if any.
    public var summary: String {
        let lock = safety.lockedHash.map { "\(String($0.description.prefix(10)))@\(safety.lockedRound)" } ?? "-"
        let valid = safety.validHash.map { "\(String($0.description.prefix(10)))@\(safety.validRound)" } ?? "-"
        let pv = prevotes[round].map { "\($0.first.count)+\($0.conflicting.count)" } ?? "0"
        let pc = precommits[round].map { "\($0.first.count)+\($0.conflicting.count)" } ?? "0"
        return "h\(height) r\(round) \(step) locked \(lock) valid \(valid) prevotes \(pv) precommits \(pc)"
            + (decision.map { " decided r\($0.round)" } ?? "")
    }

    /// The proposals kept for `round` of the current height, first received first.
    public func proposals(round: Int) -> [Proposal] { proposals[round] ?? [] }

    // MARK: - Events

    /// Applies one event and returns what to do, in order (see `ConsensusAction` for the contract).
    public mutating func handle(_ event: ConsensusEvent) -> [ConsensusAction] {
        let before = safety
        actions = []
        switch event {
        case .start(let h, let set): start(height: h, validatorSet: set)
        case .proposal(let p): receive(p)
        case .vote(let v): receive(v)
        case .timeout(let t): timeout(t)
        case .blockBuilt(let h, let r, let block, let hash): blockBuilt(height: h, round: r, block: block, hash: hash)
        case .blockValidated(let h, let hash, let valid):
            if isStarted, h == height, decision == nil, verdicts[hash] == nil, blocks[hash] != nil { verdicts[hash] = valid }
        case .commitReceived(let certificate, let block): receive(certificate, block: block)
        }
        if isStarted && decision == nil { evaluateRules() }
        var out = actions
        actions = []
        if safety != before { out.insert(.persist(safety), at: 0) }
        return out
    }

    /// Messages worth re-sending to a peer (the runner's gossip): the first proposal of the current round
    /// and of the valid/locked rounds, and the counted votes of the current and previous round and of the
    /// rounds a proposal or lock refers to. Delivering these repeatedly lets correct validators that
    /// lost messages (before the network stabilised) catch up, as the paper's gossip assumption requires.
    public func gossipMessages() -> [ConsensusMessage] {
        guard isStarted else { return [] }
        var rounds = Set([round, round - 1, safety.validRound, safety.lockedRound])
        if let p = proposals[round]?.first { rounds.insert(p.validRound) }
        if let d = decision { rounds.insert(d.round) }
        var out: [ConsensusMessage] = []
        for r in rounds.filter({ $0 >= 0 }).sorted() {
            if let p = proposals[r]?.first { out.append(.proposal(p)) }
            out += sortedVotes(prevotes[r]).map { .vote($0) }
            out += sortedVotes(precommits[r]).map { .vote($0) }
        }
        return out
    }

    /// Every stored vote of a slot (first votes, then conflicting ones), in validator-set order.
    private func sortedVotes(_ set: VoteSet?) -> [Vote] {
        guard let set, let vs = validatorSet else { return [] }
        let all = Array(set.first.values) + set.conflicting.values.flatMap { $0 }
        return all.sorted {
            let (a, b) = (vs.index(of: $0.validator) ?? 0, vs.index(of: $1.validator) ?? 0)
            if a != b { return a < b }
            return ($0.blockHash?.bytes ?? []).lexicographicallyPrecedes($1.blockHash?.bytes ?? [])
        }
    }

    // MARK: - Start, resume, rounds

    private mutating func start(height h: UInt64, validatorSet set: ValidatorSet) {
        // Never go back to a height below the persisted one: votes may have been signed there.
        guard h >= safety.height else { return }
        if isStarted && h == safety.height { return }
        validatorSet = set
        decision = nil
        proposals = [:]
        blocks = [:]
        verdicts = [:]
        validationRequested = []
        prevotes = [:]
        precommits = [:]
        roundSenders = [:]
        roundSenderPower = [:]
        prevoteTimeoutScheduled = []
        precommitTimeoutScheduled = []
        polkaHandled = []
        awaitingBlock = nil
        receivedCertificate = nil
        if h > safety.height {
            safety = SafetyState(height: h)
            startRound(0)
            return
        }
        // Resume at the persisted height: restore what was signed, then continue from the persisted step.
        if let vh = safety.validHash, let vb = safety.validBlock {
            blocks[vh] = vb
            verdicts[vh] = true
        }
        if let p = safety.signedProposal, p.height == h {
            blocks[p.blockHash] = p.block
            verdicts[p.blockHash] = true
            accept(p, proposer: signer.address)
        }
        for v in safety.signedVotes where v.height == h { add(v) }
        if safety.step == .propose {
            startRound(safety.round)
        } else {
            // Already voted in this round: send those votes again; the rules take over as votes arrive.
            for v in safety.signedVotes where v.height == h && v.round == safety.round { actions.append(.broadcastVote(v)) }
        }
    }

    /// StartRound(r) of the paper.
    private mutating func startRound(_ r: Int) {
        safety.round = r
        safety.step = .propose
        awaitingBlock = nil
        actions.append(.scheduleTimeout(Timeout(height: height, round: r, step: .propose),
                                        after: config.timeout(.propose, round: r)))
        guard isProposer(round: r) else { return }
        if let p = safety.signedProposal, p.height == height, p.round == r {
            actions.append(.broadcastProposal(p))
        } else if let vh = safety.validHash, let vb = safety.validBlock {
            propose(block: vb, hash: vh, validRound: safety.validRound)
        } else {
            awaitingBlock = r
            actions.append(.buildBlock(height: height, round: r))
        }
    }

    private mutating func blockBuilt(height h: UInt64, round r: Int, block: [UInt8], hash: Bytes32) {
        guard isStarted, decision == nil, h == height, r == round, awaitingBlock == r, step == .propose else { return }
        guard hashBlock(block) == hash else { return }
        awaitingBlock = nil
        if let vh = safety.validHash, let vb = safety.validBlock {
            propose(block: vb, hash: vh, validRound: safety.validRound)
        } else {
            blocks[hash] = block
            verdicts[hash] = true
            propose(block: block, hash: hash, validRound: -1)
        }
    }

    // MARK: - Signing (the double-sign guard)

    private mutating func propose(block: [UInt8], hash: Bytes32, validRound: Int) {
        guard isProposer(round: round) else { return }
        if let p = safety.signedProposal, p.height == height, p.round >= round {
            if p.round == round && p.blockHash == hash && p.validRound == validRound {
                actions.append(.broadcastProposal(p))
            } else {
                refusedSignatures += 1
            }
            return
        }
        let p = Proposal(signing: block, blockHash: hash, height: height, round: round, validRound: validRound,
                         chainId: chainId, signer: signer)
        safety.signedProposal = p
        blocks[hash] = block
        verdicts[hash] = true
        actions.append(.broadcastProposal(p))
        accept(p, proposer: signer.address)
    }

    /// Signs and broadcasts a vote of the current (height, round), unless this node already signed a
    /// different vote for that slot or a vote of a later slot (then it re-sends the same vote, or nothing).
    private mutating func vote(_ kind: VoteKind, _ hash: Bytes32?) {
        guard let set = validatorSet, set.contains(signer.address) else { return }
        let r = round
        if let existing = safety.signedVote(height: height, round: r, kind: kind) {
            if existing.blockHash == hash { actions.append(.broadcastVote(existing)) } else { refusedSignatures += 1 }
            return
        }
        if let last = safety.signedVotes.last, last.height == height, (last.round, last.kind.rawValue) > (r, kind.rawValue) {
            refusedSignatures += 1
            return
        }
        let v = Vote(signing: kind, height: height, round: r, blockHash: hash, chainId: chainId, signer: signer)
        safety.signedVotes.append(v)
        if safety.signedVotes.count > SafetyState.maxSignedVotes { safety.signedVotes.removeFirst() }
        actions.append(.broadcastVote(v))
        add(v)
    }

    // MARK: - Messages

    private mutating func receive(_ p: Proposal) {
        guard let set = validatorSet, decision == nil, p.height == height,
              p.round <= ConsensusLimits.maxRound, p.validRound >= -1, p.validRound < p.round else { return }
        guard admitsFutureRound(p.round, from: set.proposer(height: height, round: p.round).address) else { return }
        let existing = proposals[p.round] ?? []
        if existing.contains(p) { return }
        let proposer = set.proposer(height: height, round: p.round).address
        guard p.signer(chainId: chainId) == proposer, hashBlock(p.block) == p.blockHash else { return }
        if let first = existing.first, first.blockHash != p.blockHash || first.validRound != p.validRound {
            record(.conflictingProposals(first, p))
        }
        if existing.contains(where: { $0.blockHash == p.blockHash && $0.validRound == p.validRound }) { return }
        guard existing.count < Self.maxProposalsPerRound else { return }
        if blocks[p.blockHash] == nil { blocks[p.blockHash] = p.block }
        accept(p, proposer: proposer)
    }

    private mutating func accept(_ p: Proposal, proposer: Address) {
        if !(proposals[p.round] ?? []).contains(where: { $0.blockHash == p.blockHash && $0.validRound == p.validRound }) {
            proposals[p.round, default: []].append(p)
        }
        noteSender(proposer, round: p.round)
        requestValidation(p.blockHash)
    }

    private mutating func receive(_ v: Vote) {
        guard let set = validatorSet, decision == nil, v.height == height, v.round <= ConsensusLimits.maxRound,
              set.contains(v.validator) else { return }
        guard admitsFutureRound(v.round, from: v.validator) else { return }
        let slot = v.kind == .prevote ? prevotes[v.round] : precommits[v.round]
        // A duplicate needs no signature check.
        if slot?.vote(of: v.validator, for: v.blockHash) != nil { return }
        guard v.hasValidSignature(chainId: chainId) else { return }
        if let first = slot?.first[v.validator] { record(.conflictingVotes(first, v)) }
        add(v)
    }

    /// Counts a verified vote.
    private mutating func add(_ v: Vote) {
        guard let set = validatorSet else { return }
        let power = set.power(of: v.validator)
        guard power > 0 else { return }
        // A value that matters: a block the core holds (a proposal's), or its lock or valid
        // value, which after a restart it holds before any proposal of them is seen again.
        let known = v.blockHash.map { blocks[$0] != nil || $0 == safety.lockedHash || $0 == safety.validHash } ?? false
        let added = v.kind == .prevote
            ? prevotes[v.round, default: VoteSet()].add(v, power: power, forKnownBlock: known)
            : precommits[v.round, default: VoteSet()].add(v, power: power, forKnownBlock: known)
        if added { noteSender(v.validator, round: v.round) }
    }

    /// Messages of rounds beyond the next one are kept from each validator for at most this many
    /// distinct rounds (CometBFT's peer catch-up rounds): enough for the round skip of line 55,
    /// while a Byzantine validator cannot fill memory with votes or blocks for countless rounds.
    /// Refused messages come back through the runner's re-gossip once the round catches up.
    static let futureRoundsPerValidator = 2

    private func admitsFutureRound(_ r: Int, from validator: Address) -> Bool {
        guard r > round + 1 else { return true }
        if roundSenders[r]?.contains(validator) == true { return true }
        let used = roundSenders.reduce(0) { $0 + ($1.key > round + 1 && $1.value.contains(validator) ? 1 : 0) }
        return used < Self.futureRoundsPerValidator
    }

    /// Line 55's count: the power of distinct validators that sent a message of round `r`.
    private mutating func noteSender(_ validator: Address, round r: Int) {
        guard let set = validatorSet else { return }
        if roundSenders[r, default: []].insert(validator).inserted {
            roundSenderPower[r, default: 0] += set.power(of: validator)
        }
    }

    private mutating func record(_ e: Evidence) {
        if evidenceSeen.insert(e).inserted { evidence.append(e) }
    }

    private mutating func receive(_ certificate: CommitCertificate, block: [UInt8]) {
        guard let set = validatorSet, decision == nil, certificate.height == height, receivedCertificate == nil else { return }
        guard (try? certificate.verify(against: set, chainId: chainId)) != nil, hashBlock(block) == certificate.blockHash else { return }
        receivedCertificate = certificate
        if blocks[certificate.blockHash] == nil { blocks[certificate.blockHash] = block }
        requestValidation(certificate.blockHash)
    }

    private mutating func requestValidation(_ hash: Bytes32) {
        guard verdicts[hash] == nil, !validationRequested.contains(hash), let block = blocks[hash] else { return }
        validationRequested.insert(hash)
        actions.append(.validateBlock(height: height, hash: hash, block: block))
    }

    // MARK: - Timeouts (lines 57–66)

    private mutating func timeout(_ t: Timeout) {
        guard isStarted, decision == nil, t.height == height, t.round == round else { return }
        switch t.step {
        case .propose:
            guard step == .propose else { return }
            vote(.prevote, nil)
            safety.step = .prevote
        case .prevote:
            guard step == .prevote else { return }
            vote(.precommit, nil)
            safety.step = .precommit
        case .precommit:
            startRound(round + 1)
        }
    }

    // MARK: - Upon-rules

    private mutating func evaluateRules() {
        while decision == nil {
            if tryDecide() { return }
            if trySkipRound() || tryPrevoteOnProposal() || tryScheduleTimeoutPrevote() || tryPolka()
                || tryPrecommitNil() || tryScheduleTimeoutPrecommit() {
                continue
            }
            return
        }
    }

    /// Line 49 (and a verified certificate from a peer): a valid value with 2f+1 precommits in some round.
    private mutating func tryDecide() -> Bool {
        guard let set = validatorSet else { return false }
        for r in precommits.keys.sorted() {
            let vs = precommits[r]!
            for (hash, power) in vs.powerFor.sorted(by: { $0.key < $1.key }) where set.isQuorum(power) {
                guard let block = blocks[hash] else { continue }
                switch verdicts[hash] {
                case true?:
                    let signatures = sortedVotes(vs).filter { $0.blockHash == hash }
                        .map { CommitSignature(validator: $0.validator, signature: $0.signature) }
                    decide(CommitCertificate(height: height, round: r, blockHash: hash, precommits: signatures), block: block)
                    return true
                case nil: requestValidation(hash)
                case false?: break
                }
            }
        }
        if let c = receivedCertificate, let block = blocks[c.blockHash] {
            if verdicts[c.blockHash] == true {
                decide(c, block: block)
                return true
            }
            requestValidation(c.blockHash)
        }
        return false
    }

    private mutating func decide(_ certificate: CommitCertificate, block: [UInt8]) {
        decision = certificate
        awaitingBlock = nil
        actions.append(.commit(height: height, block: block, hash: certificate.blockHash, certificate: certificate))
    }

    /// Line 55: more than 1/3 of the power sent messages of a higher round.
    private mutating func trySkipRound() -> Bool {
        guard let set = validatorSet else { return false }
        let target = roundSenderPower.filter { $0.key > round && set.exceedsOneThird($0.value) }.keys.max()
        guard let target else { return false }
        startRound(target)
        return true
    }

    /// Lines 22 and 28.
    private mutating func tryPrevoteOnProposal() -> Bool {
        guard step == .propose else { return false }
        for p in proposals[round] ?? [] {
            guard let valid = verdicts[p.blockHash] else { continue }
            let acceptable: Bool
            if p.validRound == -1 {
                acceptable = safety.lockedRound == -1 || safety.lockedHash == p.blockHash
            } else {
                guard let set = validatorSet, set.isQuorum(prevotes[p.validRound]?.power(for: p.blockHash) ?? 0) else { continue }
                acceptable = safety.lockedRound <= p.validRound || safety.lockedHash == p.blockHash
            }
            vote(.prevote, valid && acceptable ? p.blockHash : nil)
            safety.step = .prevote
            return true
        }
        return false
    }

    /// Line 34.
    private mutating func tryScheduleTimeoutPrevote() -> Bool {
        guard step == .prevote, !prevoteTimeoutScheduled.contains(round), let set = validatorSet,
              set.isQuorum(prevotes[round]?.totalPower ?? 0) else { return false }
        prevoteTimeoutScheduled.insert(round)
        actions.append(.scheduleTimeout(Timeout(height: height, round: round, step: .prevote),
                                        after: config.timeout(.prevote, round: round)))
        return true
    }

    /// Line 36.
    private mutating func tryPolka() -> Bool {
        guard step >= .prevote, !polkaHandled.contains(round), let set = validatorSet, let vs = prevotes[round] else { return false }
        for p in proposals[round] ?? [] where verdicts[p.blockHash] == true && set.isQuorum(vs.power(for: p.blockHash)) {
            polkaHandled.insert(round)
            if step == .prevote {
                safety.lockedHash = p.blockHash
                safety.lockedRound = round
                vote(.precommit, p.blockHash)
                safety.step = .precommit
            }
            safety.validHash = p.blockHash
            safety.validBlock = p.block
            safety.validRound = round
            return true
        }
        return false
    }

    /// Line 44.
    private mutating func tryPrecommitNil() -> Bool {
        guard step == .prevote, let set = validatorSet, set.isQuorum(prevotes[round]?.nilPower ?? 0) else { return false }
        vote(.precommit, nil)
        safety.step = .precommit
        return true
    }

    /// Line 47.
    private mutating func tryScheduleTimeoutPrecommit() -> Bool {
        guard !precommitTimeoutScheduled.contains(round), let set = validatorSet,
              set.isQuorum(precommits[round]?.totalPower ?? 0) else { return false }
        precommitTimeoutScheduled.insert(round)
        actions.append(.scheduleTimeout(Timeout(height: height, round: round, step: .precommit),
                                        after: config.timeout(.precommit, round: round)))
        return true
    }
}
