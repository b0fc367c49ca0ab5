import ArgumentParser
import Foundation
import KramaaAgent
import KramaaDeviceMessaging
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// `kramaa agent`: runs beside a device (a Linux gateway, or the device itself) as the device.
/// It signs the device's readings, submits them to the readings contract and sends them to
/// other devices, listens to its inbox, and acts by the rules of its configuration, with no
/// human in the loop (docs/AGENT.md). One JSON line per thing it does, on standard output.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Run a device's agent: signed readings out, messages in, rules that act (docs/AGENT.md).",
        discussion: "Writes one JSON line per reading, message and action. Transactions are the device's own (type 0x4b), paid by --sponsor-key when given.")
    @Option(name: .customLong("config"), help: "The agent's configuration: readings and rules (docs/AGENT.md).") var configFile: String
    @Option(name: .customLong("sponsor-key"), help: "The secp256k1 key file of the account that pays the device's gas (its organisation's).")
    var sponsorKeyFile: String?
    @Option(help: "Stop after this many seconds (default: until stopped).") var duration: Double?
    @OptionGroup var session: DeviceSession

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: configFile) else { throw ValidationError("cannot read \(configFile)") }
        let config: AgentConfiguration
        do { config = try AgentConfiguration(parsing: Array(data)) } catch { throw ValidationError("\(configFile): \(error)") }
        let key = try readKeyFile(session.keyFile)
        let signer = try ContractClient.Signer(key, sponsor: try sponsorKeyFile.map(readSecp256k1Key))
        let messenger = try session.messenger()
        do { try await messenger.connect() } catch { throw CLIFailure("cannot connect to \(session.mqtt) as the device: \(error)") }
        let agent = AgentRuntime(config: config, key: key, messenger: messenger, chain: ChainSender(client: try session.node.contracts(), signer: signer),
                                 state: DeviceStateFile(besideKey: session.keyFile), vouchers: VoucherFile(besideKey: session.keyFile))
        await agent.run(for: duration)
        await messenger.close()
    }
}

/// The device's transactions, one at a time (each waits for its receipt; nonces stay in order),
/// and its reads of the chain (on their own queue, so a read never waits for a receipt), off the
/// cooperative threads (the JSON-RPC client blocks).
final class ChainSender: @unchecked Sendable {
    let client: ContractClient
    let signer: ContractClient.Signer
    private let queue = DispatchQueue(label: "kramaa.agent.chain")
    private let reads = DispatchQueue(label: "kramaa.agent.chain.reads")

    init(client: ContractClient, signer: ContractClient.Signer) {
        self.client = client
        self.signer = signer
    }

    func send(_ contract: Address, _ data: [UInt8], value: UInt256 = .zero) async -> Result<JSON, CLIFailure> {
        await run(on: queue) { try self.client.send(contract, data, signer: self.signer, value: value) }
    }

    /// A JSON-RPC read (`eth_blockNumber`, `eth_getLogs`, …).
    func query(_ method: String, _ params: [JSON] = []) async -> Result<JSON, CLIFailure> {
        await run(on: reads) { try self.client.node.call(method, params) }
    }

    private func run(on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> JSON) async -> Result<JSON, CLIFailure> {
        await withCheckedContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(CLIFailure("\(error)")))
                }
            }
        }
    }
}
