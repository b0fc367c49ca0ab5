import ArgumentParser
import Foundation
import KramaaJSON
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// A chain id from `--chain-id`, or else from the node (`eth_chainId`).
struct ChainIdOption: ParsableArguments {
    @Option(name: .customLong("chain-id"), help: "The chain id; default: the connected node's.") var chainId: UInt64?

    func resolve(_ node: NodeConnection) throws -> UInt64 { try chainId ?? node.chainId() }
}

extension DeviceCommand {
    /// `kramaa device agreement-key set|show|revoke`.
    struct AgreementKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agreement-key", abstract: "A device's key-agreement key: the HPKE key envelopes are sealed to (docs/MESSAGING.md).",
            subcommands: [Set.self, Show.self, Revoke.self])

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Set or rotate it: the device's signing key authorises it, the agreement key proves possession.",
                discussion: "Make the key with `kramaa keys new --type x25519|p256-kem --out agreement.json`.")
            @Argument var device: String
            @Option(name: .customLong("agreement-key"), help: "The agreement key file.") var agreementKeyFile: String
            @Option(name: .customLong("key"), help: "The device's current signing key file (it signs the authorisation).") var keyFile: String
            @OptionGroup var actor: Actor
            @OptionGroup var connection: PlatformConnection
            func run() throws {
                let address = try AccountName.resolve(device, option: "device")
                let key = try AgreementKeyFiles.read(agreementKeyFile), signer = try readKeyFile(keyFile)
                let chainId = try connection.node.chainId()
                let body: JSONObject = [
                    "keyType": .string(key.type.name), "publicKey": .data(key.publicKey.bytes),
                    "possessionProof": .data(AgreementKeyProof.prove(key, device: address, chainId: chainId)),
                    "authorization": .data(AgreementKeyProof.authorize(key.publicKey, device: address, chainId: chainId, with: signer)),
                ]
                _ = try connection.rest("POST", "/devices/\(address)/agreement-key", try actor.signing(body))
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show it, and whether envelopes may be sealed to it (usable).")
            @Argument var device: String
            @OptionGroup var connection: PlatformConnection
            func run() throws { _ = try connection.rest("GET", "/devices/\(try AccountName.resolve(device, option: "device"))/agreement-key") }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke it (device managers of the device's organisation).")
            @Argument var device: String
            @OptionGroup var actor: Actor
            @OptionGroup var connection: PlatformConnection
            func run() throws {
                _ = try connection.rest("POST", "/devices/\(try AccountName.resolve(device, option: "device"))/agreement-key/revoke", try actor.signing([:]))
            }
        }
    }

    /// `kramaa device mqtt-token`: prints an MQTT password for the device.
    struct MQTTToken: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mqtt-token", abstract: "Print a short-lived MQTT password (kmt1.…) signed by the device's key.",
            discussion: "Connect with the device address as the MQTT user name and this token as the password (docs/MESSAGING.md).")
        @Option(name: .customLong("key"), help: "The device's current signing key file.") var keyFile: String
        @Option(help: "The device address (default: the key's own address, the device's name until its key is rotated).") var device: String?
        @Option(help: "Seconds the token is valid.") var ttl: UInt64 = 3600
        @OptionGroup var chain: ChainIdOption
        @OptionGroup var node: NodeConnection
        func run() throws {
            let key = try readKeyFile(keyFile)
            guard ttl > 0 else { throw ValidationError("--ttl must be at least 1 second") }
            let address = try device.map { try AccountName.resolve($0, option: "--device") } ?? key.publicKey.address
            let token = DeviceToken.make(key: key, device: address, chainId: try chain.resolve(node), ttl: ttl,
                                         now: UInt64(Date().timeIntervalSince1970))
            print(token.text)
        }
    }
}
