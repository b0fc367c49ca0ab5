import KramaaConsensus
import KramaaPrimitives

/// A deterministic network of validators, each the production `ConsensusDriver` over simulated
/// ports (`SimulatedPorts.swift`), driven from a seed: a virtual clock and event queue, a network
/// that loses, duplicates, delays and reorders messages and partitions during a chaos phase,
/// crashes (between events, in the middle of an action batch, during a save) with restarts from
/// what was on disk, Byzantine validators, and an application that builds opaque blocks. The same
/// seed and configuration replay exactly the same run.
///
/// Checked at every step: no two correct nodes commit different blocks (or certificates for
/// different blocks) at one height; every commit's certificate verifies against that height's
/// validator set; heights are committed in order; a correct node's safety state on disk never
/// goes backwards and covers every signature it sends (checked the first time each leaves); no
/// correct validator signs two different votes (or proposals) for one slot, appears in evidence,
/// or even tries to (its core's double-sign guard never refuses anything); after the heal, a new
/// height is committed at least every `livenessBound` and the run reaches its target heights
/// before `maxVirtualTime`.
public final class Simulation {
    public let seed: UInt64
    public let config: SimulationConfig

    private enum Event {
        case deliver(to: Int, from: Int, type: UInt8, payload: [UInt8])
        case call(node: Int, incarnation: Int, () -> Void)
        case crash(node: Int)
        case restart(node: Int)
        case chaos
        case heal
    }

    final class Node {
        let index: Int
        let signer: PrivateKeySigner
        let byzantine: Bool
        var driver: ConsensusDriver?
        var incarnation = 0
        var storage: SimulatedStorage!
        var chain: [(hash: Bytes32, block: [UInt8], certificate: CommitCertificate)] = []
        var counter: UInt64 = 0
        var alternative: [SlotKey: Bytes32] = [:]
        var evidenceChecked = 0
        /// Own signatures already checked against the disk when they first left.
        var sentSignatures: Set<Bytes32> = []

        init(index: Int, signer: PrivateKeySigner, byzantine: Bool) {
            self.index = index
            self.signer = signer
            self.byzantine = byzantine
        }

        var lastCommitted: UInt64 { UInt64(chain.count) }
        var alive: Bool { driver != nil }
    }

    struct SlotKey: Hashable {
        let height: UInt64
        let round: Int
    }

    private struct VoteSlot: Hashable {
        let node: Int
        let height: UInt64
        let round: Int
        let kind: VoteKind
    }

