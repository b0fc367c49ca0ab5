import ArgumentParser
import Foundation
import KramaaFileStore
import KramaaMessagingService
import KramaaEPCISIndex
import KramaaAPI
import KramaaAuth
import KramaaChain
import KramaaJSON
import KramaaNode
import KramaaPrimitives
import KramaaPrivateData
import KramaaRPC
import KramaaTags
import KramaaValidator
import Logging

/// Options of the JSON-RPC server shared by `kramaa node` and `kramaa devnet`.
struct RPCOptions: ParsableArguments {
    @Option(name: .customLong("rpc-host"), help: "Address the JSON-RPC server binds (HTTP and WebSocket on one port).")
    var host = "127.0.0.1"

    @Option(name: .customLong("rpc-port"), help: "Port of the JSON-RPC server; 0 picks a free one.")
    var port = 8545

    @Option(name: .customLong("cors"), parsing: .upToNextOption,
            help: "Origins browsers may call from (CORS and WebSocket); `*` allows any. `kramaa node` allows none by default, the devnet any.")
    var allowedOrigins: [String] = []

    /// The server's configuration; `defaultOrigins` apply when no `--cors` was given.
    func configuration(defaultOrigins: [String]) -> RPCServer.Configuration {
        var c = RPCServer.Configuration(host: host, port: port)
        c.allowedOrigins = allowedOrigins.isEmpty ? defaultOrigins : allowedOrigins
        return c
    }
}

/// `kramaa init`: creates a chain's data directory from a genesis file.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a chain in a data directory from a genesis file.",
        discussion: "The genesis file is geth's JSON shape with a `config.kramaa` section; see docs/DATA.md.")

    @Option(help: "The genesis JSON file.") var genesis: String
    @Option(help: "The data directory to create.") var datadir: String

    func run() throws {
        let document: Data
        do { document = try Data(contentsOf: URL(fileURLWithPath: genesis)) } catch {
            throw CLIFailure("cannot read the genesis file \(genesis): \(error.localizedDescription)")
        }
        let dir = URL(fileURLWithPath: datadir)
        try CLIFailure.wrap { try Node.initialize(dataDirectory: dir, genesisDocument: document) }
        let node = try CLIFailure.wrap { try Node(dataDirectory: dir) }
        Console.line("initialised chain \(node.chainId) in \(dir.path): genesis block \(node.latest.hash)")
    }
}

