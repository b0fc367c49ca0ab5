import Foundation
import KramaaAPI
import KramaaAuth
import KramaaNode
import KramaaPrimitives

/// `kramaa devnet --validators N` (N > 1): N validator processes on loopback, each with its
/// own data folder, RPC port and peer port, all dialling each other; stopped together.
///
/// The validators never outlive the devnet: each one's standard input is a pipe whose write end
/// only the devnet holds, and a validator stops when it reads end of file there
/// (`kramaa node --stop-with-stdin`), which happens when the devnet ends in any way, kill -9
/// included. (PR_SET_PDEATHSIG would fire when the thread that started the child ends.)
struct DevnetNetwork {
    let settings: DevnetSettings
    let directory: URL
    let rpcPort: Int
    let p2pPort: Int
    let quiet: Bool
    let dev: DevAccounts
    let mqtt: MQTTOptions
    /// Installed in every validator's token store; loopback writes stay open besides.
    let developmentToken: (BearerToken, account: Address)
    /// CORS origins of every validator's server (the devnet's are open).
    let origins: [String]

    var count: Int { settings.validators }

    /// Validator i's key: keccak256("kramaa devnet validator " ‖ i), stable across runs.
    static func validatorKey(_ i: Int) -> Secp256k1.PrivateKey {
        try! Secp256k1.PrivateKey(Keccak256.hash(Array("kramaa devnet validator \(i)".utf8)))
    }

    /// The ports the validators will listen on (checked before anything is written).
    static func ports(count: Int, rpc: RPCOptions, p2pPort: Int) -> ListenPorts {
        var ports = ListenPorts()
        ports.add(host: rpc.host, first: rpc.port, flag: "--rpc-port", count: count, what: "JSON-RPC")
        ports.add(host: "127.0.0.1", first: p2pPort, flag: "--p2p-port", count: count, what: "peer")
        return ports
    }

    var addresses: [Address] { (0..<count).map { Self.validatorKey($0).publicKey.address } }

    func folder(_ i: Int) -> URL { directory.appendingPathComponent("validator-\(i)") }

    /// Creates what is missing (the shared genesis, each validator's folder and key), and gives
    /// each validator the development token.
    func prepare() throws {
        for i in 0..<count { try DataDirectoryLock.checkFree(folder(i)) }
        let document = settings.genesisDocument(dev, validators: addresses)
        // The genesis of a new network, kept so other nodes can join it (`kramaa init --genesis`).
        if !Node.isInitialized(dataDirectory: folder(0)) {
            try CLIFailure.wrap { try document.write(to: directory.appendingPathComponent("genesis.json")) }
        }
        for i in 0..<count where !Node.isInitialized(dataDirectory: folder(i)) {
            try CLIFailure.wrap { try Node.initialize(dataDirectory: folder(i), genesisDocument: document) }
            let keyPath = folder(i).appendingPathComponent("node-key.json")
            _ = FileManager.default.createFile(atPath: keyPath.path, contents: Data(KeyFile(.secp256k1(Self.validatorKey(i))).encoded()),
                                               attributes: [.posixPermissions: 0o600])
        }
        for i in 0..<count {
            try CLIFailure.wrap {
                try TokenStore(directory: folder(i)).install(developmentToken.0, account: developmentToken.account,
                                                             roles: Set(AccessRole.allCases), label: "devnet")
            }
        }
    }

    /// Validator i's command line.
    func arguments(_ i: Int) -> [String] {
        var arguments = ["node", "--datadir", folder(i).path, "--rpc-port", String(rpcPort + i), "--p2p-port", String(p2pPort + i),
                         "--key", folder(i).appendingPathComponent("node-key.json").path, "--stop-with-stdin"]
        for j in 0..<count where j != i { arguments += ["--bootnode", "\(addresses[j])@127.0.0.1:\(p2pPort + j)"] }
        if quiet { arguments.append("--quiet") }
        arguments += mqtt.arguments(validator: i, webSocketDefault: MQTTOptions.devnetWebSocketPort)
        return arguments + ["--dev-accounts", String(settings.accounts), "--dev-open-writes", "--debug-api", "--cors"] + origins
    }

