import KramaaJSON
import ArgumentParser
import Foundation
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// Options every platform command shares: the node and the credentials shown to it.
struct PlatformConnection: ParsableArguments {
    @OptionGroup var node: NodeConnection

    /// Calls `/api/v1{path}`; prints the answer as JSON; a problem answer becomes the error.
    func rest(_ method: String, _ path: String, _ body: JSON? = nil) throws -> JSON {
        try http(method, "/api/v1" + path, body: body?.serialized())
    }

    /// Calls `path` on the node; prints the answer as JSON; a problem answer becomes the error.
    func http(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
              headers: [(String, String)] = []) throws -> JSON {
        let client = try node.client()
        let (status, bytes) = try client.request(method, path: path, body: body, contentType: contentType, headers: headers)
        guard let answer = try? JSON.parse(bytes) else { throw ClientError("the node answered HTTP \(status) without JSON") }
        guard (200..<300).contains(status) else {
            throw ClientError("\(answer["title"]?.stringValue ?? "HTTP \(status)"): \(answer["detail"]?.stringValue ?? answer.description)")
        }
        print(String(decoding: answer.serialized(), as: UTF8.self))
        return answer
    }
}

/// The acting account: one whose key the node holds (a dev account on the devnet). Without
/// --from the node uses the account the token is bound to.
struct Actor: ParsableArguments {
    @Option(help: "The acting account (the node must hold its key): 0x… or dev0, dev1, …; default: the token's account.")
    var from: String?

    /// The address --from names, if given.
    func address() throws -> Address? { try from.map { try AccountName.resolve($0, option: "--from") } }

    /// `body` with `"from"` set when --from is given (without it the node uses the token's account).
    func signing(_ body: JSONObject) throws -> JSON {
        var body = body
        if let from = try address() { body["from"] = .string(from.description) }
        return .object(body)
    }
}

/// `kramaa org ...`
struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "org", abstract: "Organisations, members and roles.",
                                                    subcommands: [Create.self, Show.self, Member.self, Messaging.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an organisation; the acting account becomes its admin.")
        @Option var name: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("POST", "/organizations", try actor.signing(["name": .string(name)])) }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organisation.")
        @Argument var id: UInt64
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/organizations/\(id)") }
    }

    struct Member: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a member's roles, or set them with --roles (admins only).")
        @Argument var id: UInt64
        @Argument var account: String
        @Option(help: "Comma-separated: \(OrganizationRoles.named.map(\.0).joined(separator: ", ")); empty removes.")
        var roles: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let member = try AccountName.resolve(account, option: "account")
            guard let roles else { _ = try connection.rest("GET", "/organizations/\(id)/members/\(member)"); return }
            let list = roles.split(separator: ",").map { JSON.string(String($0).trimmingCharacters(in: .whitespaces)) }
            _ = try connection.rest("PUT", "/organizations/\(id)/members/\(member)", try actor.signing(["roles": .array(list)]))
        }
    }

    struct Messaging: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what organisation PEER's devices may do on MQTT with organisation ID's devices and topics, or set it with --rights (admins of ID).")
        @Argument var id: UInt64
        @Argument var peer: UInt64
        @Option(help: "Comma-separated: publish, subscribe; 'none' revokes.") var rights: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            guard let rights else { _ = try connection.rest("GET", "/organizations/\(id)/messaging/\(peer)"); return }
            let list = rights == "none" ? [] : rights.split(separator: ",").map { JSON.string(String($0).trimmingCharacters(in: .whitespaces)) }
            _ = try connection.rest("PUT", "/organizations/\(id)/messaging/\(peer)", try actor.signing(["rights": .array(list)]))
        }
    }
}

/// `kramaa device ...`
struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "Devices, their keys and status.",
                                                    subcommands: [Register.self, Show.self, Status.self, Rotate.self, Key.self, AgreementKey.self, MQTTToken.self, Policy.self, DeviceBridgeCommand.self])

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a device by its key file's public key (`kramaa keys new`).")
        @Option var org: UInt64
        @Option(name: .customLong("key"), help: "The device's key file (only its public key is sent).") var keyFile: String
        @Option var model = ""
        @Option(name: .customLong("firmware-hash"), help: "32-byte hex digest of the firmware.") var firmwareHash: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let key = try readKeyFile(keyFile).publicKey
            var body: JSONObject = ["organization": .number(JSONNumber(org)), "keyType": .string(key.type.rawValue),
                                    "publicKey": .data(key.bytes), "model": .string(model)]
            if let firmwareHash { body["firmwareHash"] = .string(firmwareHash) }
            _ = try connection.rest("POST", "/devices", try actor.signing(body))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a device.")
        @Argument var device: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/devices/\(device)") }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a device's status: active, suspended or revoked (final).")
        @Argument var device: String
        @Argument var status: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            _ = try connection.rest("POST", "/devices/\(device)/status", try actor.signing(["status": .string(status)]))
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rotate a device's key; the new key file signs the proof of possession.")
        @Argument var device: String
        @Option(name: .customLong("new-key"), help: "The new key file.") var newKeyFile: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let address: Address
            do { address = try Address(hex: device) } catch { throw ValidationError("\(device): \(error)") }
            let key = try readKeyFile(newKeyFile)
            let chainId = try connection.node.chainId()
            let proof = key.signature(for: DeviceRegistry.rotationMessage(chainId: chainId, device: address, newKey: key.publicKey))
            let body: JSONObject = ["keyType": .string(key.type.rawValue), "publicKey": .data(key.publicKey.bytes), "proof": .data(proof)]
            _ = try connection.rest("POST", "/devices/\(device)/key", try actor.signing(body))
        }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a device key, and whether it was valid at --at-block.")
        @Argument var key: String
        @Option(name: .customLong("at-block")) var atBlock: UInt64?
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/keys/\(key)" + (atBlock.map { "?atBlock=\($0)" } ?? "")) }
    }
}