    private var rng: SplitMix64
    private var queue = TimedQueue<Event>()
    private(set) var now: UInt64 = 0
    private var steps = 0
    private var delivered = 0
    private var restarts = 0
    private var nodes: [Node] = []
    private var byAddress: [Address: Int] = [:]
    private let sets: [ValidatorSet]
    private var decided: [UInt64: (hash: Bytes32, certificate: Bytes32)] = [:]
    private var rounds = 0
    private var maxRound = 0
    private var healed = false
    private var chaosEnd: UInt64 = 0
    private var loss = 0.0
    private var partition: [Int]?
    private var targetHeight: UInt64
    private var lastProgress: UInt64 = 0
    private var honestVotes: [VoteSlot: Bytes32?] = [:]
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
            byAddress[signers[i].address] = i
        }
        for node in nodes { node.storage = SimulatedStorage(simulation: self, node: node.index) }
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
        for node in nodes { boot(node) }
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
        let evidence = correct.map { $0.driver?.evidence.count ?? 0 }.max() ?? 0
        return SimulationResult(seed: seed, heights: correct.map(\.lastCommitted).min() ?? 0, rounds: rounds, maxRound: maxRound,
                                virtualTime: now, steps: steps, messages: delivered, evidence: evidence, restarts: restarts,
                                violation: violation)
    }

    /// A driver for `node` over its simulated ports, from what its storage holds; started.
    private func boot(_ node: Node) {
        var configuration = ConsensusDriver.Configuration()
        configuration.consensus = config.consensus
        configuration.idleCheckInterval = .seconds(1)
        let driver = try! ConsensusDriver(
            chainId: config.chainId, signer: node.signer, configuration: configuration,
            clock: SimulatedClock(simulation: self, node: node.index),
            transport: SimulatedTransport(simulation: self, node: node.index), storage: node.storage,
            application: SimulatedApplication(simulation: self, node: node.index), hashBlock: Simulation.hashBlock, hop: { $0() })
        if !node.byzantine { driver.plantedFault = config.plantedFault }
        node.driver = driver
        node.evidenceChecked = 0
        driver.start()
        for peer in nodes where peer.index != node.index && peer.alive {
            driver.peerConnected(peer.signer.address)
            peer.driver?.peerConnected(node.signer.address)
        }
    }

    /// The last rounds as a node's core holds them (proposals, prevotes, precommits), for the report of a violation.
    static func recentRounds(_ d: ConsensusDriver) -> String {
        func v(_ x: [Vote]) -> String { x.map { "\($0.validator.description.prefix(4))>\($0.blockHash?.description.prefix(6) ?? "nil")" }.joined(separator: ",") }
        return (max(0, d.core.round - 5)...d.core.round).map { r in
            "\n      r\(r) prop[\(d.core.proposals(round: r).map { "\($0.blockHash.description.prefix(6))@\($0.validRound)" }.joined(separator: "/"))] pv[\(v(d.core.votes(round: r, kind: .prevote)))] pc[\(v(d.core.votes(round: r, kind: .precommit)))]"
        }.joined()
    }

    func fail(_ message: String) {
        guard violation == nil else { return }
        let states = nodes.map { "\n  node \($0.index)\($0.byzantine ? " (byzantine)" : ""): committed \($0.lastCommitted), "
            + ($0.driver?.summary ?? "crashed") + ($0.driver.map(Simulation.recentRounds) ?? "") }.joined()
        violation = Violation(seed: seed, step: steps, time: now, message: message + states)
    }

    private func process(_ event: Event) {
        switch event {
        case .deliver(let to, let from, let type, let payload):
            let node = nodes[to]
            guard let driver = node.driver else { return }
            delivered += 1
            // Undecodable bytes (a Byzantine node's garbage) are dropped, as the peer network drops the peer.
            if let message = DriverMessage(type: type, payload: payload) { driver.receive(message, from: nodes[from].signer.address) }
            checkEvidence(node)
        case .call(let i, let incarnation, let work):
            let node = nodes[i]
            guard node.alive, node.incarnation == incarnation else { return }
            work()
            checkEvidence(node)
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

    /// Runs `work` for `node`'s current incarnation after `delay` virtual milliseconds.
    func call(node: Int, after delay: UInt64, _ work: @escaping () -> Void) {
        queue.push(.call(node: node, incarnation: nodes[node].incarnation, work), at: now + delay)
    }

    // MARK: - The application

    func committedHeight(_ node: Int) -> UInt64 { nodes[node].lastCommitted }

    func newBlock(by node: Int, height: UInt64) -> [UInt8] {
        nodes[node].counter += 1
        return Simulation.block(height: height, proposer: node, counter: nodes[node].counter)
    }

    func committedBlocks(_ node: Int, from first: UInt64, limit: UInt64) -> [SyncedBlock] {
        let chain = nodes[node].chain
        guard first >= 1, first <= UInt64(chain.count) else { return [] }
        return chain[Int(first - 1)..<Int(min(UInt64(chain.count), first - 1 + limit))].map {
            SyncedBlock(block: $0.block, certificate: $0.certificate.encoded)
        }
    }

    /// Checks and records a commit; false when it breaks an invariant.
    func commit(_ i: Int, height h: UInt64, block: [UInt8], hash: Bytes32, certificate: CommitCertificate) -> Bool {
        let node = nodes[i]
        guard h == node.lastCommitted + 1 else {
            fail("node \(i) commits height \(h) after \(node.lastCommitted)")
            return false
        }
        guard certificate.height == h, certificate.blockHash == hash, Keccak256.hash(block) == hash else {
            fail("node \(i) commits at height \(h) a block, hash and certificate that do not match")
            return false
        }
        do {
            try certificate.verify(against: validatorSet(height: h), chainId: config.chainId)
        } catch {
            fail("node \(i): the certificate of height \(h) does not verify: \(error)")
            return false
        }
        if !node.byzantine {
            if let other = decided[h], other.hash != hash {
                fail("SAFETY: two certificates for height \(h), for blocks \(other.hash) and \(hash) (node \(i))")
                return false
            }
            if decided[h] == nil {
                decided[h] = (hash, Keccak256.hash(certificate.encoded))
                rounds += certificate.round + 1
                maxRound = max(maxRound, certificate.round)
            }
            lastProgress = max(lastProgress, now)
        }
        node.chain.append((hash, block, certificate))
        return true
    }

    private func checkEvidence(_ node: Node) {
        guard !node.byzantine, let driver = node.driver else { return }
        if driver.refusedSignatures > 0 {
            return fail("correct node \(node.index) tried to sign a message conflicting with its persisted state (\(driver.refusedSignatures) refused)")
        }
        let evidence = driver.evidence
        guard evidence.count > node.evidenceChecked else { return }
        for e in evidence[node.evidenceChecked...] {
            let culprit: Address
            switch e {
            case .conflictingVotes(let a, _): culprit = a.validator
            case .conflictingProposals(let a, _): culprit = validatorSet(height: a.height).proposer(height: a.height, round: a.round).address
            }
            if let bad = byAddress[culprit].map({ nodes[$0] }), !bad.byzantine {
                return fail("correct node \(bad.index) appears in evidence: \(e)")
            }
        }
        node.evidenceChecked = evidence.count
    }

    // MARK: - Network

    /// Peers of `node`: every other node (all are connected; partitions and loss act on delivery).
    func peers(of node: Int) -> [Address] {
        nodes.filter { $0.index != node }.map(\.signer.address)
    }

    func broadcast(from i: Int, _ message: DriverMessage) {
        let node = nodes[i]
        guard node.alive else { return }
        if case .consensus(let m) = message, isOwn(m, by: node) {
            if node.byzantine { return equivocate(node, m) }
            if crashesNow(i) { return }  // in the middle of an action batch, before this send
            guard checkSignature(node, m) else { return }
        }
        sendAll(from: node, message.wire)
    }

    func send(from i: Int, to peer: Address, _ message: DriverMessage) {
        guard nodes[i].alive, let to = byAddress[peer] else { return }
        let wire = message.wire
        send(from: i, to: to, type: wire.type, payload: wire.payload)
    }

    private func isOwn(_ message: ConsensusMessage, by node: Node) -> Bool {
        switch message {
        case .vote(let v): return v.validator == node.signer.address
        case .proposal(let p): return validatorSet(height: p.height).proposer(height: p.height, round: p.round).address == node.signer.address
        }
    }

    /// The first time a correct node's signature leaves: the state on disk covers it, and it
    /// contradicts nothing the node signed before.
    private func checkSignature(_ node: Node, _ message: ConsensusMessage) -> Bool {
        let key = Keccak256.hash(message.encoded)
        guard node.sentSignatures.insert(key).inserted else { return true }
        let disk = node.storage.durable
        switch message {
        case .vote(let v):
            let covered = disk.map { $0.height > v.height || $0.signedVote(height: v.height, round: v.round, kind: v.kind) == v } ?? false
            guard covered else {
                fail("node \(node.index) sent \(v) before the safety state on disk covered it (disk: \(disk.map { "h\($0.height) r\($0.round) \($0.step), \($0.signedVotes.count) votes" } ?? "empty"))")
                return false
            }
            let slot = VoteSlot(node: node.index, height: v.height, round: v.round, kind: v.kind)
            if let earlier = honestVotes[slot], earlier != v.blockHash {
                fail("DOUBLE SIGN: correct node \(node.index) signed \(v) after voting \(earlier.map(\.description) ?? "nil")")
                return false
            }
            honestVotes[slot] = v.blockHash
        case .proposal(let p):
            let covered = disk.map { $0.height > p.height || $0.signedProposal == p || ($0.signedProposal?.round ?? -1) > p.round } ?? false
            guard covered else {
                fail("node \(node.index) sent \(p) before the safety state on disk covered it")
                return false
            }
            let slot = VoteSlot(node: node.index, height: p.height, round: p.round, kind: .prevote)
            if let earlier = honestProposals[slot], earlier != p.blockHash {
                fail("DOUBLE SIGN: correct node \(node.index) proposed \(p) after proposing \(earlier)")
                return false
            }
            honestProposals[slot] = p.blockHash
        }
        return true
    }

    /// A Byzantine validator's sends: often a conflicting vote or another block (sometimes an
    /// invalid one) for the same slot to a random half of the peers, sometimes garbage bytes.
    private func equivocate(_ node: Node, _ message: ConsensusMessage) {
        let honest = DriverMessage.consensus(message).wire
        switch message {
        case .vote(let v):
            guard chance(0.6) else { return sendAll(from: node, honest) }
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
            split(from: node, honest, DriverMessage.consensus(.vote(forged)).wire)
        case .proposal(let p):
            if chance(0.05), let peer = randomPeer(of: node) {
                send(from: node.index, to: peer, type: DriverMessage.WireType.proposal,
                     payload: (0..<Int(uniform(1...80))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            }
            guard chance(0.6) else { return sendAll(from: node, honest) }
            node.counter += 1
            let height = chance(0.3) ? p.height + 1000 : p.height
            let block = Simulation.block(height: height, proposer: node.index, counter: node.counter + 1_000_000)
            let hash = Keccak256.hash(block)
            node.alternative[SlotKey(height: p.height, round: p.round)] = hash
            let forged = Proposal(signing: block, blockHash: hash, height: p.height, round: p.round, validRound: -1,
                                  chainId: config.chainId, signer: node.signer)
            split(from: node, honest, DriverMessage.consensus(.proposal(forged)).wire)
        }
    }

    private func sendAll(from node: Node, _ wire: (type: UInt8, payload: [UInt8])) {
        for peer in nodes where peer.index != node.index { send(from: node.index, to: peer.index, type: wire.type, payload: wire.payload) }
    }

    private func split(from node: Node, _ a: (type: UInt8, payload: [UInt8]), _ b: (type: UInt8, payload: [UInt8])) {
        for peer in nodes where peer.index != node.index {
            let wire = chance(0.5) ? a : b
            send(from: node.index, to: peer.index, type: wire.type, payload: wire.payload)
        }
    }

    private func send(from: Int, to: Int, type: UInt8, payload: [UInt8]) {
        if let partition, partition[from] != partition[to] { return }
        if !healed && chance(loss) { return }
        queue.push(.deliver(to: to, from: from, type: type, payload: payload), at: now + delay())
        if chance(config.duplication) { queue.push(.deliver(to: to, from: from, type: type, payload: payload), at: now + delay()) }
    }

    private func delay() -> UInt64 { healed ? uniform(5...150) : uniform(5...1500) }

    private func randomPeer(of node: Node) -> Int? {
        guard nodes.count > 1 else { return nil }
        let i = Int(uniform(0...UInt64(nodes.count - 2)))
        return i >= node.index ? i + 1 : i
    }

    // MARK: - Faults

    private func crashedCount() -> Int { nodes.filter { !$0.alive }.count }

    private func maxCrashed() -> Int { max(1, SimulationConfig.maxFaulty(config.validators) - config.byzantine) }

    /// Whether correct node `i` crashes at this point of its work (in the middle of an action batch or a save).
    func crashesNow(_ i: Int) -> Bool {
        let node = nodes[i]
        guard !healed, config.crashes, !node.byzantine, node.alive, chance(0.005), crashedCount() < maxCrashed() else { return false }
        crash(node)
        return true
    }

    /// Stops the node's driver (what it had not saved is lost) and schedules its restart.
    private func crash(_ node: Node) {
        guard let driver = node.driver else { return }
        driver.stop()
        node.driver = nil
        node.incarnation += 1
        queue.push(.restart(node: node.index), at: now + uniform(1000...8000))
    }

    private func restart(_ node: Node) {
        guard !node.alive else { return }
        restarts += 1
        node.incarnation += 1
        boot(node)
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
            if !candidates.isEmpty { crash(candidates[Int(uniform(0...UInt64(candidates.count - 1)))]) }
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

    func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
        let span = range.upperBound - range.lowerBound
        return span == .max ? rng.next() : range.lowerBound + rng.next() % (span + 1)
    }

    func chance(_ p: Double) -> Bool { Double(rng.next() >> 11) / Double(1 << 53) < p }

    private func randomHash() -> Bytes32 {
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: rng.next()) { bytes += $0 } }
        return try! Bytes32(bytes)
    }

    static func milliseconds(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        return UInt64(max(0, s)) * 1000 + UInt64(max(0, atto)) / 1_000_000_000_000_000
    }
}