/// `kramaa node`: runs a chain from its data directory and serves JSON-RPC.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run a node from a data directory made by `kramaa init`, serving JSON-RPC.")

    @Option(help: "The data directory (made by `kramaa init`).") var datadir: String
    @OptionGroup var rpc: RPCOptions
    @OptionGroup var p2p: P2POptions
    @OptionGroup var mqtt: MQTTOptions
    @Option(name: .customLong("dev-accounts"), help: ArgumentHelp("Sign for the first N devnet accounts (development only).", visibility: .hidden))
    var devAccounts = 0
    @Option(name: .customLong("tag-peer"),
            help: "Another node of this organisation that shares its tag keys and read counters: PUBLICKEY@http://host:port (its `kramaa tag node-key`); repeat for each.")
    var tagPeers: [String] = []
    @Flag(name: .customLong("closed-reads"), help: "Reads (JSON-RPC, REST, EPCIS queries) need a token with the read role too; tag verification stays open.")
    var closedReads = false
    @Flag(name: .customLong("dev-open-writes"),
          help: ArgumentHelp("Let loopback callers write without a token (the devnet's validators; development only).", visibility: .hidden))
    var devOpenWrites = false
    @Flag(name: .customLong("stop-with-stdin"),
          help: ArgumentHelp("Stop when standard input reaches its end (the devnet's validators: their parent holds it open).", visibility: .hidden))
    var stopWithStdin = false
    @Flag(help: "Print nothing per block.") var quiet = false
    @Option(name: .customLong("files-quota"), help: "Most bytes of file blocks the node stores (uploads beyond it get 413).")
    var filesQuota: UInt64 = FileStore.defaultQuota
    @Option(name: .customLong("files-heartbeat-interval"), help: "Seconds between this storage node's heartbeats to the file registry (default 60).")
    var filesHeartbeatInterval: UInt64 = 60
    @Option(name: .customLong("files-repair-interval"), help: "Seconds between checks of the files this node holds for missing replicas (default 30).")
    var filesRepairInterval: UInt64 = 30
    @Option(name: .customLong("pin-organization"), help: "The organisation that owns pins made through /pins without meta kramaa.organization.")
    var pinOrganization: UInt64?
    @Flag(name: .customLong("debug-api"), help: "Serve the debug_* methods (tracing re-executes transactions: keep it off on a public endpoint).")
    var debugAPI = false
    @OptionGroup var logging: LogOptions
    @Option(name: .customLong("history"),
            help: "Blocks whose state stays readable (eth_call, eth_getProof, eth_getBalance … at them): a number (default 128), or archive for every block.")
    var history: String = "128"
    @Option(name: .customLong("anchor-config"), help: "Relay checkpoints to the parent chains this JSON file names (docs/ANCHORING.md); state in kramaa_anchorStatus.")
    var anchorConfig: String?
    @Option(name: .customLong("anchor-watch"),
            help: "A parent chain whose checkpoint contract anchors this chain, as LABEL=URL@CONTRACT; repeat for each. Asset histories then say where each event is anchored.")
    var anchorWatch: [String] = []
    @Option(name: .customLong("snapshot-interval"),
            help: "Write a state snapshot every N blocks into DATADIR/snapshots (the two newest are kept) and serve them to peers joining with `kramaa snapshot sync`.")
    var snapshotInterval: UInt64?
    @Option(name: .customLong("ready-max-lag"), help: "Blocks the head may be behind the best head a peer told of while /readyz says ready.")
    var readyMaxLag: UInt64 = 2
    @Option(name: .customLong("ready-min-peers"), help: "Peers /readyz needs connected (default: 1 for a validator with bootnodes, else 0).")
    var readyMinPeers: Int?
    @Option(name: .customLong("block-gather"),
            help: "Milliseconds a validator about to propose lets transactions gather after a commit, unless a full block waits (0 to 10000; default 20; 0 builds at once).")
    var blockGather: Int?

    /// `--block-gather`, checked: at most 10 s (a proposer waiting longer would hold every height up).
    static func blockGather(_ milliseconds: Int?) throws -> Duration? {
        guard let milliseconds else { return nil }
        guard (0...10_000).contains(milliseconds) else {
            throw ValidationError("--block-gather \(milliseconds): milliseconds from 0 to 10000")
        }
        return .milliseconds(milliseconds)
    }

    /// `--history`: a number of blocks (at least the ones kept in memory) or `archive` (nil: every block).
    static func historyRetention(_ text: String) throws -> UInt64? {
        if text == "archive" { return nil }
        guard let blocks = UInt64(text), blocks >= Node.historyDepth else {
            throw ValidationError("--history \(text): a number of blocks (at least \(Node.historyDepth)) or archive")
        }
        return blocks
    }

    func run() async throws {
        let stopping = Failure()
        stopping.catchStopSignals()
        logging.bootstrap()
        _ = try Self.historyRetention(history)  // before anything is opened or listened on
        let gather = try Self.blockGather(blockGather)
        var anchors: AnchorConfiguration?
        if let anchorConfig {
            guard !closedReads else { throw ValidationError("--anchor-config with --closed-reads: the relayers read this node's JSON-RPC without a token; run them with open reads") }
            do { anchors = try AnchorConfiguration.load(anchorConfig) } catch { throw ValidationError("--anchor-config: \(error)") }
        }
        let dir = URL(fileURLWithPath: datadir)
        // Before anything is opened: one process per data directory, and free ports.
        let lock = try FileManager.default.fileExists(atPath: dir.path) ? DataDirectoryLock.acquire(dir) : nil
        defer { lock?.release() }
        let key = try p2p.key()
        var ports = ListenPorts()
        ports.add(host: rpc.host, first: rpc.port, flag: "--rpc-port", what: "JSON-RPC")
        if key != nil { ports.add(host: p2p.host, first: p2p.port, flag: "--p2p-port", what: "peer") }
        mqtt.addPorts(to: &ports)
        try ports.check()
        let node = try CLIFailure.wrap { try Node(dataDirectory: dir) }
        node.historyRetention = try Self.historyRetention(history)
        if key == nil && node.config.validators.count > 1 {
            throw CLIFailure("this chain has \(node.config.validators.count) validators: give --key (this node's key) and --bootnode (its peers) to join them")
        }
        var runner = NodeRunner(node: node, accounts: DevAccounts.derived(count: devAccounts), quiet: quiet, stopping: stopping)
        runner.debugAPI = debugAPI
        runner.openLoopbackWrites = devOpenWrites
        runner.closedReads = closedReads
        do { runner.tagPeers = try tagPeers.map { text throws(TagStoreError) in try TagPeer(parsing: text) } } catch {
            throw ValidationError("--tag-peer: \(error)")
        }
        runner.stopWithStdin = stopWithStdin
        runner.anchors = anchors
        runner.files = NodeFiles.Settings(quota: filesQuota, heartbeatInterval: max(1, filesHeartbeatInterval),
                                          repairInterval: max(1, filesRepairInterval), defaultOrganization: pinOrganization)
        runner.messaging = mqtt.configuration()
        if let key {
            var configuration = ValidatorRuntime.Configuration(listenPort: p2p.port)
            configuration.listenHost = p2p.host
            configuration.bootnodes = try p2p.parsedBootnodes()
            if let gather { configuration.blockGather = gather }
            runner.validator = (key, configuration)
        }
        runner.anchorWatch = anchorWatch
        if let snapshotInterval {
            guard snapshotInterval > 0 else { throw ValidationError("--snapshot-interval: a number of blocks, 1 or more") }
            runner.snapshotInterval = snapshotInterval
        }
        runner.readiness.maxLag = readyMaxLag
        runner.readiness.validator = key != nil
        runner.readiness.minPeers = readyMinPeers ?? (runner.validator?.1.bootnodes.isEmpty == false ? 1 : 0)
        try await runner.run(rpc.configuration(defaultOrigins: []))
    }
}

