import Foundation
import KramaaChain
import KramaaConsensus
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import Logging

/// Transaction gossip: what enters a validator's pool reaches the others' pools.
extension ValidatorRuntime {
    static let transactionBatchDelay = 0.002

    // MARK: Transactions

    /// Transactions entered the local pool (RPC or a peer), in order, gathered for
    /// `transactionBatchDelay` after the first of them (``Arrivals``): consensus learns there is
    /// work, and they go to the peers in one batch. The pool refuses what it already holds, so
    /// a transaction crosses each link at most twice.
    func transactionsArrived(_ batch: [PooledTransaction]) {
        driver.workArrived()
        // Validators dial each other, so what came from a peer has reached them all already.
        for pooled in batch where fromPeers.remove(pooled.signed.hash) == nil {
            outgoingTransactions.append(pooled.raw)
        }
        flushTransactions()
    }

    func flushTransactions() {
        guard !outgoingTransactions.isEmpty else { return }
        var w = RLPWriter()
        w.appendList { w in for raw in outgoingTransactions { w.append(bytes: raw) } }
        outgoingTransactions.removeAll(keepingCapacity: true)
        transport.network?.broadcast(type: MessageType.transaction, payload: w.bytes)
    }

    /// Sends every pooled transaction to a peer that just connected, in batches: what a
    /// restarted node replayed from its journal reaches the others (a sender's later nonces may
    /// wait on them there), and a restarted peer gets what it missed while down. Peers refuse
    /// what they already hold before recovering any signature.
    func sendPool(to peer: Address) {
        let node = self.node, network = transport.network
        DispatchQueue.global().async {
            let raws = node.pooledTransactions()
            for start in stride(from: 0, to: raws.count, by: Self.poolBatch) {
                var w = RLPWriter()
                w.appendList { w in for raw in raws[start..<min(start + Self.poolBatch, raws.count)] { w.append(bytes: raw) } }
                network?.send(to: peer, type: MessageType.transaction, payload: w.bytes)
            }
        }
    }

    static let poolBatch = 1000

    func receiveTransactions(_ payload: [UInt8]) {
        var outer = RLPReader(payload)
        guard var list = try? outer.readList() else { return }
        let node = self.node
        var raws: [[UInt8]] = []
        while !list.isAtEnd, let raw = try? list.readBytes() { raws.append(Array(raw)) }
        // Senders are recovered off the consensus queue; the pool takes each once.
        let hashes = raws.map { Keccak256.hash($0) }
        fromPeers.formUnion(hashes)
        if fromPeers.count > 200_000 { fromPeers.removeAll() }  // bounded; a stale entry only costs one re-broadcast
        let batch = raws
        DispatchQueue.global().async {
            // Journaled without waiting: nothing is acknowledged to a peer.
            for (raw, hash) in zip(batch, hashes) { _ = try? node.accept(raw: raw, hash: hash) }
        }
    }
}

/// A transaction the pool took, with the bytes it came in: what gossip sends on as they are.
struct PooledTransaction: Sendable {
    let signed: SignedTransaction
    let raw: [UInt8]
}

public enum ValidatorError: Error, CustomStringConvertible {
    case corruptSafetyState(path: String, reason: String)
    case io(String)
    /// A block consensus finalised does not decode as a block of this chain.
    case undecodableBlock(height: UInt64, hash: Bytes32)

    public var description: String {
        switch self {
        case .corruptSafetyState(let path, let reason):
            "the consensus safety state \(path) cannot be read (\(reason)); a validator must not sign without it — restore it or stop validating with this key"
        case .io(let reason): "consensus safety state: \(reason)"
        case .undecodableBlock(let height, let hash): "the block \(hash) finalised at height \(height) does not decode"
        }
    }
}

/// The driver's application: the node. Blocks are validated at once and built at once or, to
/// let transactions gather, `gather` after the last commit (on the consensus thread either way);
/// blocks decoded while validating are kept for the commit that follows, with their
/// transactions' hashes (read off the proposal's bytes, not encoded again).
final class NodeApplication: ConsensusApplication {
    let node: Node
    let coinbase: Address
    let clock: TimeSource
    let logger: Logger
    /// ``ValidatorRuntime/Configuration/blockGather``.
    let gather: Duration
    /// Runs work on the consensus thread (where a block built after a wait is built).
    let hop: (@escaping () -> Void) -> Void
    /// When this validator last committed a block (the clock's uptime).
    private var lastCommit: Duration?
    private var decoded: [Bytes32: (block: Block, transactionHashes: [Bytes32]?)] = [:]
    /// When this validator proposed or validated each block of the height: its commit ends the
    /// consensus phase (votes and their messages) of the node's phase clock.
    private var votingSince: [Bytes32: UInt64] = [:]
    /// How far ahead of this validator's clock a proposal's time may be (geth allows 15 s):
    /// the chain's time is what liveness and expiry rules read, so a proposer cannot move it on.
    static let maximumProposalDrift: UInt64 = 15

    init(node: Node, coinbase: Address, clock: TimeSource, logger: Logger, gather: Duration = .zero,
         hop: @escaping (@escaping () -> Void) -> Void = { $0() }) {
        self.node = node
        self.coinbase = coinbase
        self.clock = clock
        self.logger = logger
        self.gather = gather
        self.hop = hop
    }

    /// The block consensus committed last, stored yet or not (``Node/commit(_:certificate:waitForStorage:transactionHashes:)``).
    var committedHeight: UInt64 { node.committedHead.number }

