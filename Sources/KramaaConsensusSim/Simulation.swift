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
    /// Crashes of correct nodes during chaos (between events and in the middle of an action batch), with
    /// restarts from the persisted SafetyState and the last committed height.
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

/// A deterministic network of consensus cores driven from a seed: a virtual clock and event queue,
/// a network that loses, duplicates, delays and reorders messages and partitions during a chaos
/// phase, crashes and restarts, Byzantine validators, and an application that builds opaque blocks.
/// The same seed and configuration replay exactly the same run.
///
/// Checked at every step: no two correct nodes commit different blocks at one height; every commit's
/// certificate verifies against that height's validator set; heights are committed in order; no
/// correct validator signs two different votes (or proposals) for one slot, appears in evidence, or
/// even tries to (its core's double-sign guard never refuses anything);
/// after the heal, a new height is committed at least every `livenessBound` and the run reaches its
/// target heights before `maxVirtualTime`.
public final class Simulation {
    public let seed: UInt64
    public let config: SimulationConfig

    private enum Payload {
        case message([UInt8])
        case status(UInt64)
        case commit(block: [UInt8], certificate: [UInt8])
    }

    private enum Event {
        case deliver(to: Int, from: Int, Payload)
        case core(node: Int, incarnation: Int, ConsensusEvent)
        case gossip(node: Int, incarnation: Int)
        case crash(node: Int)
        case restart(node: Int)
        case chaos
        case heal
    }

    private final class Node {
        let index: Int
        let signer: PrivateKeySigner
        let byzantine: Bool
        var core: ConsensusCore?
        var incarnation = 0
        var disk: SafetyState?
        var chain: [(hash: Bytes32, block: [UInt8], certificate: CommitCertificate)] = []
        var counter: UInt64 = 0
        var alternative: [SlotKey: Bytes32] = [:]
        var evidenceChecked = 0

        init(index: Int, signer: PrivateKeySigner, byzantine: Bool) {
            self.index = index
            self.signer = signer
            self.byzantine = byzantine
        }

        var lastCommitted: UInt64 { UInt64(chain.count) }
        var alive: Bool { core != nil }
    }

    private struct SlotKey: Hashable {
        let height: UInt64
        let round: Int
    }

    private struct VoteSlot: Hashable {
        let node: Int
        let height: UInt64
        let round: Int
        let kind: VoteKind
    }

    private struct VoteTarget: Equatable {
        let hash: Bytes32?
    }

    private var rng: SplitMix64
    private var queue = TimedQueue<Event>()
    private var now: UInt64 = 0
    private var steps = 0
    private var delivered = 0
    private var restarts = 0
    private var nodes: [Node] = []
    private let sets: [ValidatorSet]
    private var decided: [UInt64: Bytes32] = [:]
    private var rounds = 0
    private var maxRound = 0
    private var healed = false
    private var chaosEnd: UInt64 = 0
    private var loss = 0.0
    private var partition: [Int]?
    private var targetHeight: UInt64
    private var lastProgress: UInt64 = 0
    private var honestVotes: [VoteSlot: VoteTarget] = [:]
    private var honestProposals: [VoteSlot: Bytes32] = [:]
    private var violation: Violation?

    public init(seed: UInt64, config: SimulationConfig) {
        self.seed = seed
        self.config = config
        self.rng = SplitMix64(seed: seed)
        self.targetHeight = config.heights
        let count = config.validators + (config.validatorSetChange == nil ? 0 : 1)
        var signers: [PrivateKeySigner] = []
        for i in 0..<count { signers.append(Simulation.signer(i)) }
        let initial = signers[0..<config.validators].map { Validator(address: $0.address, power: 10) }
        var sets = [try! ValidatorSet(initial)]
        if config.validatorSetChange != nil {
            sets.append(try! ValidatorSet(Array(initial.dropFirst()) + [Validator(address: signers[count - 1].address, power: 10)]))
        }
        self.sets = sets
        for i in 0..<count {
            let byzantine = i < config.validators && i >= config.validators - config.byzantine
            nodes.append(Node(index: i, signer: signers[i], byzantine: byzantine))
        }
    }