/// Runs a node until SIGINT or SIGTERM: the block producer, and the API on the RPC server.
struct NodeRunner {
    let node: Node
    let accounts: DevAccounts
    let quiet: Bool
    /// Whether the debug_* methods are served.
    var debugAPI = true
    /// With a key and a peer network: consensus seals blocks, not the single-node producer.
    var validator: (Secp256k1.PrivateKey, ValidatorRuntime.Configuration)?
    /// Loopback callers may write without a token (the devnet).
    var openLoopbackWrites = false
    /// Reads need a token with the `read` role too.
    var closedReads = false
    /// The organisation's other nodes, which share this node's tag keys and read counters.
    var tagPeers: [TagPeer] = []
    /// The file store and replication settings (`--files-*`, `--pin-organization`).
    var files = NodeFiles.Settings()
    /// Stop (cleanly) when standard input reaches its end: the devnet's validators end with it.
    var stopWithStdin = false
    /// The MQTT server's configuration; nil: no MQTT.
    var messaging: MessagingService.Configuration?
    /// What `/readyz` requires.
    var readiness = OperationsEndpoints.Readiness()
    /// Parent chains whose checkpoints are watched (`--anchor-watch`).
    var anchorWatch: [String] = []
    /// Write a state snapshot every this many blocks into DATADIR/snapshots (`--snapshot-interval`).
    var snapshotInterval: UInt64?
    /// The parent chains to relay checkpoints to (`--anchor-config`); nil: none.
    var anchors: AnchorConfiguration?
    /// Called with the JSON-RPC port and the MQTT endpoints once everything serves, before the
    /// address line (the single-node devnet prints its ready block here).
    var onReady: ((_ rpcPort: Int, _ mqtt: [String]) -> Void)?
    /// Ends `run`: a stop signal, a fatal error, or the end of standard input: the command's
    /// own, which caught the stop signals before start-up began.
    let stopping: Failure

    /// Who may write: tokens from the data directory; loopback open only on the devnet.
    var access: AccessPolicy {
        AccessPolicy(tokens: TokenStore(directory: node.dataDirectory), openLoopbackWrites: openLoopbackWrites, closedReads: closedReads)
    }

    init(node: Node, accounts: DevAccounts, quiet: Bool, stopping: Failure) {
        self.node = node
        self.accounts = accounts
        self.quiet = quiet
        self.stopping = stopping
    }

