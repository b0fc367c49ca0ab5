import Foundation
import KramaaChain
import KramaaConsensus
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import Logging

/// Runs one validator: the `ConsensusDriver` (the same one the simulator runs) over the real
/// ports: the node as its application, the peer network as its transport, `consensus.rlp` as
/// its safety storage, the system clock. Everything the driver sees happens on one thread, in
/// order (`WorkThread`: consensus must not starve behind the shared pool's signature recovery).
///
/// Also: transactions gossiped in batches (not consensus: the pools of the validators).
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
        /// How long after a commit the proposer lets transactions gather before building the next
        /// block, unless a full block's worth waits already: larger blocks under load, each
        /// height's fixed costs (votes, saves, roots, a database commit) spread over more
        /// transactions, for at most this much more latency (CometBFT's `timeout_commit` plays
        /// this part; its default is 1 s). Zero builds at once.
        public var blockGather: Duration = .milliseconds(20)

        public init(listenPort: Int) { self.listenPort = listenPort }
    }

    let node: Node
    let key: Secp256k1.PrivateKey
    let configuration: Configuration
    let queue = WorkThread(name: "kramaa-consensus")
    let logger: Logger
    let clock: TimeSource
    let transport = PeerTransport()
    var driver: ConsensusDriver!
    var outgoingTransactions: [[UInt8]] = []
    /// Hashes of transactions received from peers, not to be sent back out.
    var fromPeers: Set<Bytes32> = []
    /// Transactions the pool took, waiting for the consensus thread.
    let arrivals = Arrivals<PooledTransaction>()
    private var observer: Int?

    /// Heights committed by this runtime, and rounds beyond the first they needed (read
    /// without waiting for the consensus thread: a report, not a synchronisation point).
    public var statistics: (commits: Int, extraRounds: Int) { driver.statistics }

    /// The consensus safety state is kept in the node's data directory (`consensus.rlp`).
    public init(node: Node, key: Secp256k1.PrivateKey, configuration: Configuration, clock: TimeSource = SystemTime.shared,
                logger: Logger = Logger(label: "kramaa.validator")) throws {
        self.node = node
        self.key = key
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        var driverConfiguration = ConsensusDriver.Configuration()
        driverConfiguration.consensus = configuration.consensus
        driverConfiguration.regossipInterval = configuration.regossipInterval
        driverConfiguration.emptyBlockInterval = configuration.emptyBlockInterval
        let queue = self.queue
        let hop: (@escaping () -> Void) -> Void = { work in queue.async(work) }  // onto the consensus thread
        driver = try ConsensusDriver(
            chainId: node.chainId, signer: PrivateKeySigner(key), configuration: driverConfiguration, clock: clock, transport: transport,
            storage: SafetyStore(path: node.dataDirectory.appendingPathComponent("consensus.rlp"),
                                 beforeSaving: { [node] () throws in try node.waitUntilStored() }),
            application: NodeApplication(node: node, coinbase: key.publicKey.address, clock: clock, logger: logger,
                                         gather: configuration.blockGather, hop: hop),
            hashBlock: { bytes in Block.hash(ofEncoded: bytes) ?? Keccak256.hash(bytes) },  // header only: no transaction decoding
            hop: hop)
        if Self.tracing {
            let address = key.publicKey.address.lowercased.prefix(8)
            driver.trace = { print("\(DispatchTime.now().uptimeNanoseconds / 1_000_000 % 100_000) \(address) \($0)") }
        }
    }

    public var address: Address { key.publicKey.address }

    /// The port the peer network listens on (the real one when 0 was configured).
    public var p2pPort: Int? { transport.network?.port }

    /// Dials `bootnode` from now on (and again after disconnections).
    public func addBootnode(_ bootnode: Bootnode) { transport.network?.addBootnode(bootnode) }

    /// Peers connected now.
    public var peerCount: Int { transport.connectedPeers.count }

    /// Consensus as it stands, read on the consensus thread (metrics, readiness); nil when that
    /// thread does not answer within `timeout` seconds (stopped, or stalled: itself a finding).
    public func status(timeout: Double = 1) -> ValidatorStatus? {
        final class Box: @unchecked Sendable { var value: ValidatorStatus? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        queue.async { [self] in
            let (height, round, step) = driver.position
            box.value = ValidatorStatus(height: height, round: round, step: step.description, syncing: driver.isSyncing,
                                        bestPeerHead: driver.bestPeerHead, peers: transport.connectedPeers.count,
                                        commits: driver.statistics.commits, extraRounds: driver.statistics.extraRounds,
                                        byzantineValidators: Set(driver.evidence.compactMap { evidence -> Address? in
                                            if case .conflictingVotes(let vote, _) = evidence { return vote.validator }
                                            return nil
                                        }).count)
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return box.value
    }

    /// Services sharing the peer network (set before `start`), by message type.
    private var services: [UInt8: PeerService] = [:]
    private var serviceList: [PeerService] = []

    /// Shares the peer network with `service` (before `start`): its message types are
    /// accepted and handed to it, with peer arrivals and departures.
    public func attach(_ service: PeerService) {
        serviceList.append(service)
        for type in service.messageTypes { services[type] = service }
    }

    /// Listens, dials the bootnodes and starts consensus at the height after the head.
    public func start() async throws {
        var config = PeerNetwork.Configuration(chainId: node.chainId, listenHost: configuration.listenHost,
                                               listenPort: configuration.listenPort, bootnodes: configuration.bootnodes)
        config.allowedPeers = nil  // full nodes may follow (unless the nodes list says otherwise); only validators' signatures count
        config.admits = { [node] peer in node.mayConnect(peer) }
        config.messageTypes.formUnion(services.keys)
        transport.network = try await PeerNetwork.start(configuration: config, nodeKey: key, logger: logger) { [weak self] _, event in
            guard let self else { return }
            queue.async { self.handle(event) }
        }
        for service in serviceList { service.attach(transport.network!) }
        observer = node.addObserver { [weak self] event in
            guard let self else { return }
            if case .newTransaction(let signed, let raw) = event, arrivals.add(PooledTransaction(signed: signed, raw: raw)) {
                queue.asyncAfter(seconds: Self.transactionBatchDelay) { self.transactionsArrived(self.arrivals.take()) }
            }
            if case .newBlock(let executed) = event, executed.receipts.contains(where: { $0.logs.contains { $0.address == PermissionsContract.address } }) {
                self.dropPeersNoLongerAllowed()
            }
        }
        queue.async { [self] in driver.start() }
    }

    /// Stops sending and receiving; a later `start` on a new runtime resumes from disk.
    public func stop() async {
        queue.sync { self.driver.stop() }
        queue.stop()
        try? node.waitUntilStored()  // the last committed block, written behind
        if let observer { node.removeObserver(observer) }
        await transport.network?.stop()
    }

    // MARK: Network

    /// After a change of the nodes list: peers it no longer admits are disconnected.
    func dropPeersNoLongerAllowed() {
        guard let network = transport.network else { return }
        for peer in network.connectedPeers.map(\.address) where !node.mayConnect(peer) {
            logger.info("disconnecting \(peer): no longer on the nodes list")
            network.disconnect(peer)
        }
    }

    func handle(_ event: PeerEvent) {
        switch event {
        case .connected(let peer):
            for service in serviceList { service.peerConnected(peer.address) }
        case .disconnected(let peer, _):
            for service in serviceList { service.peerDisconnected(peer) }
        case .message(let from, let type, let payload):
            if let service = services[type] { return service.received(type: type, payload: payload, from: from) }
        default: break
        }
        guard !driver.stopped else {
            if let failure = driver.failure { logger.critical("consensus stopped: \(failure)") }
            return
        }
        switch event {
        case .connected(let peer):
            driver.peerConnected(peer.address)
            sendPool(to: peer.address)
        case .disconnected, .connectionFailed:
            break
        case .message(let from, let type, let payload):
            if type == MessageType.transaction { return receiveTransactions(payload) }
            guard DriverMessage.WireType.all.contains(type) else { return }
            guard let message = DriverMessage(type: type, payload: payload) else {
                if type == DriverMessage.WireType.proposal || type == DriverMessage.WireType.vote { transport.network?.disconnect(from) }
                return
            }
            driver.receive(message, from: from)
        }
    }

    static let tracing = ProcessInfo.processInfo.environment["KRAMAA_CONSENSUS_TRACE"] != nil
}

/// The driver's transport: the peer network (set once it listens).
final class PeerTransport: ConsensusTransport, @unchecked Sendable {
    var network: PeerNetwork?

    func broadcast(_ message: DriverMessage) {
        let wire = message.wire
        network?.broadcast(type: wire.type, payload: wire.payload)
    }

    func send(_ message: DriverMessage, to peer: Address) {
        let wire = message.wire
        network?.send(to: peer, type: wire.type, payload: wire.payload)
    }

    var connectedPeers: [Address] { network?.connectedPeers.map(\.address) ?? [] }
}

/// A validator's consensus state at one moment (``ValidatorRuntime/status(timeout:)``).
public struct ValidatorStatus: Sendable, Equatable {
    /// The height being decided, its round and step.
    public var height: UInt64
    public var round: Int
    public var step: String
    /// Fetching committed blocks from peers.
    public var syncing: Bool
    /// The highest head a peer has told of.
    public var bestPeerHead: UInt64
    public var peers: Int
    /// Heights committed since start, and rounds beyond the first they needed.
    public var commits: Int
    public var extraRounds: Int
    /// Validators this node holds evidence of double voting against.
    public var byzantineValidators: Int
}
