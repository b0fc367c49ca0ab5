import ArgumentParser
import Foundation
import KramaaJSON

/// `kramaa demo irrigation|oil-platform|spare-part|fleet`: the four scenarios of autonomous
/// device coordination, each run on its own by device agents and contracts, narrated step by
/// step with the transaction and block of each (docs/DEMOS.md).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run a device-coordination scenario on a devnet, narrating each step with its transaction and block.",
        discussion: """
            Without --rpc, starts a devnet of 4 validator processes in --workdir (fresh) and stops it at the end; with \
            --rpc and --mqtt, plays on that devnet (its dev accounts must be funded: the organisations act through them). \
            Exits 0 when every step, including the refusals each scenario provokes, went as the scenario requires.
            """)

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case irrigation, oilPlatform = "oil-platform", spareParts = "spare-part", fleet
    }

    @Argument(help: "irrigation, oil-platform, spare-part or fleet.") var scenario: Scenario
    @Option(name: .customLong("rpc"), help: "A running devnet's JSON-RPC URL (default: start one).") var rpcURL: String?
    @Option(name: .customLong("mqtt"), help: "That devnet's MQTT URL (with --rpc).") var mqttURL: String?
    @Option(help: "Where keys, agent state and a started devnet are kept (default: a new temporary folder).") var workdir: String?
    @Option(name: .customLong("rpc-port"), help: "First JSON-RPC port of a started devnet (MQTT on --mqtt-port; peers from 30303).")
    var rpcPort = 8545
    @Option(name: .customLong("mqtt-port"), help: "First MQTT port of a started devnet.") var mqttPort = 1883
    @Option(name: .customLong("mqtt-ws-port"), help: "First MQTT-over-WebSocket port of a started devnet.") var mqttWebSocketPort = 8083
    @Option(name: .customLong("p2p-port"), help: "First peer port of a started devnet.") var p2pPort = 30303
    @Flag(help: "One JSON object per step instead of text.") var json = false

    func validate() throws {
        if (rpcURL == nil) != (mqttURL == nil) { throw ValidationError("give --rpc and --mqtt together (or neither, to start a devnet)") }
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: workdir ?? NSTemporaryDirectory() + "kramaa-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let narrator = DemoNarrator(json: json)
        var devnet: DemoDevnet?
        if rpcURL == nil {
            narrator.section("starting a devnet of 4 validator processes in \(directory.path)/devnet")
            devnet = try await DemoDevnet.start(in: directory, ports: [
                "--rpc-port": rpcPort, "--mqtt-port": mqttPort, "--mqtt-ws-port": mqttWebSocketPort, "--p2p-port": p2pPort])
        }
        defer { devnet?.stop() }
        let stage = try DemoStage(rpcURL: rpcURL ?? devnet!.rpcURL, mqttURL: mqttURL ?? devnet!.mqttURL, directory: directory,
                                  narrator: narrator, devAccounts: 10)
        do {
            switch scenario {
            case .irrigation: try await IrrigationDemo(stage: stage).run()
            case .oilPlatform: try await OilPlatformDemo(stage: stage).run()
            case .spareParts: try await SparePartDemo(stage: stage).run()
            case .fleet: try await FleetDemo(stage: stage).run()
            }
        } catch {
            await stage.stopAgents()
            narrator.section("the scenario failed")
            throw CLIFailure("demo \(scenario.rawValue): \(error)")
        }
        await stage.stopAgents()
        narrator.section("done: \(scenario.rawValue) ran on its own, every step above is on chain")
    }
}

/// A devnet of 4 validator processes started for a demo (`kramaa devnet --fresh` from this
/// binary), its output in WORKDIR/devnet.log.
struct DemoDevnet {
    let process: Process
    let rpcURL: String
    let mqttURL: String

    static func start(in directory: URL, ports: [String: Int]) async throws -> DemoDevnet {
        let log = directory.appendingPathComponent("devnet.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["devnet", "--fresh", "--quiet", "--validators", "4", "--datadir", directory.appendingPathComponent("devnet").path,
                            ] + ports.sorted { $0.key < $1.key }.flatMap { [$0.key, String($0.value)] }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.contains("==== kramaa devnet ready") { break }
            guard process.isRunning else { throw CLIFailure("the devnet exited \(process.terminationStatus) at start:\n\(text.suffix(2000))") }
            guard Date() < deadline else {
                process.terminate()
                throw CLIFailure("the devnet was not ready within 90 s (see \(log.path))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return DemoDevnet(process: process, rpcURL: "http://127.0.0.1:\(ports["--rpc-port"]!)", mqttURL: "mqtt://127.0.0.1:\(ports["--mqtt-port"]!)")
    }

    /// SIGTERM, then waits for the validators to stop.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
