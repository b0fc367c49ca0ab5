import ArgumentParser
import Foundation
import KramaaJSON
import KramaaMessaging
import KramaaPrimitives

/// `kramaa msg ...`: envelopes between devices over MQTT (send, listen), offline (sign, seal,
/// open; docs/MESSAGING.md) and raw HPKE, the surface the interoperability tests drive from an
/// independent implementation.
struct MsgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "msg", abstract: "Send and receive envelopes as a device; seal and open them offline; prove deliveries; raw HPKE (RFC 9180) for interoperability checks.",
        subcommands: [Send.self, Listen.self, Seal.self, Open.self, HPKESeal.self, HPKEOpen.self, ProveDelivery.self, VerifyDelivery.self])

    /// The suite options of a seal.
    struct Suite: ParsableArguments {
        @Option(help: "The recipient key's type: x25519 or p256-kem.") var kem: String = "x25519"
        @Option(help: "aes-128-gcm or chacha20-poly1305.") var aead: String = "chacha20-poly1305"
        @Option(name: .customLong("to-key"), help: "The recipient's agreement public key in hex (32 bytes X25519, 65 bytes P-256).")
        var toKey: String

        func recipientKey() throws -> AgreementPublicKey {
            do { return try AgreementPublicKey(type: try AgreementKeyType(parsing: kem), bytes: try Hex.decode(toKey)) } catch {
                throw ValidationError("--to-key/--kem: \(error)")
            }
        }

        func cipher() throws -> MessageAEAD {
            do { return try MessageAEAD(parsing: aead) } catch { throw ValidationError("--aead: \(error)") }
        }
    }

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a payload as a device and seal it to a recipient device's agreement key; writes the envelope's wire bytes.")
        @Option(name: .customLong("key"), help: "The sender device's signing key file.") var keyFile: String
        @Option(help: "The sender device (default: the key's address).") var sender: String?
        @Option(help: "The recipient device address.") var to: String
        @OptionGroup var suite: Suite
        @Option(help: "The sender's sequence number (strictly increasing).") var sequence: UInt64
        @Option(help: "Unix milliseconds (default: now).") var timestamp: UInt64?
        @Option(name: .customLong("content-type")) var contentType = "application/octet-stream"
        @Option(name: .customLong("in"), help: "The payload file.") var input: String
        @Option(name: .customLong("out"), help: "The envelope file to write.") var output: String
        @OptionGroup var chain: ChainIdOption
        @OptionGroup var node: NodeConnection
        func run() throws {
            let key = try readKeyFile(keyFile)
            let senderAddress = try sender.map { try AccountName.resolve($0, option: "--sender") } ?? key.publicKey.address
            let sealed = try CLIFailure.wrap {
                let inner = try SignedEnvelope.sign(try readFile(input), contentType: contentType, to: .device(try AccountName.resolve(to, option: "--to")),
                                                    from: senderAddress, key: key, sequence: sequence,
                                                    timestamp: timestamp ?? UInt64(Date().timeIntervalSince1970 * 1000), chainId: try chain.resolve(node))
                return try SealedEnvelope.seal(inner, to: try suite.recipientKey(), aead: try suite.cipher(), key: key)
            }
            guard FileManager.default.createFile(atPath: output, contents: Data(sealed.wireBytes)) else { throw ValidationError("cannot write \(output)") }
            let summary: JSON = ["envelopeHash": .string(sealed.envelopeHash.description), "size": .number(JSONNumber(sealed.wireBytes.count)),
                                 "sender": .string(senderAddress.checksummed), "sequence": .number(JSONNumber(sequence))]
            print(String(decoding: summary.serialized(), as: UTF8.self))
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a sealed envelope (or check a signed one) addressed to this device; prints it as JSON.")
        @Option(name: .customLong("agreement-key"), help: "The recipient's agreement key file (for a sealed envelope).") var agreementKeyFile: String?
        @Option(name: .customLong("sender-key"), help: "The sender's registered signing key as TYPE:HEX (e.g. ed25519:…, p256:02…).")
        var senderKey: String
        @Option(name: .customLong("in"), help: "The envelope file (wire bytes).") var input: String
        @OptionGroup var chain: ChainIdOption
        @OptionGroup var node: NodeConnection
        func run() throws {
            let parts = senderKey.split(separator: ":", maxSplits: 1)
            let publicKey: PublicKey
            do {
                guard parts.count == 2 else { throw ValidationError("expected TYPE:HEX") }
                publicKey = try PublicKey(type: try KeyType(parsing: parts[0]), bytes: try Hex.decode(String(parts[1])))
            } catch { throw ValidationError("--sender-key \(senderKey): \(error)") }
            let chainId = try chain.resolve(node)
            let envelope = try CLIFailure.wrap { try Envelope.parse(try readFile(input)) }
            let signed: SignedEnvelope
            switch envelope {
            case .signed(let e):
                try CLIFailure.wrap { try e.verify(chainId: chainId, senderKey: publicKey) }
                signed = e
            case .sealed(let e):
                guard let agreementKeyFile else { throw ValidationError("a sealed envelope needs --agreement-key") }
                let key = try AgreementKeyFiles.read(agreementKeyFile)
                signed = try CLIFailure.wrap { try e.open(with: key, chainId: chainId, senderKey: publicKey) }
            }
            let recipient: JSON = switch signed.recipient {
            case .device(let address): ["device": .string(address.checksummed)]
            case .topic(let topic): ["topic": .string(topic)]
            }
            let isSealed = if case .sealed = envelope { true } else { false }
            let out: JSON = ["sealed": .bool(isSealed), "envelopeHash": .string(envelope.envelopeHash.description),
                             "sender": .string(signed.origin.sender.checksummed), "senderKey": .string(signed.origin.senderKey.checksummed),
                             "sequence": .number(JSONNumber(signed.origin.sequence)), "timestamp": .number(JSONNumber(signed.origin.timestamp)),
                             "recipient": recipient, "contentType": .string(signed.contentType), "payload": .data(signed.payload)]
            print(String(decoding: out.serialized(), as: UTF8.self))
        }
    }

    struct HPKESeal: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hpke-seal", abstract: "RFC 9180 base mode, one message: prints {\"enc\", \"ciphertext\"} in hex.")
        @OptionGroup var suite: Suite
        @Option(help: "HPKE info in hex.") var info = ""
        @Option(help: "Associated data in hex.") var aad = ""
        @Option(name: .customLong("in"), help: "The plaintext file.") var input: String
        func run() throws {
            let (enc, ciphertext) = try CLIFailure.wrap {
                try HPKEBox.seal(try readFile(input), to: try suite.recipientKey(), aead: try suite.cipher(), info: try hex(info, "--info"), aad: try hex(aad, "--aad"))
            }
            let out: JSON = ["enc": .string(Hex.encode(enc, prefix: false)), "ciphertext": .string(Hex.encode(ciphertext, prefix: false))]
            print(String(decoding: out.serialized(), as: UTF8.self))
        }
    }

    struct HPKEOpen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hpke-open", abstract: "Open one RFC 9180 base-mode message with an agreement key file; prints the plaintext in hex.")
        @Option(name: .customLong("key"), help: "The agreement key file.") var keyFile: String
        @Option(help: "aes-128-gcm or chacha20-poly1305.") var aead: String = "chacha20-poly1305"
        @Option(help: "The encapsulated key in hex.") var enc: String
        @Option(help: "The ciphertext in hex.") var ciphertext: String
        @Option(help: "HPKE info in hex.") var info = ""
        @Option(help: "Associated data in hex.") var aad = ""
        func run() throws {
            let key = try AgreementKeyFiles.read(keyFile)
            let plaintext = try CLIFailure.wrap {
                try HPKEBox.open(encapsulatedKey: try hex(enc, "--enc"), ciphertext: try hex(ciphertext, "--ciphertext"), with: key,
                                 aead: try MessageAEAD(parsing: aead), info: try hex(info, "--info"), aad: try hex(aad, "--aad"))
            }
            print(Hex.encode(plaintext, prefix: false))
        }
    }
}

/// The bytes of the file at `path`.
private func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return Array(data)
}

private func hex(_ text: String, _ option: String) throws -> [UInt8] {
    do { return try Hex.decode(text) } catch { throw ValidationError("\(option): \(error)") }
}