    /// The HTTP endpoints served beside JSON-RPC: tag verification and registration.
    /// The node's HTTP interfaces besides JSON-RPC: the platform REST API, EPCIS 2.0 and tag verification.
    func routes(_ api: EthAPI, deliveries: DeliveryLog? = nil, files: NodeFiles? = nil, privateData: PrivateDataService? = nil,
                metrics: NodeMetrics? = nil, anchors: (any AnchorDirectory)? = nil, activity: DeviceActivity? = nil,
                delegate: String = "/ip4/127.0.0.1/tcp/0/http") throws -> HTTPRoutes {
        var routes = HTTPRoutes()
        if let deliveries { routes.mount(DeliveryEndpoints.prefix, ReadGatedEndpoint(DeliveryEndpoints(log: deliveries), access: api.access)) }
        let index: EPCISIndex
        do { index = try EPCISIndex(chain: node, path: node.dataDirectory.appendingPathComponent(EPCISIndex.fileName).path) } catch {
            throw CLIFailure("cannot open the EPCIS index in \(node.dataDirectory.path): \(error)")
        }
        routes.mount(PlatformEndpoints.prefix, ReadGatedEndpoint(PlatformEndpoints(api: api, index: index, privateData: privateData, anchors: anchors), access: api.access))
        let tags: TagKeyStore
        do { tags = try TagKeyStore(directory: node.dataDirectory) } catch {
            throw CLIFailure("cannot open the tag store in \(node.dataDirectory.path): \(error)")
        }
        var replicator: TagReplicator?
        if !tagPeers.isEmpty {
            let identity = try CLIFailure.wrap { try TagReplicationIdentity.load(directory: node.dataDirectory) }
            replicator = TagReplicator(identity: identity, peers: tagPeers)
            Console.line("tag keys and counters shared with \(tagPeers.count) peer node(s); a tap needs \(replicator!.quorum) of \(tagPeers.count + 1) nodes")
        }
        let countVerdict: @Sendable (String, String) -> Void = { kind, verdict in
            metrics?.counter("kramaa_tag_verifications_total", [("kind", kind), ("verdict", verdict)]).increment()
        }
        let verifier = TagVerifier(store: tags, assets: ChainAssetDirectory(chain: node, reader: NodeContractReader(node: node)), replicator: replicator)
        let tagEndpoints = TagEndpoints(verifier: verifier, access: api.access, onVerdict: countVerdict)
        metrics?.addCollector { m in m.gauge("kramaa_tags_registered").record(tags.count) }
        // The consumer page judges taps that land on it as /verify does (and counts them the same).
        mountDashboard(into: &routes, api: api, index: index, anchors: anchors, activity: activity, metrics: metrics) { url in
            do {
                let verification = try await verifier.verify(sunURL: url)
                countVerdict("nfc", verification.verdict.rawValue)
                return verification
            } catch {
                countVerdict("nfc", "malformed")
                return nil
            }
        }
        do {
            let found = try EPCISEndpoints.locateSchema(dataDirectory: node.dataDirectory)
            let epcis = try EPCISEndpoints(api: api, index: index, schema: found?.schema, privateData: privateData, dataDirectory: node.dataDirectory)
            epcis.metrics = metrics
            metrics?.addCollector { m in m.gauge("kramaa_epcis_indexed_events").record(index.indexedEvents) }
            routes.mount(EPCISEndpoints.prefix, ReadGatedEndpoint(epcis, access: api.access))
            routes.mountStream(EPCISEndpoints.prefix + "/queries", epcis)
            if let found {
                Console.line("EPCIS capture: documents validated against \(found.path)")
            } else {
                KeysCommand.printError("warning: EPCIS capture is off (POST /epcis/capture answers 503): no EPCIS 2.0 JSON schema found; "
                                       + "set KRAMAA_EPCIS_SCHEMA or copy GS1's \(EPCISEndpoints.schemaFileName) into \(node.dataDirectory.path)")
            }
        } catch {
            throw CLIFailure("cannot load the EPCIS schema: \(error)")
        }
        routes.mount(TagEndpoints.verifyPath, tagEndpoints)  // consumers verify without credentials, always
        routes.mount(TagEndpoints.tagsPath, ReadGatedEndpoint(tagEndpoints, access: api.access))
        try (files ?? NodeFiles.open(node: node, key: nil, settings: self.files)).mount(into: &routes, api: api, settings: self.files, delegate: delegate)
        return routes
    }

