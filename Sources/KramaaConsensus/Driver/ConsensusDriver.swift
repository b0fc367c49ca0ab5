import KramaaPrimitives

/// Runs one validator's consensus: the core (a pure state machine) driven by a clock, a peer
/// transport, safety-state storage and the chain application. The same driver runs in the
/// process (`ValidatorRuntime`: the node, the peer network, a file, the system clock) and in
/// the simulator (simulated ones), so what the simulator checks is what runs.
///
/// Not thread-safe: call it from one serial context, and give it the `hop` that brings timer
/// and answer callbacks back there. Work is a flat queue: an answer of the application
/// (`blockBuilt`, `blockValidated`), a timeout or the start of the next height is queued and
/// handled after the work in hand, never re-entrantly.
///
/// The safety state is durable before anything it covers leaves: a `persist` action is
/// saved (and `save` returns only once it is durable) before the first later broadcast of the
/// batch. States that precede no signature are not written: the signed votes, the lock and
/// the proposal only change together with a signature, and after a crash the core resumes
/// from the last signed state, which is safe.
public final class ConsensusDriver: @unchecked Sendable {  // confined to the context `hop` leads to
    public struct Configuration: Sendable {
        public var consensus = ConsensusConfig()
        /// How often consensus messages of a stuck height are re-sent.
        public var regossipInterval: Duration = .milliseconds(500)
        /// With empty blocks, the longest wait before a height starts without pending work.
        public var emptyBlockInterval: Duration = .seconds(1)
        /// How often an idle driver looks whether a height should start.
        public var idleCheckInterval: Duration = .milliseconds(50)
        /// A block request unanswered this long is sent again.
        public var syncRetry: Duration = .seconds(1)
        public var maxBlocksPerResponse: UInt64 = 64

        public init() {}
    }

    enum Work {
        case event(ConsensusEvent)
        case continueSync
        case message(DriverMessage, from: Address)
        case connected(Address)
        case maybeStart(force: Bool)
        case regossip
        case idleCheck
    }

    public let configuration: Configuration
    let clock: TimeSource
    let transport: any ConsensusTransport
    let storage: any SafetyStorage
    let application: any ConsensusApplication
    /// Brings a callback from another thread (timers, application answers) back to the driver's context.
    let hop: (@escaping () -> Void) -> Void
    /// The core, for reports (read only).
    public private(set) var core: ConsensusCore
    private var work: [Work] = []
    private var next = 0
    private var draining = false
    /// The height the core was started at, once started.
    private var started: UInt64?
    /// Messages for heights the core has not started yet.
    private var future: [ConsensusMessage] = []
    private var syncing = false
    private var lastSyncActivity: Duration = .zero
    /// Blocks of the last sync answer not applied yet, the peer that sent them, whether the
    /// answer was full (the peer may have more), and the height whose commit is awaited (the
    /// core validates a synced block before committing it, and that answer is queued).
    private var syncBacklog: [SyncedBlock] = []
    private var syncPeer: Address?
    private var syncAnswerFull = false
    private var awaitedSyncCommit: UInt64?
    private var lastProgress: Duration
    public private(set) var stopped = false
    /// Why the driver stopped by itself (storage or commit failure), if it did.
    public private(set) var failure: String?
    /// Heights committed, and rounds beyond the first they needed.
    public private(set) var statistics = (commits: 0, extraRounds: 0)
    /// The highest head a peer has told of (0 before any): how far behind this node is.
    public private(set) var bestPeerHead: UInt64 = 0
    /// Diagnostic timeline, when set.
    public var trace: ((String) -> Void)?
    /// A bug planted on purpose, for the simulator's regression test that it is caught; nil
    /// (always, outside that test).
    public var plantedFault: PlantedFault?

    public enum PlantedFault: Sendable {
        /// A signed message is sent before the state covering it is saved.
        case sendBeforePersisting
    }

    /// Loads the safety state from `storage`; throws when it cannot be read (a validator must
    /// not sign without it).
    public init(chainId: UInt64, signer: any ConsensusSigner, configuration: Configuration, clock: TimeSource,
                transport: any ConsensusTransport, storage: any SafetyStorage, application: any ConsensusApplication,
                hashBlock: @escaping @Sendable ([UInt8]) -> Bytes32, hop: @escaping (@escaping () -> Void) -> Void) throws {
        self.configuration = configuration
        self.clock = clock
        self.transport = transport
        self.storage = storage
        self.application = application
        self.hop = hop
        core = ConsensusCore(chainId: chainId, signer: signer, safety: try storage.load(), config: configuration.consensus,
                             hashBlock: hashBlock)
        lastProgress = clock.uptime
    }

