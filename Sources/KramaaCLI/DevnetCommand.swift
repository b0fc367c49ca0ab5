import ArgumentParser
import Foundation
import KramaaFileStore
import KramaaAPI
import KramaaAuth
import KramaaNode
import KramaaPrimitives

/// `kramaa devnet`: a local chain for development in one command.
struct DevnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnet",
        abstract: "Start a local development chain with funded accounts, serving JSON-RPC on 127.0.0.1:8545.",
        discussion: """
            The chain lives in --datadir and continues where it stopped on the next run; --fresh \
            starts over. The settings that make the genesis (--validators, --accounts, --balance, \
            --chain-id, --block-time, --gas-limit) apply to a new chain: on an existing one, a \
            value that differs from its genesis is refused (add --fresh to start over). The dev \
            accounts' keys are printed at start: they are the same on every run, publicly known, \
            and must never hold anything of value. The node signs for them (eth_sendTransaction, eth_sign).

            By default the devnet is a network of 4 validator processes on loopback that agree on \
            every block by BFT consensus (JSON-RPC on --rpc-port and the next ports, peers on \
            --p2p-port and up, data in DATADIR/validator-N); --validators 1 runs a single node \
            in this process instead. Validators are funded so they can send governance \
            transactions (`kramaa validators`). Every port is checked before anything is written, \
            and a data directory serves one devnet or node at a time.
            """)

    @Option(help: "Where the chain's data is kept.") var datadir = ".kramaa/devnet"
    @Flag(help: "Delete the data directory first and start from a new genesis.") var fresh = false
    @Option(help: "Number of funded dev accounts (new chain; default 10).") var accounts: Int?
    @Option(help: "Balance of each dev account, in ether (new chain; default 10000).") var balance: UInt64?
    @Option(name: .customLong("chain-id"), help: "Chain id (new chain; default 1337).") var chainId: UInt64?
    @Option(name: .customLong("block-time"), help: "Seconds between blocks; 0 seals a block as soon as transactions arrive (new chain; default 0).")
    var blockTime: UInt64?
    @Option(name: .customLong("gas-limit"), help: "Block gas limit (new chain; default 60000000).") var gasLimit: UInt64?
    @Option(name: .customLong("files-heartbeat-timeout"),
            help: "Seconds without a heartbeat before a storage node stops counting as a file's holder (new chain; default 300).")
    var filesHeartbeatTimeout: UInt64?
    @Option(help: "Validator processes; more than one runs BFT consensus between them on loopback (new chain; default 4).")
    var validators: Int?
    @Option(name: .customLong("p2p-port"), help: "Peer port of the first validator (the next ones count up).")
    var p2pPort = 30303
    @OptionGroup var rpc: RPCOptions
    @OptionGroup var mqtt: MQTTOptions
    @Flag(help: "Print nothing per block.") var quiet = false
    @Option(name: .customLong("files-quota"), help: "Most bytes of file blocks the single-node devnet stores (uploads beyond it get 413).")
    var filesQuota: UInt64 = FileStore.defaultQuota

    var given: DevnetSettings.Given {
        .init(validators: validators, accounts: accounts, balance: balance, chainId: chainId, blockTime: blockTime, gasLimit: gasLimit,
              filesHeartbeatTimeout: filesHeartbeatTimeout)
    }

    func validate() throws {
        if let accounts, !(1...1000).contains(accounts) { throw ValidationError("--accounts must be between 1 and 1000") }
        if let validators, !(1...32).contains(validators) { throw ValidationError("--validators must be between 1 and 32") }
    }

    func run() async throws {
        let stopping = Failure()
        stopping.catchStopSignals()
        let dir = URL(fileURLWithPath: datadir)
        // An existing folder is locked first (a second devnet on it is told who has it); a new
        // one is made only once the ports are known to be free.
        var lock: DataDirectoryLock? = try FileManager.default.fileExists(atPath: dir.path) ? DataDirectoryLock.acquire(dir) : nil
        let settings = try DevnetSettings.resolve(given, existing: fresh ? nil : DevnetSettings.existing(in: dir), directory: dir)
        var ports = settings.validators > 1 ? DevnetNetwork.ports(count: settings.validators, rpc: rpc, p2pPort: p2pPort) : ListenPorts()
        if settings.validators == 1 { ports.add(host: rpc.host, first: rpc.port, flag: "--rpc-port", what: "JSON-RPC") }
        mqtt.addPorts(to: &ports, count: settings.validators, webSocketDefault: MQTTOptions.devnetWebSocketPort)
        try ports.check()
        if lock == nil { lock = try DataDirectoryLock.acquire(dir) }
        defer { lock?.release() }
        if fresh { try Self.empty(dir) }
        let dev = DevAccounts.derived(count: settings.accounts)
        let token = try CLIFailure.wrap { try TokenStore.developmentToken(in: dir) }
        if settings.validators > 1 {
            try await DevnetNetwork(settings: settings, directory: dir, rpcPort: rpc.port, p2pPort: p2pPort, quiet: quiet, dev: dev, mqtt: mqtt,
                                    developmentToken: (token, dev.addresses[0]), origins: rpc.configuration(defaultOrigins: ["*"]).allowedOrigins).run(stopping)
            return
        }
        if !Node.isInitialized(dataDirectory: dir) {
            try CLIFailure.wrap { try Node.initialize(dataDirectory: dir, genesisDocument: settings.genesisDocument(dev)) }
            Console.line("new devnet (chain id \(settings.chainId)) in \(dir.path)")
        } else {
            Console.line("continuing the devnet in \(dir.path) (--fresh starts over)")
        }
        let node = try CLIFailure.wrap { try Node(dataDirectory: dir) }
        try CLIFailure.wrap { try TokenStore(directory: dir).install(token, account: dev.addresses[0], roles: Set(AccessRole.allCases), label: "devnet") }
        var runner = NodeRunner(node: node, accounts: dev, quiet: quiet, stopping: stopping)
        runner.openLoopbackWrites = true
        runner.files.quota = filesQuota
        runner.messaging = mqtt.configuration(webSocketDefault: MQTTOptions.devnetWebSocketPort)
        let host = rpc.host
        runner.onReady = { port, mqtt in
            let messaging = mqtt.isEmpty ? "" : ", MQTT \(mqtt.joined(separator: " "))"
            let endpoint = (label: "node \(dev.addresses[0])", text: "JSON-RPC http://\(host):\(port)\(messaging), data \(dir.path)")
            Console.line(ReadyBlock.devnet(settings: settings, directory: dir, endpoints: [endpoint], dev: dev, token: token).rendered)
        }
        try await runner.run(rpc.configuration(defaultOrigins: ["*"]))
    }

    /// Deletes what `dir` holds except its lock file (--fresh, with the lock held).
    static func empty(_ dir: URL) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        for name in names where name != DataDirectoryLock.fileName {
            try CLIFailure.wrap { try FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
        }
    }

    /// The dev accounts and their keys, as printed at start (tests and tools read them).
    static func accountsText(_ dev: DevAccounts, balance: UInt64) -> String {
        var lines = ["", "Available accounts (\(balance) ETH each at genesis)", "=================="]
        for (i, key) in dev.keys.enumerated() { lines.append("(\(i)) \(key.publicKey.address)") }
        lines += ["", "Private keys (publicly known: for development only)", "=================="]
        for (i, key) in dev.keys.enumerated() { lines.append("(\(i)) \(Hex.encode(key.rawRepresentation))") }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
