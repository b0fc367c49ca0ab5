import ArgumentParser
import Foundation
import KramaaAPI
import KramaaAuth
import KramaaNode
import KramaaPrimitives

/// `kramaa devnet --validators N` (N > 1): N validator processes on loopback, each with its
/// own data folder, RPC port and peer port, all dialling each other; stopped together.
struct DevnetNetwork {
    let count: Int
    let directory: URL
    let genesis: (_ validators: [Address]) -> Data
    let rpcPort: Int
    let p2pPort: Int
    let quiet: Bool
    let devAccounts: Int
    /// Installed in every validator's token store; loopback writes stay open besides.
    let developmentToken: (BearerToken, account: Address)
    /// CORS origins of every validator's server (the devnet's are open).
    let origins: [String]

    /// Validator i's key: keccak256("kramaa devnet validator " ‖ i), stable across runs.
    static func validatorKey(_ i: Int) -> Secp256k1.PrivateKey {
        try! Secp256k1.PrivateKey(Keccak256.hash(Array("kramaa devnet validator \(i)".utf8)))
    }

    func run() async throws {
        let keys = (0..<count).map(Self.validatorKey)
        let addresses = keys.map(\.publicKey.address)
        let document = genesis(addresses)
        // The genesis of a new network, kept so other nodes can join it (`kramaa init --genesis`).
        let genesisPath = directory.appendingPathComponent("genesis.json")
        if !Node.isInitialized(dataDirectory: directory.appendingPathComponent("validator-0")) {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try document.write(to: genesisPath)
        }
        var commands: [[String]] = []
        for i in 0..<count {
            let dir = directory.appendingPathComponent("validator-\(i)")
            let keyPath = dir.appendingPathComponent("node-key.json")
            if !Node.isInitialized(dataDirectory: dir) {
                do { try Node.initialize(dataDirectory: dir, genesisDocument: document) } catch { throw ValidationError(error.description) }
                _ = FileManager.default.createFile(atPath: keyPath.path, contents: Data(KeyFile(.secp256k1(keys[i])).encoded()),
                                               attributes: [.posixPermissions: 0o600])
            }
            var arguments = ["node", "--datadir", dir.path, "--rpc-port", String(rpcPort + i), "--p2p-port", String(p2pPort + i),
                             "--key", keyPath.path]
            for j in 0..<count where j != i { arguments += ["--bootnode", "\(addresses[j])@127.0.0.1:\(p2pPort + j)"] }
            if quiet { arguments.append("--quiet") }
            arguments += ["--dev-accounts", String(devAccounts), "--dev-open-writes", "--debug-api", "--cors"] + origins
            try CLIFailure.wrap {
                try TokenStore(directory: dir).install(developmentToken.0, account: developmentToken.account, roles: Set(AccessRole.allCases), label: "devnet")
            }
            commands.append(arguments)
        }
        Console.line("\(count) validators on loopback (genesis: \(genesisPath.path)):")
        for i in 0..<count {
            Console.line("  validator \(i) \(addresses[i]): JSON-RPC http://127.0.0.1:\(rpcPort + i), peers 127.0.0.1:\(p2pPort + i), data \(directory.path)/validator-\(i)")
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        let stopping = Failure()
        var processes: [Process] = []
        for (i, arguments) in commands.enumerated() {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.terminationHandler = { p in
                // Reported here only when it ends on its own while the devnet runs.
                if !stopping.stopRequested { Console.line("validator \(i) exited (status \(p.terminationStatus))") }
            }
            do { try process.run() } catch {
                for p in processes { p.terminate() }
                throw ValidationError("cannot start validator \(i): \(error)")
            }
            processes.append(process)
        }
        await stopping.waitForSignalOrFailure()
        stopping.stopRequested = true
        Console.line("stopping \(count) validators")
        for p in processes where p.isRunning { p.terminate() }
        for (i, p) in processes.enumerated() {
            p.waitUntilExit()
            Console.line("validator \(i) exited (status \(p.terminationStatus))")
        }
    }
}