    /// The deterministic key of simulated node `i`.
    public static func signer(_ i: Int) -> PrivateKeySigner {
        let secret = Keccak256.hash(Array("kramaa consensus simulator validator \(i)".utf8))
        return PrivateKeySigner(try! Secp256k1.PrivateKey(secret))
    }

    /// The validator set of `height` (the simulated application's rule).
    public func validatorSet(height: UInt64) -> ValidatorSet {
        if let change = config.validatorSetChange, height >= change { return sets[1] }
        return sets[0]
    }

    /// The simulated application's block: `RLP([height, proposer index, counter])`; its hash is keccak256 of it.
    static func block(height: UInt64, proposer: Int, counter: UInt64) -> [UInt8] {
        var w = RLPWriter()
        w.appendList { w in
            w.append(uint: height)
            w.append(uint: UInt64(proposer))
            w.append(uint: counter)
        }
        return w.bytes
    }

    static func isValid(block: [UInt8], height: UInt64) -> Bool {
        var r = RLPReader(block)
        guard var l = try? r.readList(), let h = try? l.readUInt64(), (try? l.readUInt64()) != nil,
              (try? l.readUInt64()) != nil, l.isAtEnd, r.isAtEnd else { return false }
        return h == height
    }

    private static let hashBlock: @Sendable ([UInt8]) -> Bytes32 = { Keccak256.hash($0) }

    // MARK: - Running

    /// Runs until every correct node has committed the target heights, or an invariant breaks.
    public func run() -> SimulationResult {
        chaosEnd = uniform(config.chaos)
        loss = Double(uniform(0...1000)) / 1000 * config.maxLoss
        queue.push(.heal, at: chaosEnd)
        if config.partitions || config.crashes { queue.push(.chaos, at: uniform(1000...5000)) }
        for node in nodes {
            node.core = makeCore(node)
            execute(node, node.core!.handle(.start(height: 1, validatorSet: validatorSet(height: 1))))
            queue.push(.gossip(node: node.index, incarnation: node.incarnation), at: uniform(500...1500))
        }
        while violation == nil, let (time, event) = queue.pop() {
            now = time
            steps += 1
            if now > config.maxVirtualTime {
                fail("no finish by \(config.maxVirtualTime) ms: heights \(nodes.filter { !$0.byzantine }.map(\.lastCommitted)), target \(targetHeight)")
                break
            }
            process(event)
            if violation != nil { break }
            if healed {
                if now > lastProgress + config.livenessBound {
                    fail("liveness: no new height for \(now - lastProgress) ms after the heal (heights \(nodes.map(\.lastCommitted)))")
                    break
                }
                if nodes.allSatisfy({ $0.byzantine || $0.lastCommitted >= targetHeight }) { break }
            }
        }
        let correct = nodes.filter { !$0.byzantine }
        let evidence = correct.map { $0.core?.evidence.count ?? 0 }.max() ?? 0
        return SimulationResult(seed: seed, heights: correct.map(\.lastCommitted).min() ?? 0, rounds: rounds, maxRound: maxRound,
                                virtualTime: now, steps: steps, messages: delivered, evidence: evidence, restarts: restarts,
                                violation: violation)
    }

    private func makeCore(_ node: Node) -> ConsensusCore {
        ConsensusCore(chainId: config.chainId, signer: node.signer, safety: node.disk, config: config.consensus,
                      hashBlock: Simulation.hashBlock)
    }

    private func fail(_ message: String) {
        guard violation == nil else { return }
        let states = nodes.map { "\n  node \($0.index)\($0.byzantine ? " (byzantine)" : ""): committed \($0.lastCommitted), "
            + ($0.core?.summary ?? "crashed") }.joined()
        violation = Violation(seed: seed, step: steps, time: now, message: message + states)
    }