    func run(_ configuration: RPCServer.Configuration) async throws {
        let producer = BlockProducer(node: node) { [stopping] error in
            KeysCommand.printError("block production stopped: \(error)")
            stopping.raise()
        }
        if !quiet {
            node.addObserver { event in
                guard case .newBlock(let executed) = event else { return }
                let h = executed.block.header
                Console.line("block \(h.number) \(h.hash) txs=\(executed.block.transactions.count) gas=\(h.gasUsed)")
            }
        }
        if let snapshotInterval { NodeSnapshots.produce(node: node, every: snapshotInterval) }
        var messagingService: MessagingService?
        if let messaging {
            do {
                messagingService = try await MessagingService.start(node: node, configuration: messaging,
                                                                    committer: validator?.0 ?? accounts.keys.first, logger: Self.mqttLogger)
            } catch {
                throw CLIFailure("cannot start the MQTT server: \(error)")
            }
            let endpoints = messagingService!.server.endpoints
            Console.line("MQTT on \(endpoints.joined(separator: ", ")); devices connect with their address and a token (`kramaa device mqtt-token`)"
                         + (messaging.allowAnonymous ? "; anonymous clients allowed under sandbox/" : ""))
        }
        let files: NodeFiles
        do { files = try NodeFiles.open(node: node, key: validator?.0, settings: self.files) } catch {
            await messagingService?.stop()
            throw error
        }
        // Private data needs a node key: member nodes are named by their peer addresses.
        var privateData: PrivateDataService?
        if let key = validator?.0 {
            do { privateData = PrivateDataService(node: node, account: key.publicKey.address, store: try PrivateDataStore(dataDirectory: node.dataDirectory.path)) } catch {
                await messagingService?.stop()
                throw CLIFailure("cannot open the private data store in \(node.dataDirectory.path)/private-data: \(error)")
            }
        }
        let metrics = NodeMetrics(node: node)
        metrics.start()
        // The parents this node relays to are watched too (asset histories say where events are anchored).
        let relayed = (anchors?.parents ?? []).filter { p in !anchorWatch.contains { $0.hasPrefix(p.label + "=") } }
            .map { "\($0.label)=\($0.rpc)@\($0.contract)" }
        let watchSpecs = anchorWatch + relayed
        let watch = watchSpecs.isEmpty ? nil : try ParentChainWatch(specs: watchSpecs, node: node)
        watch?.start()
        Self.collectParts(into: metrics, files: files, privateData: privateData, messaging: messagingService)
        let server: RPCServer
        let relayers: AnchorRelayers? = anchors.map { AnchorRelayers(configuration: $0, log: { line in Console.error(line) }) }
        if let relayers { Self.collectAnchoring(into: metrics, relayers) }
        let anchorStatus: (@Sendable () -> JSON)? = relayers.map { r in { @Sendable in r.status() } }
        do {
            var logger = Logger(label: "kramaa.rpc")
            logger.logLevel = .warning
            let api = EthAPI(node: node, devAccounts: accounts, access: access, debugAPI: debugAPI, anchorStatus: anchorStatus,
                             consensus: { [metrics] in metrics.consensus })
            var served = try routes(api, deliveries: messagingService?.deliveries, files: files, privateData: privateData, metrics: metrics,
                                    anchors: watch, activity: messagingService?.activity, delegate: "/ip4/\(configuration.host)/tcp/\(configuration.port)/http")
            OperationsEndpoints.mount(into: &served, metrics: metrics, readiness: readiness, access: api.access)
            server = try await RPCServer.start(handler: MeteredRPCHandler(ReadGatedHandler(api.router(), access: api.access), metrics: metrics),
                                               routes: served.metered(by: metrics), configuration: configuration, logger: logger)
        } catch let error as CLIFailure {
            await messagingService?.stop()
            throw error
        } catch {
            await messagingService?.stop()
            throw CLIFailure("cannot serve JSON-RPC on \(configuration.host):\(configuration.port): \(error)")
        }
        var runtime: ValidatorRuntime?
        if let (key, configuration) = validator {
            do {
                let r = try ValidatorRuntime(node: node, key: key, configuration: configuration)
                if let federation = messagingService?.federation { r.attach(federation) }
                if let replicator = files.replicator { r.attach(replicator) }
                if let privateData { r.attach(privateData) }
                r.attach(SnapshotService(folder: NodeSnapshots.folder(node.dataDirectory)))
                try await r.start()
                runtime = r
                metrics.setConsensusSource { r.status().map(ConsensusReport.init) }
                files.replicator?.start()
                privateData?.start()
            } catch {
                await messagingService?.stop()
                await server.shutdown(gracePeriod: .seconds(1))
                throw CLIFailure("cannot start the validator: \(error)")
            }
            let role = node.validators(forHeight: node.latest.number + 1).contains(key.publicKey.address) ? "validator" : "follower (not in the validator set)"
            Console.line("\(role) \(key.publicKey.address), peer network on \(configuration.listenHost):\(configuration.listenPort)")
        } else {
            producer.start()
        }
        if let relayers {
            let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
            try relayers.start(nodeURL: "http://\(host.contains(":") ? "[\(host)]" : host):\(server.port)")
            Console.line("anchoring to \(relayers.configuration.parents.map { "\($0.label) (\($0.contract.checksummed), every \($0.every))" }.joined(separator: ", "))")
        }
        onReady?(server.port, messagingService?.server.endpoints ?? [])
        Console.line("chain \(node.chainId), head block \(node.latest.number); data in \(node.dataDirectory.path)")
        let replay = node.journalReplay
        Console.line("restored \(replay.restored) transactions from the pool journal (\(replay.dropped) dropped: already in a block or no longer valid)")
        if stopWithStdin { StdinLifeline.watch(stopping) }
        Console.line(openLoopbackWrites ? "writes: open to loopback callers without a token (development), others need a bearer token"
                                        : "writes: bearer token required (`kramaa token create --datadir \(node.dataDirectory.path)`)")
        // Last of the start-up lines: the devnet (and tests) take it to mean the node serves.
        Console.line(DevnetOutput.upMarker + "http://\(configuration.host):\(server.port)")
        await stopping.waitForSignalOrFailure()
        Console.line("stopping")
        relayers?.stop()
        producer.stop()
        metrics.stop()
        watch?.stop()
        await messagingService?.stop()
        files.replicator?.stop()
        privateData?.stop()
        await runtime?.stop()
        await server.shutdown(gracePeriod: .seconds(2))
        node.close()
        if stopping.raised { throw ExitCode.failure }
    }
}

