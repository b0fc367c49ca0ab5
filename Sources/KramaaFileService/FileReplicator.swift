import Foundation
import KramaaChain
import KramaaEVM
import KramaaFileExchange
import KramaaNetwork
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import Logging

/// The node's block store as replication uses it. Blocks are found by content (a CID's
/// multihash), whichever CID version names them: a CIDv0 DAG links by CIDv0, the registry names
/// its root by CIDv1. `put` returns once the block is on disk.
public protocol ReplicaStore: DAGStoreView, Sendable {
    func put(_ block: ExchangeBlock) throws
    /// Blocks received together, each already checked against its CID by the fetch, durable
    /// together (by default one `put` each).
    func put(_ blocks: [ExchangeBlock]) throws
    /// Keeps the DAG under `root` from garbage collection (recursive pin).
    func pin(_ root: [UInt8]) throws
    func unpin(_ root: [UInt8]) throws
    /// What the store can still take.
    var freeBytes: UInt64 { get }
}

extension ReplicaStore {
    public func put(_ blocks: [ExchangeBlock]) throws {
        for block in blocks { try put(block) }
    }
}

/// The node's part in file replication (docs/FILES.md, "Replication"), over the file registry
/// and the validators' peer network:
///
/// - serves the blocks it holds to peers that want them (``BlockServing``);
/// - follows the registry's logs for its own account: a `FileAllocated` starts a fetch of the
///   whole DAG from the pin's holders and the connected peers (``DAGFetch``: every block checked
///   against its CID), then pins it locally and reports it held; a `FileReleased` unpins it
///   (garbage collection takes the blocks). At start it replays its allocations from the logs,
///   so a fetch cut short by a restart resumes;
/// - sends a heartbeat with its free space, if the node is a registered storage node;
/// - checks the pins it holds: when fewer than the minimum of holders are live, the live holder
///   with the lowest address asks the registry to repair it (one node asks, not all);
/// - fetches on demand what a reader asks this node for and it does not hold (``fetch(_:)``).
///
/// Its state lives on one serial queue; peer messages, blocks and timers hop there.
public final class FileReplicator: PeerService, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var heartbeatInterval: Duration = .seconds(60)
        public var repairInterval: Duration = .seconds(30)
        /// How long a fetch waits for a peer's answer before asking another.
        public var fetchTimeout: Duration = .seconds(10)
        /// After a fetch fails (no provider had a block yet), when it is tried again.
        public var retryDelay: Duration = .seconds(5)
        /// Fetches for readers (not allocations) at once; more are refused until one ends.
        public var maximumReaderFetches = 32
        public init() {}
    }

    public let messageTypes: Set<UInt8> = [MessageType.fileWant, MessageType.fileBlocks, MessageType.fileDontHave]
    public let configuration: Configuration
    let node: Node
    let registry: FileRegistryClient<NodeContractCaller>
    let store: ReplicaStore
    let codec: DAGCodec
    let clock: TimeSource
    let logger: Logger
    /// This node's account: its peer address and the storage node the registry knows.
    public let account: Address
    private let queue = DispatchQueue(label: "kramaa.files.replication")
    private var sender: PeerSender?
    private var fetches: [[UInt8]: Fetch] = [:]
    /// What the registry allocated to this node (roots), from its logs.
    private var allocated: Set<[UInt8]> = []
    private var observer: Int?
    private var stopped = false
    /// Peers that sent blocks not matching their CIDs, and how often (on the queue).
    private var penalties: [Address: Int] = [:]
    /// Peers that sent blocks not matching their CIDs, and how often; they are left out of
    /// later fetches as providers they were not named as by the registry.
    public var penalised: [Address: Int] { queue.sync { penalties } }

    struct Fetch {
        var machine: DAGFetch
        /// A registry allocation (reported held once complete) rather than a reader's request.
        var allocation: Bool
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// When the fetch began (the clock's uptime), for the log.
        var started: Duration = .zero
    }

    public init(node: Node, key: Secp256k1.PrivateKey, store: ReplicaStore, codec: DAGCodec, configuration: Configuration = Configuration(),
                clock: TimeSource = SystemTime.shared, logger: Logger = Logger(label: "kramaa.files")) {
        var caller = NodeContractCaller(node: node, key: key)
        caller.clock = clock
        self.node = node
        self.registry = FileRegistryClient(caller)
        self.store = store
        self.codec = codec
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.account = key.publicKey.address
    }

    /// Replays this node's allocations from the registry's logs, then follows new blocks and
    /// starts the timers.
    public func start() {
        queue.sync {
            for root in currentAllocations() { allocate(root) }
            observer = node.addObserver { [weak self] event in
                guard case .newBlock(let executed) = event, let self else { return }
                let logs = executed.receipts.flatMap(\.logs).filter { $0.address == FileRegistry.address }
                guard !logs.isEmpty else { return }
                self.queue.async { self.follow(logs) }
            }
        }
        schedule(after: .seconds(1)) { $0.tick() }
        schedule(after: .zero) { $0.heartbeat() }
        schedule(after: configuration.repairInterval) { $0.checkRepairs() }
    }

    public func stop() {
        queue.sync {
            stopped = true
            if let observer { node.removeObserver(observer) }
            for (_, fetch) in fetches { for w in fetch.waiters { w.resume(throwing: FileReplicationError.stopped) } }
            fetches.removeAll()
        }
    }

    /// Fetches the DAG under `root` from the holders the registry names and the connected
    /// peers, unless the store holds it whole already; returns once it does.
    public func fetch(_ root: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            queue.async {
                guard !self.stopped else { return done.resume(throwing: FileReplicationError.stopped) }
                let readers = self.fetches.values.filter { !$0.allocation }.count
                guard self.fetches[root] != nil || readers < self.configuration.maximumReaderFetches else {
                    return done.resume(throwing: FileReplicationError.busy(readers))
                }
                self.begin(root, allocation: false, waiter: done)
            }
        }
    }

    /// Roots being fetched now.
    public var fetching: [[UInt8]] { queue.sync { Array(fetches.keys) } }

    // MARK: PeerService

    public func attach(_ sender: PeerSender) { queue.async { self.sender = sender } }

    public func peerConnected(_ peer: Address) {
        queue.async { for root in Array(self.fetches.keys) { self.drive(root) { $0.add(providers: [peer], now: self.clock.uptime) } } }
    }

    public func peerDisconnected(_ peer: Address) {
        queue.async { for root in Array(self.fetches.keys) { self.drive(root) { $0.peerGone(peer, now: self.clock.uptime) } } }
    }

    public func received(type: UInt8, payload: [UInt8], from peer: Address) {
        queue.async {
            let message: ExchangeMessage
            do { message = try ExchangeMessage(type: type, payload: payload) } catch {
                self.logger.warning("files: \(peer): \(error)")
                return
            }
            switch message {
            case .want(let cids):
                for answer in BlockServing.answer(cids, store: self.store) { self.sender?.send(to: peer, type: answer.type, payload: answer.payload) }
            case .blocks(let blocks):
                for root in Array(self.fetches.keys) {
                    self.drive(root) { $0.received(blocks, from: peer, now: self.clock.uptime, codec: self.codec, store: self.store) }
                }
            case .dontHave(let cids):
                for root in Array(self.fetches.keys) { self.drive(root) { $0.notHeld(cids, by: peer, now: self.clock.uptime) } }
            }
        }
    }

    // MARK: Fetches (on the queue)

    private func begin(_ root: [UInt8], allocation: Bool, waiter: CheckedContinuation<Void, any Error>? = nil) {
        if var running = fetches[root] {
            if let waiter { running.waiters.append(waiter) }
            running.allocation = running.allocation || allocation
            fetches[root] = running
            return
        }
        let holders = ((try? registry.pin(root))?.holders ?? []).filter { $0.held && $0.node != account }.map(\.node)
        let peers = sender?.connectedPeerAddresses ?? []
        let providers = holders + peers.filter { !holders.contains($0) && !penalties.keys.contains($0) }
        fetches[root] = Fetch(machine: DAGFetch(root: root, providers: providers, timeout: configuration.fetchTimeout),
                              allocation: allocation, waiters: waiter.map { [$0] } ?? [], started: clock.uptime)
        drive(root) { $0.start(now: self.clock.uptime, codec: self.codec, store: self.store) }
    }

    /// Runs one event of `root`'s fetch and carries out its actions.
    private func drive(_ root: [UInt8], _ event: (inout DAGFetch) -> [DAGFetch.Action]) {
        guard var fetch = fetches[root] else { return }
        let actions = event(&fetch.machine)
        fetches[root] = fetch
        // The blocks an event stores are stored together (one sync), before any later action.
        var storing: [ExchangeBlock] = []
        func storeGathered() -> Bool {
            guard !storing.isEmpty else { return true }
            defer { storing = [] }
            do { try store.put(storing) } catch {
                finish(root, failure: "cannot store \(storing.count) block(s) from \(Hex.encode(storing[0].cid)): \(error)")
                return false
            }
            return true
        }
        for action in actions {
            if case .store(let block) = action {
                storing.append(block)
                continue
            }
            guard storeGathered() else { return }
            switch action {
            case .send(let peer, let message):
                sender?.send(to: peer, type: message.type, payload: message.payload)
            case .store:
                break
            case .penalize(let peer, let reason):
                penalties[peer, default: 0] += 1
                logger.warning("files: peer \(peer) \(reason) (fetching \(Hex.encode(root))); dropped from the fetch")
            case .completed:
                finish(root, failure: nil)
            case .failed(let reason):
                finish(root, failure: reason)
            }
        }
        _ = storeGathered()
    }

    private func finish(_ root: [UInt8], failure: String?) {
        guard let fetch = fetches.removeValue(forKey: root) else { return }
        if let failure {
            logger.warning("files: fetch of \(Hex.encode(root)) failed: \(failure)")
            for w in fetch.waiters { w.resume(throwing: FileReplicationError.fetchFailed(failure)) }
            if fetch.allocation { schedule(after: configuration.retryDelay) { $0.retry(root) } }
            return
        }
        let seconds = (clock.uptime - fetch.started).inSeconds
        logger.info("files: holds \(Hex.encode(root)) (\(fetch.machine.fetchedBlocks) blocks, \(fetch.machine.fetchedBytes) bytes fetched in \(String(format: "%.2f", seconds)) s)")
        for w in fetch.waiters { w.resume() }
        guard fetch.allocation || allocated.contains(root) else { return }
        do { try store.pin(root) } catch { logger.warning("files: cannot pin \(Hex.encode(root)) locally: \(error)") }
        reportHeld(root)
    }

    private func retry(_ root: [UInt8]) {
        guard allocated.contains(root), fetches[root] == nil else { return }
        begin(root, allocation: true)
    }

    // MARK: The registry

    private func currentAllocations() -> [[UInt8]] {
        let me = Bytes32(UInt256(account))
        let filter = LogFilter(fromBlock: 0, toBlock: node.latest.number, addresses: [FileRegistry.address],
                               topics: [[FileRegistry.Event.allocated, FileRegistry.Event.released], nil, [me]])
        var roots: [[UInt8]] = []
        for located in (try? node.logs(filter, limit: 1_000_000)) ?? [] {
            guard let root = FileRegistry.cid(in: located.log) else { continue }
            if located.log.topics.first == FileRegistry.Event.allocated { roots.append(root) } else { roots.removeAll { $0 == root } }
        }
        return roots
    }

    /// A new block's registry logs: allocations and releases of this node, and its own
    /// registration (a first heartbeat at once: nothing is allocated to a node before one).
    private func follow(_ logs: [Log]) {
        let me = Bytes32(UInt256(account))
        for log in logs {
            switch log.topics.first {
            case FileRegistry.Event.allocated? where log.topics.count >= 3 && log.topics[2] == me:
                FileRegistry.cid(in: log).map(allocate)
            case FileRegistry.Event.released? where log.topics.count >= 3 && log.topics[2] == me:
                FileRegistry.cid(in: log).map(release)
            case FileRegistry.Event.nodeRegistered? where log.topics.count >= 2 && log.topics[1] == me:
                sendHeartbeat()
            default:
                break
            }
        }
    }

    private func allocate(_ root: [UInt8]) {
        allocated.insert(root)
        begin(root, allocation: true)
    }

    private func release(_ root: [UInt8]) {
        allocated.remove(root)
        do { try store.unpin(root) } catch { logger.warning("files: cannot unpin \(Hex.encode(root)): \(error)") }
        logger.info("files: released \(Hex.encode(root))")
    }

    private func reportHeld(_ root: [UInt8]) {
        let registry = self.registry, logger = self.logger
        // Reported before a restart: the registry has it.
        if let pin = try? registry.pin(root), pin.holders.contains(where: { $0.node == account && $0.held }) { return }
        Task {
            do { _ = try await registry.reportHeld(root) } catch {
                // Already reported (a restart), or released meanwhile: nothing to do.
                logger.info("files: held report for \(Hex.encode(root)) not sent: \(error)")
            }
        }
    }

    private func heartbeat() {
        sendHeartbeat()
        schedule(after: configuration.heartbeatInterval) { $0.heartbeat() }
    }

    /// A heartbeat with the store's free space, if this node is a registered storage node.
    private func sendHeartbeat() {
        guard (try? registry.storageNode(account)) != nil else { return }
        let registry = self.registry, logger = self.logger, free = store.freeBytes
        Task {
            do { _ = try await registry.heartbeat(freeBytes: free) } catch { logger.warning("files: heartbeat not sent: \(error)") }
        }
    }

    /// For each file held here with fewer live holders than its minimum, the live holder with
    /// the lowest address asks for a repair.
    private func checkRepairs() {
        for root in allocated {
            guard let pin = try? registry.pin(root) else { continue }
            let live = pin.holders.filter(\.live)
            guard live.count < pin.minReplicas, live.map(\.node).min() == account else { continue }
            let registry = self.registry, logger = self.logger
            Task {
                do {
                    let (nodes, _) = try await registry.repair(root)
                    logger.info("files: repaired \(Hex.encode(root)): allocated \(nodes.map(\.description).joined(separator: ", "))")
                } catch {
                    logger.warning("files: repair of \(Hex.encode(root)) not done: \(error)")
                }
            }
        }
        schedule(after: configuration.repairInterval) { $0.checkRepairs() }
    }

    private func tick() {
        for root in Array(fetches.keys) { drive(root) { $0.tick(now: self.clock.uptime) } }
        schedule(after: .seconds(1)) { $0.tick() }
    }

    private func schedule(after delay: Duration, _ work: @escaping @Sendable (FileReplicator) -> Void) {
        clock.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.queue.async { if !self.stopped { work(self) } }
        }
    }
}

/// Why a fetch did not deliver.
public enum FileReplicationError: Error, Equatable, CustomStringConvertible {
    case fetchFailed(String)
    case stopped
    /// As many fetches for readers are running as the node allows.
    case busy(Int)

    public var description: String {
        switch self {
        case .fetchFailed(let why): "the file could not be fetched from the other nodes: \(why)"
        case .stopped: "the node's file replication has stopped"
        case .busy(let running): "the node is fetching \(running) files for readers already; try again shortly"
        }
    }
}