/// `kramaa asset ...`
struct AssetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "asset", abstract: "Assets: ERC-721 tokens named by GS1 EPCs.",
                                                    subcommands: [Mint.self, Show.self, Act.self])

    struct Mint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint an asset (manufacturers of the organisation).")
        @Option var org: UInt64
        @Option(help: "Pure-identity EPC URI (urn:epc:id:sgtin:...).") var epc: String
        @Option(help: "The first owner (default: the acting account).") var owner: String?
        @Option(name: .customLong("metadata-hash")) var metadataHash: String?
        @Option(name: .customLong("token-uri")) var tokenURI: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            var body: JSONObject = ["organization": .number(JSONNumber(org)), "epc": .string(epc)]
            if let owner { body["owner"] = .string(try AccountName.resolve(owner, option: "--owner").description) }
            if let metadataHash { body["metadataHash"] = .string(metadataHash) }
            if let tokenURI { body["tokenURI"] = .string(tokenURI) }
            _ = try connection.rest("POST", "/assets", try actor.signing(body))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an asset by token id, EPC URI or Digital Link.")
        @Argument var asset: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/assets/" + escape(asset)) }
    }

    struct Act: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "do", abstract: "transfer TO | custody TO | status recalled|destroyed|consumed | bind-device DEVICE | bind-tag UID")
        @Argument var asset: String
        @Argument var action: String
        @Argument var value: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let (path, field): (String, String) = switch action {
            case "transfer": ("transfer", "to")
            case "custody": ("custody", "to")
            case "status": ("status", "status")
            case "bind-device": ("devices", "device")
            case "bind-tag": ("tags", "uid")
            default: throw ValidationError("unknown action \(action): transfer, custody, status, bind-device or bind-tag")
            }
            let argument = field == "to" ? try AccountName.resolve(value, option: action).description : value
            _ = try connection.rest("POST", "/assets/\(escape(asset))/\(path)", try actor.signing([field: .string(argument)]))
        }
    }
}

/// Percent-encodes a path segment or query component (keeps unreserved characters and `:`).
private func escape(_ segment: String) -> String {
    segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? segment
}

/// Any key file (`kramaa keys new`): the device's key or a new key.
func readKeyFile(_ path: String) throws -> SigningKey {
    do { return try KeyFile.read(path: path).key } catch { throw ValidationError("\(path): \(error)") }
}

/// `kramaa event ...`: EPCIS 2.0 capture and query through the node's `/epcis` interface.
struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "event", abstract: "Capture and query EPCIS 2.0 events.",
                                                    subcommands: [Capture.self, Query.self, Job.self, History.self])

    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Capture an EPCIS document (JSON-LD file); prints the capture job.")
        @Argument(help: "The EPCISDocument file.") var file: String
        @Option(help: "The organisation the events are recorded for.") var org: UInt64
        @Option(name: .customLong("error-behaviour"), help: "rollback (default) or proceed.") var errorBehaviour: String?
        @Option(help: "Sign as this key file instead of an account the node holds: a device's P-256/Ed25519 key sends a device transaction (type 0x4b) from the device's own key.")
        var key: String?
        @Option(name: .customLong("sponsor-key"), help: "With a device --key: the secp256k1 key file of the account that pays the gas.")
        var sponsorKey: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            guard let body = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            if let key { return try captureSigned(Array(body), keyFile: key) }
            var headers = [("Kramaa-Organization", String(org))]
            if let from = try actor.address() { headers.append(("Kramaa-From", from.description)) }
            if let errorBehaviour { headers.append(("GS1-Capture-Error-Behaviour", errorBehaviour)) }
            let job = try connection.http("POST", "/epcis/capture", body: Array(body), contentType: "application/ld+json", headers: headers)
            if job["success"]?.boolValue != true { throw ExitCode(1) }
        }

        /// The document sent on chain by the key holder itself (the provenance contract checks
        /// that a device key is its device's current one, or that an account is a member):
        /// prints the transaction's hash, block and sender.
        private func captureSigned(_ document: [UInt8], keyFile: String) throws {
            let signer = try ContractClient.Signer(readKeyFile(keyFile), sponsor: try sponsorKey.map(readSecp256k1Key))
            let receipt = try CLIFailure.wrap {
                try connection.node.contracts().send(ProvenanceRegistry.address, ProvenanceRegistry.Method.capture.callData([.uint(UInt256(org)), .bytes(document)]),
                                                     signer: signer)
            }
            let answer: JSON = ["transactionHash": receipt["transactionHash"] ?? .null, "blockNumber": receipt["blockNumber"] ?? .null,
                                "sender": .string(signer.sender.checksummed), "type": receipt["type"] ?? .null]
            print(String(decoding: answer.serialized(), as: UTF8.self))
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query events with EPCIS query parameters, e.g. MATCH_epc=urn:epc:id:sgtin:… EQ_bizStep=shipping.")
        @Argument(help: "NAME=VALUE query parameters.") var parameters: [String] = []
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let query = parameters.map { p -> String in
                let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.map(escape).joined(separator: "=")
            }.joined(separator: "&")
            _ = try connection.http("GET", "/epcis/events" + (query.isEmpty ? "" : "?" + query))
        }
    }

    struct Job: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a capture job.")
        @Argument var id: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.http("GET", "/epcis/capture/\(id)") }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An asset's events, each with what proves it.")
        @Argument var asset: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/assets/\(escape(asset))/history") }
    }
}