    private func process(_ event: Event) {
        switch event {
        case .deliver(let to, let from, let payload):
            let node = nodes[to]
            guard node.alive else { return }
            delivered += 1
            receive(node, from: from, payload)
        case .core(let i, let incarnation, let e):
            let node = nodes[i]
            guard node.alive, node.incarnation == incarnation else { return }
            execute(node, node.core!.handle(e))
        case .gossip(let i, let incarnation):
            let node = nodes[i]
            guard node.alive, node.incarnation == incarnation else { return }
            gossip(node)
            queue.push(.gossip(node: i, incarnation: incarnation), at: now + uniform(800...1200))
        case .crash(let i):
            crash(nodes[i])
        case .restart(let i):
            restart(nodes[i])
        case .chaos:
            chaosStep()
        case .heal:
            heal()
        }
    }

    private func receive(_ node: Node, from: Int, _ payload: Payload) {
        switch payload {
        case .message(let bytes):
            guard let message = try? ConsensusMessage(rlp: bytes) else { return }
            switch message {
            case .proposal(let p): execute(node, node.core!.handle(.proposal(p)))
            case .vote(let v): execute(node, node.core!.handle(.vote(v)))
            }
        case .status(let height):
            // Block sync: a peer that is behind gets the next committed block with its certificate.
            if node.lastCommitted > height {
                let c = node.chain[Int(height)]
                send(from: node.index, to: from, .commit(block: c.block, certificate: c.certificate.encoded))
            }
        case .commit(let block, let bytes):
            guard let certificate = try? CommitCertificate(rlp: bytes) else { return }
            execute(node, node.core!.handle(.commitReceived(certificate, block: block)))
        }
    }

    // MARK: - Actions

    private func execute(_ node: Node, _ actions: [ConsensusAction]) {
        var crashAt = -1
        if !healed && config.crashes && !node.byzantine && !actions.isEmpty && chance(0.01) && crashedCount() < maxCrashed() {
            crashAt = Int(uniform(0...UInt64(actions.count - 1)))
        }
        for (i, action) in actions.enumerated() {
            if i == crashAt {
                crash(node)
                queue.push(.restart(node: node.index), at: now + uniform(1000...8000))
                return
            }
            switch action {
            case .persist(let state):
                node.disk = state
            case .broadcastProposal(let p):
                broadcast(node, proposal: p)
            case .broadcastVote(let v):
                broadcast(node, vote: v)
            case .scheduleTimeout(let t, let d):
                queue.push(.core(node: node.index, incarnation: node.incarnation, .timeout(t)), at: now + milliseconds(d))
            case .buildBlock(let h, let r):
                node.counter += 1
                let block = Simulation.block(height: h, proposer: node.index, counter: node.counter)
                queue.push(.core(node: node.index, incarnation: node.incarnation,
                                 .blockBuilt(height: h, round: r, block: block, hash: Keccak256.hash(block))),
                           at: now + uniform(1...20))
            case .validateBlock(let h, let hash, let block):
                let valid = Simulation.isValid(block: block, height: h) && Keccak256.hash(block) == hash
                queue.push(.core(node: node.index, incarnation: node.incarnation,
                                 .blockValidated(height: h, hash: hash, valid: valid)), at: now + uniform(1...20))
            case .commit(let h, let block, let hash, let certificate):
                commit(node, height: h, block: block, hash: hash, certificate: certificate)
                if violation != nil { return }
            }
        }
        checkEvidence(node)
    }

    private func commit(_ node: Node, height h: UInt64, block: [UInt8], hash: Bytes32, certificate: CommitCertificate) {
        guard h == node.lastCommitted + 1 else {
            return fail("node \(node.index) commits height \(h) after \(node.lastCommitted)")
        }
        guard certificate.height == h, certificate.blockHash == hash, Keccak256.hash(block) == hash else {
            return fail("node \(node.index) commits at height \(h) a block, hash and certificate that do not match")
        }
        do {
            try certificate.verify(against: validatorSet(height: h), chainId: config.chainId)
        } catch {
            return fail("node \(node.index): the certificate of height \(h) does not verify: \(error)")
        }
        if !node.byzantine {
            if let other = decided[h], other != hash {
                return fail("SAFETY: two blocks committed at height \(h): \(other) and \(hash) (node \(node.index))")
            }
            if decided[h] == nil {
                decided[h] = hash
                rounds += certificate.round + 1
                maxRound = max(maxRound, certificate.round)
            }
            lastProgress = max(lastProgress, now)
        }
        node.chain.append((hash, block, certificate))
        queue.push(.core(node: node.index, incarnation: node.incarnation,
                         .start(height: h + 1, validatorSet: validatorSet(height: h + 1))), at: now + 1)
    }

