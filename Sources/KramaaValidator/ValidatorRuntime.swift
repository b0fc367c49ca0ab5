import Foundation
import KramaaChain
import KramaaConsensus
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import Logging

/// Runs one validator: the consensus core (a pure state machine) driven by the peer network,
/// timers and the node. Everything the core sees happens on one serial queue, in order; the
/// core's actions are performed in the order given, and its safety state is on disk (synced)
/// before any message it signed leaves the node.
///
/// Also: transactions gossiped in batches, blocks synced from peers (each with the certificate
/// that finalised it, checked by the core), and consensus messages re-sent while a height is
/// stuck (the gossip the algorithm assumes).
public final class ValidatorRuntime: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var listenHost = "127.0.0.1"
        public var listenPort: Int
        public var bootnodes: [Bootnode] = []
        public var consensus = ConsensusConfig()
        /// How often consensus messages of a stuck height are re-sent.
        public var regossipInterval: Duration = .milliseconds(500)
        /// With `emptyBlocks`, the longest wait before a height starts without transactions.
        public var emptyBlockInterval: Duration = .seconds(1)

        public init(listenPort: Int) { self.listenPort = listenPort }
    }

    let node: Node
    let key: Secp256k1.PrivateKey
    let configuration: Configuration
    let queue = WorkThread(name: "kramaa-consensus")
    let safety: SafetyStore
    let logger: Logger
    var core: ConsensusCore
    var network: PeerNetwork?
    /// The height the core was started at, once started.
    var started: UInt64?
    /// Messages for heights the core has not started yet.
    var future: [ConsensusMessage] = []
    var outgoingTransactions: [[UInt8]] = []
    /// Hashes of transactions received from peers, not to be sent back out.
    var fromPeers: Set<Bytes32> = []
    var flushScheduled = false
    var syncing = false
    /// When the last block request went out (one outstanding request at a time).
    var lastSyncRequest: UInt64 = 0
    var stopped = false
    var lastProgress = DispatchTime.now()
    /// Blocks decoded while validating, by hash, for the commit that follows.
    var decoded: [Bytes32: Block] = [:]
    /// Heights committed by this runtime, and rounds beyond the first they needed.
    public private(set) var statistics = (commits: 0, extraRounds: 0)
    private var observer: Int?

    /// - Parameter dataDirectory: where the consensus safety state is kept (`consensus.rlp`).
    public init(node: Node, key: Secp256k1.PrivateKey, configuration: Configuration,
                logger: Logger = Logger(label: "kramaa.validator")) throws {
        self.node = node
        self.key = key
        self.configuration = configuration
        self.logger = logger
        safety = SafetyStore(path: node.dataDirectory.appendingPathComponent("consensus.rlp"))
        let restored = try safety.load()
        core = ConsensusCore(chainId: node.chainId, signer: PrivateKeySigner(key), safety: restored,
                             config: configuration.consensus) { bytes in
            Block.hash(ofEncoded: bytes) ?? Keccak256.hash(bytes)  // header only: no transaction decoding
        }
    }

    /// The validator set of `height` (one vote each), as the validator set contract says in
    /// the head's state: genesis validators, changed by approved proposals.
    func validatorSet(forHeight height: UInt64) -> ValidatorSet {
        try! ValidatorSet(node.validators(forHeight: height).map { Validator(address: $0, power: 1) })
    }

    public var address: Address { key.publicKey.address }

    /// The port the peer network listens on (the real one when 0 was configured).
    public var p2pPort: Int? { network?.port }

    /// Dials `bootnode` from now on (and again after disconnections).
    public func addBootnode(_ bootnode: Bootnode) { network?.addBootnode(bootnode) }

    /// Peers connected now.
    public var peerCount: Int { network?.connectedPeers.count ?? 0 }

    /// Listens, dials the bootnodes and starts consensus at the height after the head.
    public func start() async throws {
        var config = PeerNetwork.Configuration(chainId: node.chainId, listenHost: configuration.listenHost,
                                               listenPort: configuration.listenPort, bootnodes: configuration.bootnodes)
        config.allowedPeers = nil  // full nodes may follow; only validators' signatures count
        network = try await PeerNetwork.start(configuration: config, nodeKey: key, logger: logger) { [weak self] _, event in
            guard let self else { return }
            queue.async { self.handle(event) }
        }
        observer = node.addObserver { [weak self] event in
            guard let self else { return }
            if case .newTransaction(let signed) = event { queue.async { self.transactionArrived(signed) } }
        }
        queue.async { [self] in
            maybeStartHeight()
            scheduleRegossip()
            scheduleIdleCheck()
        }
    }

    /// Stops sending and receiving; a later `start` on a new runtime resumes from disk.
    public func stop() async {
        queue.sync { self.stopped = true }
        queue.stop()
        if let observer { node.removeObserver(observer) }
        await network?.stop()
    }

    // MARK: Consensus

    /// Starts the next height when there is something to decide: transactions waiting, a
    /// message of that height from a peer, or (with empty blocks) the period elapsed.
    func maybeStartHeight(force: Bool = false) {
        let next = node.latest.number + 1
        guard started != next else { return }
        let wanted = force || node.hasPendingTransactions || future.contains { $0.height == next }
            || (node.config.emptyBlocks && elapsedSinceProgress() >= configuration.emptyBlockInterval)
        guard wanted else { return }
        started = next
        lastProgress = DispatchTime.now()
        trace("start \(next) pending=\(node.hasPendingTransactions) future=\(future.count) force=\(force)")
        perform(core.handle(.start(height: next, validatorSet: validatorSet(forHeight: next))))
        let replay = future.filter { $0.height == next }
        future.removeAll { $0.height <= next }
        for message in replay { deliver(message) }
    }

    func deliver(_ message: ConsensusMessage) {
        switch message {
        case .proposal(let p): perform(core.handle(.proposal(p)))
        case .vote(let v): perform(core.handle(.vote(v)))
        }
    }

    /// Performs the core's actions in order. A state to persist is written and synced to disk
    /// before anything signed leaves the node (the double-sign guard). States that precede no
    /// signature (a step or round moving on) are not written: the signed votes, the lock and
    /// the proposal only change together with a signature, and after a crash the core resumes
    /// from the last signed state, which is safe.
    func perform(_ actions: [ConsensusAction]) {
        var unsynced: SafetyState?
        func syncIfNeeded() -> Bool {
            guard let state = unsynced else { return true }
            unsynced = nil
            do { try safety.save(state) } catch {
                // Without the safety state on disk nothing signed may leave: stop here.
                logger.critical("cannot persist the consensus state, stopping consensus: \(error)")
                stopped = true
                return false
            }
            return true
        }
        for action in actions {
            guard !stopped else { return }
            switch action {
            case .persist(let state):
                unsynced = state
            case .broadcastProposal(let p):
                guard syncIfNeeded() else { return }
                network?.broadcast(type: MessageType.proposal, payload: ConsensusMessage.proposal(p).encoded)
            case .broadcastVote(let v):
                guard syncIfNeeded() else { return }
                network?.broadcast(type: MessageType.vote, payload: ConsensusMessage.vote(v).encoded)
            case .scheduleTimeout(let t, let after):
                queue.asyncAfter(seconds: after.inSeconds) { [weak self] in
                    guard let self, !stopped else { return }
                    perform(core.handle(.timeout(t)))
                }
            case .buildBlock(let height, let round):
                trace("build \(height)/\(round)")
                let block = node.propose(timestamp: UInt64(Date().timeIntervalSince1970), coinbase: address, allowEmpty: true)!
                decoded[block.hash] = block
                perform(core.handle(.blockBuilt(height: height, round: round, block: block.encoded, hash: block.hash)))
            case .validateBlock(let height, let hash, let bytes):
                var valid = false
                if node.candidateHash == hash {
                    valid = true
                } else if let block = try? Block.decode(bytes), block.hash == hash {
                    if decoded.count > 16 { decoded.removeAll() }
                    decoded[hash] = block
                    do { try node.validate(block); valid = true } catch { logger.warning("refused block \(hash) at \(height): \(error)") }
                }
                perform(core.handle(.blockValidated(height: height, hash: hash, valid: valid)))
            case .commit(let height, let bytes, let hash, let certificate):
                trace("commit \(height)")
                guard let block = decoded[hash] ?? (try? Block.decode(bytes)), block.hash == hash else {
                    logger.critical("committed block \(hash) at \(height) does not decode; stopping consensus")
                    stopped = true
                    return
                }
                do {
                    try node.commit(block, certificate: certificate.encoded)
                } catch {
                    logger.critical("cannot commit block \(height): \(error); stopping consensus")
                    stopped = true
                    return
                }
                decoded.removeAll()
                lastProgress = DispatchTime.now()
                statistics.commits += 1
                statistics.extraRounds += certificate.round
                started = nil
                maybeStartHeight()
            }
        }
    }

    // MARK: Network

    func handle(_ event: PeerEvent) {
        guard !stopped else { return }
        switch event {
        case .connected(let peer):
            sendStatus(to: peer.address)
            sendPool(to: peer.address)
        case .disconnected, .connectionFailed:
            break
        case .message(let from, let type, let payload):
            switch type {
            case MessageType.transaction: receiveTransactions(payload)
            case MessageType.proposal, MessageType.vote:
                guard let message = try? ConsensusMessage(rlp: payload) else { network?.disconnect(from); return }
                receive(message, from: from)
            case MessageType.status: receiveStatus(payload, from: from)
            case MessageType.blockRequest: answerBlockRequest(payload, from: from)
            case MessageType.blockResponse: receiveBlocks(payload, from: from)
            default: break
            }
        }
    }

    func receive(_ message: ConsensusMessage, from peer: Address) {
        let next = node.latest.number + 1
        if message.height == next && started == next {
            deliver(message)
        } else if message.height >= next && message.height < next + 64 {
            if future.count < 10_000 { future.append(message) }
            // One height ahead is normal (the peer committed first); two or more means catching up.
            if message.height == next { maybeStartHeight() } else if message.height > next + 1 { requestBlocks(from: peer) }
        }
    }

    /// Timeline of heights for diagnosis (KRAMAA_CONSENSUS_TRACE=1).
    func trace(_ text: @autoclosure () -> String) {
        guard Self.tracing else { return }
        print("\(DispatchTime.now().uptimeNanoseconds / 1_000_000 % 100_000) \(address.lowercased.prefix(8)) \(text())")
    }

    static let tracing = ProcessInfo.processInfo.environment["KRAMAA_CONSENSUS_TRACE"] != nil

    func elapsedSinceProgress() -> Duration {
        .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - lastProgress.uptimeNanoseconds))
    }
}