    public var address: Address { core.address }
    /// Where the core is: the height being decided, its round and step.
    public var position: (height: UInt64, round: Int, step: RoundStep) { (core.height, core.round, core.step) }
    /// Whether the driver is fetching committed blocks from peers (behind the network).
    public var isSyncing: Bool { syncing }
    /// The core's state in one line (logs, simulator reports).
    public var summary: String { core.summary }
    public var evidence: [Evidence] { core.evidence }
    /// Signatures the core refused because they would contradict its safety state (0 for a correct driver).
    public var refusedSignatures: Int { core.refusedSignatures }

    // MARK: Entry points

    /// Starts the height after the head (when there is something to decide) and the timers.
    public func start() {
        submit(.maybeStart(force: false))
        schedule(configuration.regossipInterval, .regossip)
        schedule(configuration.idleCheckInterval, .idleCheck)
    }

    /// Stops: nothing more is sent or handled, timers that fire are ignored.
    public func stop() { stopped = true }

    public func receive(_ message: DriverMessage, from peer: Address) { submit(.message(message, from: peer)) }

    /// A peer connected: it gets our status.
    public func peerConnected(_ peer: Address) { submit(.connected(peer)) }

    /// Work arrived for the chain (a transaction): start a height if none runs.
    public func workArrived() { submit(.maybeStart(force: false)) }

    // MARK: The queue

    func submit(_ item: Work) {
        guard !stopped else { return }
        work.append(item)
        guard !draining else { return }
        draining = true
        while next < work.count, !stopped {
            let item = work[next]
            next += 1
            handle(item)
        }
        work.removeAll(keepingCapacity: true)
        next = 0
        draining = false
    }

    private func schedule(_ delay: Duration, _ item: Work) {
        clock.schedule(after: delay) { [weak self] in
            guard let self else { return }
            hop { self.submit(item) }
        }
    }

    private func handle(_ item: Work) {
        switch item {
        case .event(let event): perform(core.handle(event))
        case .continueSync: applySyncedBlocks()
        case .message(let message, let peer): handle(message, from: peer)
        case .connected(let peer): transport.send(.status(head: application.committedHeight), to: peer)
        case .maybeStart(let force): maybeStartHeight(force: force)
        case .regossip:
            regossip()
            schedule(configuration.regossipInterval, .regossip)
        case .idleCheck:
            if started == nil || started! <= application.committedHeight { maybeStartHeight(force: false) }
            // A sync answer lost, or a synced block refused: ask again (anyone) after `syncRetry` without progress.
            if syncing && clock.uptime - lastSyncActivity > configuration.syncRetry {
                syncBacklog = []
                awaitedSyncCommit = nil
                requestBlocks(from: nil, force: true)
            }
            schedule(configuration.idleCheckInterval, .idleCheck)
        }
    }

    // MARK: Heights

    /// Starts the next height when there is something to decide: pending work, a message of
    /// that height from a peer, or (with empty blocks) the interval elapsed.
    private func maybeStartHeight(force: Bool) {
        let next = application.committedHeight + 1
        guard started != next else { return }
        let wanted = force || application.hasPendingWork || future.contains { $0.height == next }
            || (application.producesEmptyBlocks && clock.uptime - lastProgress >= configuration.emptyBlockInterval)
        guard wanted else { return }
        started = next
        lastProgress = clock.uptime
        trace?("start \(next) future=\(future.count) force=\(force)")
        perform(core.handle(.start(height: next, validatorSet: application.validatorSet(forHeight: next))))
        let replay = future.filter { $0.height == next }
        future.removeAll { $0.height <= next }
        for message in replay { deliver(message) }
    }

    private func deliver(_ message: ConsensusMessage) {
        switch message {
        case .proposal(let p): perform(core.handle(.proposal(p)))
        case .vote(let v): perform(core.handle(.vote(v)))
        }
    }

    /// Performs the core's actions in order (the contract of `ConsensusAction`).
    private func perform(_ actions: [ConsensusAction]) {
        var unsaved: SafetyState?
        func saved() -> Bool {
            guard let state = unsaved else { return true }
            unsaved = nil
            do { try storage.save(state) } catch {
                // Without the safety state on disk nothing signed may leave: stop here.
                halt("cannot persist the consensus state: \(error)")
                return false
            }
            return true
        }
        func send(_ message: DriverMessage) {
            if plantedFault == .sendBeforePersisting {
                transport.broadcast(message)
                _ = saved()
            } else if saved() {
                transport.broadcast(message)
            }
        }
        for action in actions {
            guard !stopped else { return }
            switch action {
            case .persist(let state): unsaved = state
            case .broadcastProposal(let p): send(.consensus(.proposal(p)))
            case .broadcastVote(let v): send(.consensus(.vote(v)))
            case .scheduleTimeout(let t, let after): schedule(after, .event(.timeout(t)))
            case .buildBlock(let height, let round):
                trace?("build \(height)/\(round)")
                application.buildBlock(height: height, round: round) { [weak self] block, hash in
                    self?.answer(.blockBuilt(height: height, round: round, block: block, hash: hash))
                }
            case .validateBlock(let height, let hash, let block):
                application.validateBlock(height: height, hash: hash, block: block) { [weak self] valid in
                    self?.answer(.blockValidated(height: height, hash: hash, valid: valid))
                }
            case .commit(let height, let block, let hash, let certificate):
                trace?("commit \(height)")
                do { try application.commit(height: height, block: block, hash: hash, certificate: certificate) } catch {
                    return halt("cannot commit block \(height): \(error)")
                }
                lastProgress = clock.uptime
                statistics.commits += 1
                statistics.extraRounds += certificate.round
                started = nil
                submit(.maybeStart(force: false))
                if awaitedSyncCommit == height {
                    awaitedSyncCommit = nil
                    submit(.continueSync)
                }
            }
        }
    }