    private func checkEvidence(_ node: Node) {
        guard !node.byzantine, let core = node.core else { return }
        if core.refusedSignatures > 0 {
            return fail("correct node \(node.index) tried to sign a message conflicting with its persisted state (\(core.refusedSignatures) refused)")
        }
        guard core.evidence.count > node.evidenceChecked else { return }
        for e in core.evidence[node.evidenceChecked...] {
            let culprit: Address
            switch e {
            case .conflictingVotes(let a, _): culprit = a.validator
            case .conflictingProposals(let a, _):
                culprit = core.validatorSet?.proposer(height: a.height, round: a.round).address ?? .zero
            }
            if let bad = nodes.first(where: { $0.signer.address == culprit }), !bad.byzantine {
                return fail("correct node \(bad.index) appears in evidence: \(e)")
            }
        }
        node.evidenceChecked = core.evidence.count
    }

    // MARK: - Network

    private func broadcast(_ node: Node, vote v: Vote) {
        if !node.byzantine {
            let slot = VoteSlot(node: node.index, height: v.height, round: v.round, kind: v.kind)
            if let earlier = honestVotes[slot], earlier.hash != v.blockHash {
                return fail("DOUBLE SIGN: correct node \(node.index) signed \(v) after voting \(earlier.hash.map(\.description) ?? "nil")")
            }
            honestVotes[slot] = VoteTarget(hash: v.blockHash)
            return sendAll(from: node, .message(ConsensusMessage.vote(v).encoded))
        }
        guard chance(0.6) else { return sendAll(from: node, .message(ConsensusMessage.vote(v).encoded)) }
        // Equivocate: a conflicting vote for the same slot to a random half of the peers.
        let alternative: Bytes32?
        if let alt = node.alternative[SlotKey(height: v.height, round: v.round)], alt != v.blockHash {
            alternative = alt
        } else if v.blockHash == nil {
            alternative = randomHash()
        } else {
            alternative = nil
        }
        let forged = Vote(signing: v.kind, height: v.height, round: v.round, blockHash: alternative, chainId: config.chainId,
                          signer: node.signer)
        split(from: node, .message(ConsensusMessage.vote(v).encoded), .message(ConsensusMessage.vote(forged).encoded))
    }