    /// What the devnet prints once every validator answers: one labelled line per endpoint and
    /// fact, the dev accounts, how to stop. Other services add their lines here.
    func readyBlock() -> ReadyBlock {
        var endpoints = addresses.enumerated().map { i, address in
            (label: "validator \(i) \(address)", text: "JSON-RPC http://127.0.0.1:\(rpcPort + i)\(mqttText(i)), peers 127.0.0.1:\(p2pPort + i), data \(folder(i).path)")
        }
        endpoints.append((label: "genesis", text: "\(directory.appendingPathComponent("genesis.json").path) (`kramaa init --genesis` to join a node)"))
        return .devnet(settings: settings, directory: directory, endpoints: endpoints, dev: dev, token: developmentToken.0)
    }

    /// Validator i's MQTT endpoints as the ready block shows them (a port 0 is picked by the
    /// validator: its own MQTT line says which).
    func mqttText(_ i: Int) -> String {
        guard !mqtt.disabled else { return "" }
        let ws = mqtt.webSocketPort ?? MQTTOptions.devnetWebSocketPort
        func port(_ first: Int) -> String { first == 0 ? "(free port: see [v\(i)] MQTT line)" : String(first + i) }
        var text = ", MQTT mqtt://\(mqtt.host):\(port(mqtt.port)) ws://\(mqtt.host):\(port(ws))"
        if let tls = mqtt.tlsPort { text += " mqtts://\(mqtt.host):\(port(tls))" }
        return text
    }

    /// Runs the validators until `stopping` ends (SIGINT/SIGTERM: exit 0) or until one fails to start.
    func run(_ stopping: Failure) async throws {
        try prepare()
        let executable = Executable.url
        let ready = readyBlock()
        let output = DevnetOutput(count: count) { Console.line(ready.rendered) }
        let lifeline = try Self.pipe()
        defer { close(lifeline.read) }  // the write end stays open until the validators are told to stop
        let started = Date()
        var processes: [Process] = []
        for i in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments(i)
            let out = try Self.pipe(), err = try Self.pipe()
            process.standardInput = FileHandle(fileDescriptor: lifeline.read, closeOnDealloc: false)
            process.standardOutput = FileHandle(fileDescriptor: out.write, closeOnDealloc: false)
            process.standardError = FileHandle(fileDescriptor: err.write, closeOnDealloc: false)
            process.terminationHandler = { p in
                guard !stopping.stopRequested else { return }
                // Ended on its own while the devnet runs: said here; at start it stops the devnet.
                Console.line("validator \(i) exited (status \(p.terminationStatus))")
                if Date().timeIntervalSince(started) < 60 && !output.allValidatorsUp { stopping.raise() }
            }
            do { try process.run() } catch {
                for p in processes { p.terminate() }
                throw CLIFailure("cannot start validator \(i) (\(executable.path)): \(error)")
            }
            close(out.write)
            close(err.write)
            output.forward(index: i, stdout: out.read, stderr: err.read)
            processes.append(process)
        }
        await stopping.waitForSignalOrFailure()
        stopping.stopRequested = true
        Console.line("stopping \(count) validators")
        // Every validator runs with --stop-with-stdin: ending their standard input stops each
        // in order, one still starting as soon as it is up (a signal could reach it before it
        // takes signals, and kill it). One that never gets up is signalled after a while.
        close(lifeline.write)
        let deadline = ContinuousClock.now + .seconds(30)
        while processes.contains(where: \.isRunning), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        for p in processes where p.isRunning { p.terminate() }
        for (i, p) in processes.enumerated() {
            p.waitUntilExit()
            Console.line("validator \(i) exited (status \(p.terminationStatus))")
        }
        if stopping.raised { throw CLIFailure("a validator stopped before every validator was up; its output is above (lines [vN])") }
    }

    /// A pipe whose ends are closed in children (close-on-exec): a child gets only the end
    /// handed to it as its standard input or output (dup2 clears the flag there), so no
    /// validator holds another's lifeline open.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw CLIFailure("cannot make a pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
