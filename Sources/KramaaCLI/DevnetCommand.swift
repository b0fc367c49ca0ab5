import ArgumentParser
import Foundation
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
            starts over. The dev accounts' keys are printed at start: they are the same on every \
            run, publicly known, and must never hold anything of value. The node signs for them \
            (eth_sendTransaction, eth_sign).

            By default the devnet is a network of 4 validator processes on loopback that agree on \
            every block by BFT consensus (JSON-RPC on --rpc-port and the next ports, peers on \
            --p2p-port and up, data in DATADIR/validator-N); --validators 1 runs a single node \
            in this process instead. Validators are funded so they can send governance \
            transactions (`kramaa validators`).
            """)

    @Option(help: "Where the chain's data is kept.") var datadir = ".kramaa/devnet"
    @Flag(help: "Delete the data directory first and start from a new genesis.") var fresh = false
    @Option(help: "Number of funded dev accounts.") var accounts = 10
    @Option(help: "Balance of each dev account, in ether.") var balance: UInt64 = 10_000
    @Option(name: .customLong("chain-id"), help: "Chain id of a new devnet.") var chainId: UInt64 = 1337
    @Option(name: .customLong("block-time"), help: "Seconds between blocks; 0 seals a block as soon as transactions arrive.")
    var blockTime: UInt64 = 0
    @Option(name: .customLong("gas-limit"), help: "Block gas limit of a new devnet.") var gasLimit: UInt64 = 60_000_000
    @Option(help: "Validator processes; more than one runs BFT consensus between them on loopback.")
    var validators = 4
    @Option(name: .customLong("p2p-port"), help: "Peer port of the first validator (the next ones count up).")
    var p2pPort = 30303
    @OptionGroup var rpc: RPCOptions
    @Flag(help: "Print nothing per block.") var quiet = false

    func run() async throws {
        guard (1...1000).contains(accounts) else { throw ValidationError("--accounts must be between 1 and 1000") }
        guard (1...32).contains(validators) else { throw ValidationError("--validators must be between 1 and 32") }
        let dir = URL(fileURLWithPath: datadir)
        if fresh { try? FileManager.default.removeItem(at: dir) }
        let dev = DevAccounts.derived(count: accounts)
        if validators > 1 {
            printAccounts(dev)
            let token = try developmentToken(dir)
            try await DevnetNetwork(count: validators, directory: dir, genesis: { genesisDocument(dev, validators: $0) },
                                    rpcPort: rpc.port, p2pPort: p2pPort, quiet: quiet, devAccounts: accounts,
                                    developmentToken: (token, dev.addresses[0]),
                                    origins: rpc.configuration(defaultOrigins: ["*"]).allowedOrigins).run()
            return
        }
        if !Node.isInitialized(dataDirectory: dir) {
            do { try Node.initialize(dataDirectory: dir, genesisDocument: genesisDocument(dev)) } catch {
                throw ValidationError(error.description)
            }
            Console.line("new devnet (chain id \(chainId)) in \(dir.path)")
        } else {
            Console.line("continuing the devnet in \(dir.path) (--fresh starts over)")
        }
        let node: Node
        do { node = try Node(dataDirectory: dir) } catch { throw ValidationError(error.description) }
        printAccounts(dev)
        let token = try developmentToken(dir)
        try CLIFailure.wrap { try TokenStore(directory: dir).install(token, account: dev.addresses[0], roles: Set(AccessRole.allCases), label: "devnet") }
        var runner = NodeRunner(node: node, accounts: dev, quiet: quiet)
        runner.openLoopbackWrites = true
        try await runner.run(rpc.configuration(defaultOrigins: ["*"]))
    }

    /// The devnet's development token (dev0, every role), the same on every run of this
    /// devnet; loopback writes stay open without it, other callers need it.
    func developmentToken(_ dir: URL) throws -> BearerToken {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let token = try CLIFailure.wrap { try TokenStore.developmentToken(in: dir) }
        Console.line("Development token (acts as dev0, every role; loopback writes need none): \(token)\n")
        return token
    }

    func printAccounts(_ dev: DevAccounts) {
        Console.line("\nAvailable accounts (\(balance) ETH each at genesis)\n==================")
        for (i, key) in dev.keys.enumerated() { Console.line("(\(i)) \(key.publicKey.address)") }
        Console.line("\nPrivate keys (publicly known: for development only)\n==================")
        for (i, key) in dev.keys.enumerated() { Console.line("(\(i)) \(Hex.encode(key.rawRepresentation))") }
        Console.line("")
    }

    func genesisDocument(_ dev: DevAccounts, validators: [Address]? = nil) -> Data {
        let wei = UInt256(balance) &* UInt256(1_000_000_000_000_000_000 as UInt64)
        let funded = dev.addresses + (validators ?? []).filter { !dev.addresses.contains($0) }
        let alloc = funded.map { "\"\($0)\": {\"balance\": \"\(Hex.encode(wei.minimalBigEndianBytes))\"}" }
        return Data("""
            {"config": {"chainId": \(chainId), "kramaa": {"blockPeriodSeconds": \(blockTime), "emptyBlocks": false,
             "validators": [\((validators ?? [dev.addresses[0]]).map { "\"\($0)\"" }.joined(separator: ", "))], "feePolicy": "eip1559"}},
             "gasLimit": "0x\(String(gasLimit, radix: 16))", "timestamp": "0x\(String(UInt64(Date().timeIntervalSince1970), radix: 16))",
             "alloc": {\(alloc.joined(separator: ", "))}}
            """.utf8)
    }
}
