import KramaaConsensus
import KramaaPrimitives

/// The simulator's side of a `ConsensusDriver`'s ports: virtual time, a lossy network, storage
/// that keeps only what was durable at a crash, and an in-memory chain. Each belongs to one
/// simulated node and reports what it sees to the `Simulation`, which checks the invariants.

/// One simulated node's port: the simulation it reports to and the node it serves.
class SimulatedPort: @unchecked Sendable {
    unowned let simulation: Simulation
    let node: Int

    init(simulation: Simulation, node: Int) {
        self.simulation = simulation
        self.node = node
    }
}

/// Virtual time: timers are events of the simulation's queue, dropped when their node has
/// crashed since (its incarnation changed).
final class SimulatedClock: SimulatedPort, TimeSource, @unchecked Sendable {
    var uptime: Duration { .milliseconds(Int64(simulation.now)) }
    var unixSeconds: UInt64 { 1_700_000_000 + simulation.now / 1000 }

    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) {
        simulation.call(node: node, after: Simulation.milliseconds(delay), work)
    }
}

/// The safety state "on disk": what the last completed `save` wrote. A crash during a save
/// leaves the old state or the new one (an atomic replace), never a mix.
final class SimulatedStorage: SimulatedPort, SafetyStorage, @unchecked Sendable {
    private(set) var durable: SafetyState?

    func load() throws -> SafetyState? { durable }

    func save(_ state: SafetyState) throws {
        if simulation.crashesNow(node) {
            if simulation.chance(0.5) { try record(state) }
            throw SimulatedCrash()
        }
        try record(state)
    }

    private func record(_ state: SafetyState) throws {
        if let earlier = durable, let problem = Self.regression(from: earlier, to: state) {
            simulation.fail("node \(node)'s safety state on disk went backwards: \(problem)")
            throw SimulatedCrash()
        }
        durable = state
    }

    /// What makes `new` older than `old`, if anything: a lower height, round or step at one
    /// height, or a signed vote or proposal of `old` forgotten while still in range.
    static func regression(from old: SafetyState, to new: SafetyState) -> String? {
        if new.height != old.height { return new.height < old.height ? "height \(old.height) → \(new.height)" : nil }
        if (new.round, new.step.rawValue) < (old.round, old.step.rawValue) {
            return "h\(new.height): r\(old.round) \(old.step) → r\(new.round) \(new.step)"
        }
        if let p = old.signedProposal, new.signedProposal != p, (new.signedProposal?.round ?? -1) <= p.round {
            return "h\(new.height): the proposal of round \(p.round) was forgotten"
        }
        let kept = Set(new.signedVotes)
        let newest = new.signedVotes.first.map { ($0.round, $0.kind.rawValue) }
        for v in old.signedVotes where !kept.contains(v) {
            // Only the newest `maxSignedVotes` are kept: older ones may go, newer ones may not.
            if let newest, (v.round, v.kind.rawValue) < newest { continue }
            return "h\(new.height): the vote \(v) was forgotten"
        }
        return nil
    }
}

struct SimulatedCrash: Error, CustomStringConvertible {
    var description: String { "the node crashed" }
}

/// The network as one node sees it: sends go through the simulation (loss, delay,
/// duplication, partitions, Byzantine equivocation), as the wire bytes.
final class SimulatedTransport: SimulatedPort, ConsensusTransport, @unchecked Sendable {

    func broadcast(_ message: DriverMessage) { simulation.broadcast(from: node, message) }
    func send(_ message: DriverMessage, to peer: Address) { simulation.send(from: node, to: peer, message) }
    var connectedPeers: [Address] { simulation.peers(of: node) }
}

/// The chain: opaque blocks `RLP([height, proposer, counter])`, built and validated after a
/// short virtual delay, committed through the simulation (which checks each commit).
final class SimulatedApplication: SimulatedPort, ConsensusApplication, @unchecked Sendable {

    var committedHeight: UInt64 { simulation.committedHeight(node) }
    func validatorSet(forHeight height: UInt64) -> ValidatorSet { simulation.validatorSet(height: height) }
    var hasPendingWork: Bool { true }
    var producesEmptyBlocks: Bool { false }

    func buildBlock(height: UInt64, round: Int, answer: @escaping ([UInt8], Bytes32) -> Void) {
        let block = simulation.newBlock(by: node, height: height)
        nonisolated(unsafe) let answer = answer
        simulation.call(node: node, after: simulation.uniform(1...20)) { answer(block, Keccak256.hash(block)) }
    }

    func validateBlock(height: UInt64, hash: Bytes32, block: [UInt8], answer: @escaping (Bool) -> Void) {
        let valid = Simulation.isValid(block: block, height: height) && Keccak256.hash(block) == hash
        nonisolated(unsafe) let answer = answer
        simulation.call(node: node, after: simulation.uniform(1...20)) { answer(valid) }
    }

    func commit(height: UInt64, block: [UInt8], hash: Bytes32, certificate: CommitCertificate) throws {
        guard simulation.commit(node, height: height, block: block, hash: hash, certificate: certificate) else { throw SimulatedCrash() }
    }

    func committedBlocks(from first: UInt64, limit: UInt64, answer: @escaping @Sendable ([SyncedBlock]) -> Void) {
        answer(simulation.committedBlocks(node, from: first, limit: limit))
    }
}