extension NodeRunner {
    /// The MQTT server's log: refusals and connections at info level, to standard error.
    static var mqttLogger: Logger {
        var logger = Logger(label: "kramaa.mqtt")
        logger.logLevel = .info
        return logger
    }
}

/// Ends `run` on SIGINT, SIGTERM or a fatal error of the producer.
final class Failure: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var done = false
    private(set) var raised = false
    /// Set once the owner starts stopping (so exits after it are expected).
    var stopRequested: Bool {
        get { lock.withLock { stopping } }
        set { lock.withLock { stopping = newValue } }
    }
    private var stopping = false
    private var sources: [DispatchSourceSignal] = []  // guarded by lock

    func raise() {
        lock.withLock { raised = true }
        finish()
    }

    /// Ends the wait as a signal would (a clean stop).
    func finish() {
        let c = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            if done { return nil }
            done = true
            defer { continuation = nil }
            return continuation
        }
        c?.resume()
    }

    /// Takes SIGINT and SIGTERM from now on: one that comes while the process still starts ends
    /// the later wait at once (an orderly stop, exit 0) instead of killing the process with the
    /// signal's default action. Commands call it first thing; calling it again does nothing.
    func catchStopSignals() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { [weak self] in self?.finish() }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Returns on SIGINT or SIGTERM (caught since `catchStopSignals`, or from here on) or on `raise`/`finish`.
    func waitForSignalOrFailure() async {
        catchStopSignals()
        await withCheckedContinuation { c in
            let resumeNow = lock.withLock { () -> Bool in
                if done { return true }
                continuation = c
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}

/// Unbuffered standard output and error: lines appear at once even when they are pipes or
/// files, each in one write (lines from several threads do not mix); a closed pipe (the devnet
/// gone) loses the line rather than stopping the process.
enum Console {
    /// Status lines as JSON log records (`--log-format json`), at info level.
    nonisolated(unsafe) static var json = false
    /// The least severe level logged: status lines are info.
    nonisolated(unsafe) static var level = Logger.Level.info

    static func line(_ text: String = "") {
        guard json else { return write(text, to: 1) }
        guard level <= .info else { return }
        write(String(decoding: JSONLogHandler.record(level: "info", label: "kramaa.node", message: text).serialized(), as: UTF8.self), to: 1)
    }

    static func error(_ text: String) { write(text, to: 2) }

    private static func write(_ text: String, to fd: Int32) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}

/// The devnet's validators stop when it does: their standard input is a pipe only the devnet
/// holds open, so reading end of file there means it is gone (even by kill -9).
enum StdinLifeline {
    /// Watches standard input on a thread; at its end, stops `failure`'s owner cleanly, and
    /// exits if that has not happened within 15 seconds.
    static func watch(_ failure: Failure) {
        signal(SIGPIPE, SIG_IGN)  // output to the gone devnet fails instead of killing the process
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n == 0 || (n < 0 && errno != EINTR) { break }
            }
            failure.finish()
            sleep(15)
            _exit(1)
        }
        thread.name = "kramaa-stdin-lifeline"
        thread.start()
    }
}
