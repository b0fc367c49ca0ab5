import ArgumentParser
import Foundation
import KramaaDeviceMessaging
import KramaaJSON
import KramaaMessaging
import KramaaMQTTClient
import KramaaPrimitives

/// How `msg send` and `msg listen` reach the network as a device: its key file, the node's
/// MQTT server, and the node's REST API (the device registry) through `--rpc`.
struct DeviceSession: ParsableArguments {
    @Option(name: .customLong("key"), help: "The device's signing key file; its sequence numbers and replay memory are kept beside it in KEY.state (0600).")
    var keyFile: String
    @Option(help: "The device address (default: the key's own address, the device's name until its key is rotated).")
    var device: String?
    @Option(name: .customLong("mqtt"), help: "The node's MQTT server: mqtt://host:port or mqtts://host:port.")
    var mqtt = "mqtt://127.0.0.1:1883"
    @Option(name: .customLong("mqtt-ca"), help: "With mqtts://: the CA certificates (PEM) to trust.")
    var caFile: String?
    @Flag(help: "Authenticate with the MQTT 5 challenge (kramaa-device-v1) instead of a token.")
    var challenge = false
    @OptionGroup var chain: ChainIdOption
    @OptionGroup var node: NodeConnection

    /// The messenger for this device, not yet connected.
    func messenger(agreementKeyFile: String? = nil) throws -> DeviceMessenger {
        let key = try readKeyFile(keyFile)
        let address = try device.map { try AccountName.resolve($0, option: "--device") } ?? key.publicKey.address
        let endpoint: MQTTEndpoint
        do { endpoint = try MQTTEndpoint(parsing: mqtt) } catch { throw ValidationError("--mqtt: \(error)") }
        let directory = try CLIFailure.wrap { try RESTDeviceDirectory(url: node.url) }
        var c = DeviceMessenger.Configuration(endpoint: endpoint, key: key, device: address, chainId: try chain.resolve(node),
                                              state: DeviceStateFile(besideKey: keyFile))
        c.tlsCAFile = caFile
        if challenge { c.authentication = .challenge }
        c.agreementKey = try agreementKeyFile.map(AgreementKeyFiles.read)
        return DeviceMessenger(configuration: c, directory: directory)
    }
}

extension MsgCommand {
    /// `kramaa msg send`: one envelope to another device's inbox.
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signed (or, with --seal, sealed) envelope to a device's inbox over MQTT; prints its hash last.",
            discussion: "The recipient must be a device of the sender's organisation. The envelope hash is keccak256 of its wire bytes.")
        @OptionGroup var session: DeviceSession
        @Option(help: "The recipient device address.") var to: String
        @Flag(help: "Seal the payload to the recipient's registered agreement key (HPKE): only the recipient can read it.")
        var seal = false
        @Option(name: .customLong("content-type"), help: "MIME type (default: text/plain for TEXT, application/octet-stream for --file).")
        var contentType: String?
        @Option(help: "Send the bytes of this file instead of TEXT.") var file: String?
        @Argument(help: "The text to send.") var text: String?

        func validate() throws {
            guard (text == nil) != (file == nil) else { throw ValidationError("give either TEXT or --file F") }
        }

        func run() async throws {
            let recipient = try AccountName.resolve(to, option: "--to")
            let payload: [UInt8]
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                payload = Array(data)
            } else {
                payload = Array((text ?? "").utf8)
            }
            let messenger = try session.messenger()
            defer { Task { await messenger.close() } }
            do {
                try await messenger.connect()
                let sent = try await messenger.send(payload, contentType: contentType ?? (file == nil ? "text/plain" : "application/octet-stream"),
                                                    to: recipient, seal: seal)
                await messenger.close()
                let summary: JSON = ["topic": .string(sent.topic), "sequence": .number(JSONNumber(sent.sequence)), "sealed": .bool(sent.sealed)]
                print(String(decoding: summary.serialized(), as: UTF8.self))
                print(sent.envelopeHash.description)
            } catch {
                throw CLIFailure("\(error)")
            }
        }
    }

    /// `kramaa msg listen`: this device's inbox, verified.
    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive envelopes sent to this device: prints each verified one as a JSON line; forged and replayed ones go to stderr.",
            discussion: "Each line: {sender, sequence, timestamp, contentType, payload (text, or hex with payloadHex), sealed, envelopeHash}.")
        @OptionGroup var session: DeviceSession
        @Option(name: .customLong("agreement-key"), help: "This device's agreement key file, to open sealed envelopes.")
        var agreementKeyFile: String?
        @Option(help: "Stop after this many verified envelopes (default: run until interrupted).") var count: Int?

        func run() async throws {
            if let count, count < 1 { throw ValidationError("--count must be at least 1") }
            let messenger = try session.messenger(agreementKeyFile: agreementKeyFile)
            let inbox: AsyncStream<Result<DeviceMessenger.Received, DeviceMessenger.Refused>>
            do {
                try await messenger.connect()
                inbox = try await messenger.listen()
            } catch {
                throw CLIFailure("\(error)")
            }
            // Subscribed: tests and scripts wait for this line before sending.
            FileHandle.standardError.write(Data("listening on \(DeviceMessenger.inbox(of: messenger.configuration.device))\n".utf8))
            var received = 0
            for await item in inbox {
                switch item {
                case .success(let m):
                    // Unbuffered: a line per envelope as it arrives, for whoever reads the pipe.
                    FileHandle.standardOutput.write(Data(Self.line(m).serialized() + [0x0a]))
                    received += 1
                case .failure(let refused):
                    FileHandle.standardError.write(Data("refused envelope \(refused.envelopeHash) on \(refused.topic): \(refused.error)\n".utf8))
                }
                if let count, received >= count { break }
            }
            await messenger.close()
        }

        static func line(_ m: DeviceMessenger.Received) -> JSON {
            var out: JSONObject = ["sender": .string(m.sender.checksummed), "sequence": .number(JSONNumber(m.sequence)),
                                   "timestamp": .number(JSONNumber(m.timestamp)), "contentType": .string(m.contentType), "sealed": .bool(m.sealed)]
            if let text = String(validating: m.payload, as: UTF8.self), m.contentType.hasPrefix("text/") || m.contentType.contains("json") {
                out["payload"] = .string(text)
            } else {
                out["payloadHex"] = .string(Hex.encode(m.payload, prefix: false))
            }
            out["envelopeHash"] = .string(m.envelopeHash.description)
            return .object(out)
        }
    }
}