    private func broadcast(_ node: Node, proposal p: Proposal) {
        if !node.byzantine {
            let slot = VoteSlot(node: node.index, height: p.height, round: p.round, kind: .prevote)
            if let earlier = honestProposals[slot], earlier != p.blockHash {
                return fail("DOUBLE SIGN: correct node \(node.index) proposed \(p) after proposing \(earlier)")
            }
            honestProposals[slot] = p.blockHash
            return sendAll(from: node, .message(ConsensusMessage.proposal(p).encoded))
        }
        if chance(0.05), let peer = randomPeer(of: node) {
            send(from: node.index, to: peer, .message((0..<Int(uniform(1...80))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
        }
        guard chance(0.6) else { return sendAll(from: node, .message(ConsensusMessage.proposal(p).encoded)) }
        // Equivocate: another block (sometimes an invalid one) for the same slot to a random half of the peers.
        node.counter += 1
        let height = chance(0.3) ? p.height + 1000 : p.height
        let block = Simulation.block(height: height, proposer: node.index, counter: node.counter + 1_000_000)
        let hash = Keccak256.hash(block)
        node.alternative[SlotKey(height: p.height, round: p.round)] = hash
        let forged = Proposal(signing: block, blockHash: hash, height: p.height, round: p.round, validRound: -1,
                              chainId: config.chainId, signer: node.signer)
        split(from: node, .message(ConsensusMessage.proposal(p).encoded), .message(ConsensusMessage.proposal(forged).encoded))
    }

    private func sendAll(from node: Node, _ payload: Payload) {
        for peer in nodes where peer.index != node.index { send(from: node.index, to: peer.index, payload) }
    }

    private func split(from node: Node, _ a: Payload, _ b: Payload) {
        for peer in nodes where peer.index != node.index { send(from: node.index, to: peer.index, chance(0.5) ? a : b) }
    }

    private func send(from: Int, to: Int, _ payload: Payload) {
        if let partition, partition[from] != partition[to] { return }
        if !healed && chance(loss) { return }
        queue.push(.deliver(to: to, from: from, payload), at: now + delay())
        if chance(config.duplication) { queue.push(.deliver(to: to, from: from, payload), at: now + delay()) }
    }

    private func delay() -> UInt64 { healed ? uniform(5...150) : uniform(5...1500) }

    private func gossip(_ node: Node) {
        guard let peer = randomPeer(of: node) else { return }
        for m in node.core!.gossipMessages() { send(from: node.index, to: peer, .message(m.encoded)) }
        send(from: node.index, to: peer, .status(node.lastCommitted))
    }

    private func randomPeer(of node: Node) -> Int? {
        guard nodes.count > 1 else { return nil }
        let i = Int(uniform(0...UInt64(nodes.count - 2)))
        return i >= node.index ? i + 1 : i
    }

    // MARK: - Faults

    private func crashedCount() -> Int { nodes.filter { !$0.alive }.count }

    private func maxCrashed() -> Int { max(1, SimulationConfig.maxFaulty(config.validators) - config.byzantine) }

    private func crash(_ node: Node) {
        guard node.alive else { return }
        node.core = nil
        node.incarnation += 1
    }

    private func restart(_ node: Node) {
        guard !node.alive else { return }
        restarts += 1
        node.incarnation += 1
        node.evidenceChecked = 0
        node.core = makeCore(node)
        let h = node.lastCommitted + 1
        execute(node, node.core!.handle(.start(height: h, validatorSet: validatorSet(height: h))))
        queue.push(.gossip(node: node.index, incarnation: node.incarnation), at: now + uniform(100...1000))
    }

    private func chaosStep() {
        guard !healed else { return }
        switch uniform(0...2) {
        case 0 where config.partitions:
            var groups = nodes.map { _ in Int(uniform(0...1)) }
            if Set(groups).count == 1 { groups[Int(uniform(0...UInt64(groups.count - 1)))] ^= 1 }
            partition = groups
        case 1 where config.partitions:
            partition = nil
        case 2 where config.crashes && crashedCount() < maxCrashed():
            let candidates = nodes.filter { !$0.byzantine && $0.alive }
            if !candidates.isEmpty {
                let node = candidates[Int(uniform(0...UInt64(candidates.count - 1)))]
                crash(node)
                queue.push(.restart(node: node.index), at: now + uniform(2000...15000))
            }
        default:
            break
        }
        queue.push(.chaos, at: now + uniform(3000...12000))
    }

    private func heal() {
        healed = true
        partition = nil
        for node in nodes where !node.alive { restart(node) }
        let reached = nodes.filter { !$0.byzantine }.map(\.lastCommitted).max() ?? 0
        targetHeight = max(config.heights, reached + config.heightsAfterHeal)
        lastProgress = now
    }

    // MARK: - Randomness (SplitMix64, so a seed replays exactly)

    private func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
        let span = range.upperBound - range.lowerBound
        return span == .max ? rng.next() : range.lowerBound + rng.next() % (span + 1)
    }

    private func chance(_ p: Double) -> Bool { Double(rng.next() >> 11) / Double(1 << 53) < p }

    private func randomHash() -> Bytes32 {
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: rng.next()) { bytes += $0 } }
        return try! Bytes32(bytes)
    }

    private func milliseconds(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        return UInt64(max(0, s)) * 1000 + UInt64(max(0, atto)) / 1_000_000_000_000_000
    }
}