    /// The validator set of `height` (one vote each), as the validator set contract says in the
    /// head's state: genesis validators, changed by approved proposals.
    func validatorSet(forHeight height: UInt64) -> ValidatorSet {
        try! ValidatorSet(node.validators(forHeight: height).map { Validator(address: $0, power: 1) })
    }

    /// Pooled transactions, or triggers due now (their runs begin the next block).
    var hasPendingWork: Bool { node.hasPendingTransactions || node.hasDueSystemCalls(at: clock.unixSeconds) }
    var producesEmptyBlocks: Bool { node.config.emptyBlocks }

    func buildBlock(height: UInt64, round: Int, answer: @escaping ([UInt8], Bytes32) -> Void) {
        let wait = lastCommit.map { $0 + gather - clock.uptime } ?? .zero
        guard wait > .zero, !node.poolFillsBlock else { return build(height: height, answer: answer) }
        // The timer fires on the clock's thread and only hops back: the application and the
        // driver's answer are touched on the consensus thread alone.
        nonisolated(unsafe) let later = { [weak self] () -> Void in self?.build(height: height, answer: answer) }
        nonisolated(unsafe) let hop = self.hop
        clock.schedule(after: wait) { hop(later) }
    }

    private func build(height: UInt64, answer: @escaping ([UInt8], Bytes32) -> Void) {
        // A block of this height committed during the wait (a peer's, through sync): the
        // driver is past it and wants no answer.
        guard node.committedHead.number + 1 == height else { return }
        // With a full block waiting it is built at once, while the last block is still being
        // written; with less, after the write, so that it also takes what arrives meanwhile
        // (blocks stay as large as without writing behind). Nothing is sent before the write
        // either way (SafetyStore).
        if !node.poolFillsBlock { try? node.waitUntilStored() }
        let block = node.propose(timestamp: clock.unixSeconds, coinbase: coinbase, allowEmpty: true)!
        decoded[block.hash] = (block, nil)
        votingSince[block.hash] = PhaseClock.now
        answer(block.encoded, block.hash)
    }

    func validateBlock(height: UInt64, hash: Bytes32, block bytes: [UInt8], answer: @escaping (Bool) -> Void) {
        var valid = false
        if node.candidateHash == hash {
            valid = true
        } else if let proposal = Self.decodeProposal(bytes, hash: hash) {
            let block = proposal.block
            if decoded.count > 16 { decoded.removeAll() }
            decoded[hash] = proposal
            let now = clock.unixSeconds
            if block.header.timestamp > now &+ Self.maximumProposalDrift {
                logger.warning("refused block \(hash) at \(height): its time \(block.header.timestamp) is \(block.header.timestamp - now) s ahead of this validator's clock (at most \(Self.maximumProposalDrift))")
            } else {
                do { try node.validate(block, transactionHashes: proposal.transactionHashes); valid = true } catch { logger.warning("refused block \(hash) at \(height): \(error)") }
            }
        }
        if valid { votingSince[hash] = PhaseClock.now }
        answer(valid)
    }

    func commit(height: UInt64, block bytes: [UInt8], hash: Bytes32, certificate: CommitCertificate) throws {
        guard case let (block, hashes)? = decoded[hash] ?? Self.decodeProposal(bytes, hash: hash) else {
            logger.critical("committed block \(hash) at \(height) does not decode; stopping consensus")
            throw ValidatorError.undecodableBlock(height: height, hash: hash)
        }
        if let since = votingSince[hash] { node.phases.add(.consensus, since: since) }
        votingSince.removeAll()
        // Written behind while the next height is decided; nothing is signed at that height
        // before it is on disk (SafetyStore waits for it).
        do { _ = try node.commit(block, certificate: certificate.encoded, waitForStorage: false, transactionHashes: hashes) } catch {
            logger.critical("cannot commit block \(height): \(error); stopping consensus")
            throw error
        }
        lastCommit = clock.uptime
        decoded.removeAll()
    }

    /// The block `bytes` hold, with its transactions' hashes read off them; nil unless they are a
    /// block whose hash is `hash`.
    private static func decodeProposal(_ bytes: [UInt8], hash: Bytes32) -> (block: Block, transactionHashes: [Bytes32]?)? {
        guard let decoded = try? Block.decodeHashingTransactions(bytes), decoded.block.hash == hash else { return nil }
        return (decoded.block, decoded.transactionHashes)
    }

    func committedBlocks(from first: UInt64, limit: UInt64, answer: @escaping @Sendable ([SyncedBlock]) -> Void) {
        let node = self.node
        // Read off the consensus thread (SQLite reads of up to `limit` blocks).
        DispatchQueue.global().async {
            var blocks: [SyncedBlock] = []
            for n in first..<(first + limit) {
                guard n <= node.latest.number, let block = try? node.block(number: n), let certificate = try? node.certificate(number: n) else { break }
                blocks.append(SyncedBlock(block: block.encoded, certificate: certificate))
            }
            answer(blocks)
        }
    }
}

/// Transactions the pool accepted, on their way to the consensus thread: the first of a run
/// schedules one hand-off `transactionBatchDelay` later, and the rest join it (one wake of that
/// thread per batch, not one per transaction: it drained each arrival as soon as it was woken,
/// and its wake-ups were about 5 % of the validator benchmark's CPU in futex calls alone). What
/// waits is at most what the pool took in that delay (the pool is bounded).
final class Arrivals<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [Element] = []

    /// Adds `element`; true when nothing was waiting (the caller schedules a ``take()``).
    func add(_ element: Element) -> Bool {
        lock.withLock {
            waiting.append(element)
            return waiting.count == 1
        }
    }

    /// Everything waiting, oldest first.
    func take() -> [Element] {
        lock.withLock {
            let all = waiting
            waiting = []
            return all
        }
    }
}