    /// An application answer: queued behind the work in hand (answers given at once included).
    private func answer(_ event: ConsensusEvent) {
        if draining { submit(.event(event)) } else { hop { [weak self] in self?.submit(.event(event)) } }
    }

    private func halt(_ reason: String) {
        failure = reason
        trace?("stopped: \(reason)")
        stopped = true
    }

    // MARK: Messages

    private func handle(_ message: DriverMessage, from peer: Address) {
        switch message {
        case .consensus(let m): receive(m, from: peer)
        case .status(let head):
            bestPeerHead = max(bestPeerHead, head)
            if head > application.committedHeight { requestBlocks(from: peer) }
        case .blockRequest(let first, let count): answerBlockRequest(first: first, count: count, from: peer)
        case .blockResponse(let blocks): receiveBlocks(blocks, from: peer)
        }
    }

    private func receive(_ message: ConsensusMessage, from peer: Address) {
        let next = application.committedHeight + 1
        if message.height == next && started == next {
            deliver(message)
        } else if message.height >= next && message.height < next + 64 {
            if future.count < 10_000 { future.append(message) }
            // One height ahead is normal (the peer committed first); two or more means catching up.
            if message.height == next { maybeStartHeight(force: false) } else if message.height > next + 1 { requestBlocks(from: peer) }
        }
    }

    /// Asks `peer` (or every peer) for the blocks after the head. One request is outstanding
    /// at a time; the answer is applied and the next asked for at once, and a lost request is
    /// repeated after `syncRetry`.
    private func requestBlocks(from peer: Address?, force: Bool = false) {
        let now = clock.uptime
        guard force || !syncing || now - lastSyncActivity > configuration.syncRetry else { return }
        syncing = true
        lastSyncActivity = now
        let request = DriverMessage.blockRequest(first: application.committedHeight + 1, count: configuration.maxBlocksPerResponse)
        if let peer { transport.send(request, to: peer) } else { transport.broadcast(request) }
    }

    private func answerBlockRequest(first: UInt64, count: UInt64, from peer: Address) {
        let head = application.committedHeight
        guard first <= head, first > 0, count > 0 else { return }
        let transport = self.transport
        application.committedBlocks(from: first, limit: min(count, configuration.maxBlocksPerResponse)) { blocks in
            transport.send(.blockResponse(blocks), to: peer)
        }
    }

    /// Blocks with certificates from a peer: applied in order, each through the core, which
    /// checks the certificate against the validator set, validates the block and commits it.
    private func receiveBlocks(_ blocks: [SyncedBlock], from peer: Address) {
        guard awaitedSyncCommit == nil else { return }  // still applying an earlier answer
        syncBacklog = blocks
        syncPeer = peer
        syncAnswerFull = blocks.count == Int(configuration.maxBlocksPerResponse)
        applySyncedBlocks()
    }

    /// Applies the backlog until a block waits for its validation (resumed by its commit) or
    /// the backlog is done; then asks the same peer for more if its answer was full.
    private func applySyncedBlocks() {
        while !syncBacklog.isEmpty {
            let synced = syncBacklog.removeFirst()
            guard let certificate = try? CommitCertificate(rlp: synced.certificate) else { break }
            let next = application.committedHeight + 1
            if certificate.height < next { continue }
            guard certificate.height == next else { break }
            if started != next { maybeStartHeight(force: true) }
            awaitedSyncCommit = next
            lastSyncActivity = clock.uptime  // progress: no retry while blocks are being applied
            perform(core.handle(.commitReceived(certificate, block: synced.block)))
            if awaitedSyncCommit == next { return }  // validating: the commit resumes this
        }
        syncBacklog = []
        if syncAnswerFull, let peer = syncPeer {
            syncAnswerFull = false
            requestBlocks(from: peer, force: true)
        } else {
            syncing = false
        }
    }

    /// Re-sends the current height's messages while it has not committed, so validators that
    /// missed some (loss, restart, partition) catch up; and tells every peer our head.
    private func regossip() {
        guard started != nil, clock.uptime - lastProgress >= configuration.regossipInterval else { return }
        for message in core.gossipMessages() { transport.broadcast(.consensus(message)) }
        let status = DriverMessage.status(head: application.committedHeight)
        for peer in transport.connectedPeers { transport.send(status, to: peer) }
    }
}
