import KramaaJSON
import ArgumentParser
import Foundation
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaTags

/// `kramaa tag ...`: NFC tags and signed QR codes, through a node's HTTP API.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Register NTAG 424 DNA tags, bind them to assets, verify taps, make signed QR codes.",
        discussion: """
            A tag's SDM keys are stored only by the node it is registered with (sealed at rest in \
            its data directory); the chain records which asset a tag UID belongs to (bindTag). \
            Taps are verified at GET /verify on that node.
            """,
        subcommands: [Register.self, Show.self, Bind.self, Verify.self, QR.self, NodeKey.self])

    typealias Connection = NodeConnection

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a tag's UID and SDM keys on the node (POST /api/v1/tags).")
        @Option(help: "The tag UID (14 hex digits).") var uid: String
        @Option(help: "aes or lrp.") var mode = "aes"
        @Option(name: .customLong("meta-key"), help: "SDMMetaReadKey (32 hex digits); omit when UID and counter are mirrored in plain.")
        var metaKey: String?
        @Option(name: .customLong("file-key"), help: "SDMFileReadKey (32 hex digits).") var fileKey: String
        @Option(name: .customLong("mac-input-start"),
                help: "Where SDMMACInputOffset points: empty, piccData, encFileData, conventional, afterScheme or a URL offset.")
        var macInputStart = "conventional"
        @Option(name: .customLong("url-layout"),
                help: "The URL the tag is programmed with, e.g. 'https://brand.example/t?e={picc}&d={enc:32}{mac}': taps are read by position ({picc}, {uid}, {ctr}, {enc:N}, {mac}).")
        var urlLayout: String?
        @Option(name: [.customLong("org"), .customLong("organisation")], help: "The on-chain organization id that owns the tag.")
        var organisation: UInt64
        @OptionGroup var actor: Actor
        @OptionGroup var connection: Connection

        func run() throws {
            var body: JSONObject = ["uid": .string(uid), "mode": .string(mode), "fileReadKey": .string(fileKey),
                                    "macInputStart": .string(macInputStart), "organization": .number(JSONNumber(organisation))]
            if let metaKey { body["metaReadKey"] = .string(metaKey) }
            if let urlLayout { body["urlLayout"] = .string(urlLayout) }
            let (status, answer) = try connection.client().request("POST", path: TagEndpoints.tagsPath, body: try actor.signing(body).serialized())
            try TagCommand.printAnswer(status: status, body: answer, expecting: 201)
        }
    }

    struct NodeKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "node-key",
            abstract: "Print (making it if needed) this node's tag replication public key, for the organisation's other nodes' --tag-peer.")
        @Option(help: "The node's data directory.") var datadir: String

        func run() throws {
            let identity = try CLIFailure.wrap { try TagReplicationIdentity.load(directory: URL(fileURLWithPath: datadir)) }
            print(identity.publicKeyHex)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a tag's registration (GET /api/v1/tags/UID; never its keys).")
        @Argument(help: "The tag UID.") var uid: String
        @OptionGroup var connection: Connection

        func run() throws {
            let (status, answer) = try connection.client().request("GET", path: TagEndpoints.tagsPath + "/" + uid)
            try TagCommand.printAnswer(status: status, body: answer, expecting: 200)
        }
    }

    struct Bind: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bind a tag UID to an asset on chain (bindTag; a manufacturer of the asset's organisation signs).")
        @Option(help: "The tag UID (14 hex digits).") var uid: String
        @Option(help: "The asset's EPC URI (urn:epc:id:...).") var epc: String
        @Option(help: "The signer's secp256k1 key file.") var key: String
        @OptionGroup var connection: Connection

        func run() throws {
            let uidBytes: [UInt8]
            do { uidBytes = try TagUID(hex: uid).bytes } catch { throw ValidationError("--uid: \(error)") }
            let token: UInt256
            do { token = try AssetRegistry.tokenId(epc: epc).0 } catch { throw ValidationError("--epc: \(error)") }
            let data = AssetRegistry.Method.bindTag.callData([.uint(token), .fixedBytes(AssetRegistry.tagWord(uidBytes))])
            let receipt = try ContractClient(node: try connection.client()).send(AssetRegistry.address, data, key: try readSecp256k1Key(key))
            print("tag \(uid.uppercased()) bound to \(epc) (token \(Hex.encode(token.bigEndianBytes))) in block \(receipt["blockNumber"]?.stringValue ?? "?")")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a tag URL (or a /verify?qr= URL) and print the node's JSON answer.",
            discussion: "A URL whose path is /verify is asked as it is; any other tag URL is sent to --rpc as /verify?url=…. Exit status 0 when genuine, 1 for any other verdict.")
        @Argument(help: "The URL the tag (or QR code) gave.") var url: String
        @OptionGroup var connection: Connection

        func run() throws {
            guard let parsed = URLComponents(string: url) else { throw ValidationError("not a URL: \(url)") }
            let client: NodeClient
            let path: String
            if parsed.path == TagEndpoints.verifyPath, let scheme = parsed.scheme, scheme.hasPrefix("http"), let host = parsed.host {
                client = try NodeClient("\(scheme)://\(host)\(parsed.port.map { ":\($0)" } ?? "")")
                path = parsed.percentEncodedPath + (parsed.percentEncodedQuery.map { "?" + $0 } ?? "")
            } else {
                client = try connection.client()
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                path = TagEndpoints.verifyPath + "?url=" + (url.addingPercentEncoding(withAllowedCharacters: allowed) ?? url)
            }
            let (status, answer) = try client.request("GET", path: path)
            try TagCommand.printAnswer(status: status, body: answer, expecting: 200)
            if (try? JSON.parse(answer))?["verdict"]?.stringValue != "genuine" { throw ExitCode(1) }
        }
    }

    struct QR: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a signed QR URL for an item without a tag (/verify?qr=…).",
            discussion: "The payload carries the EPC, the issue time, a random nonce and the signer's public key; the node accepts it as genuine when the signer is a manufacturer of the asset's organisation.")
        @Option(help: "The item's EPC URI (urn:epc:id:...).") var epc: String
        @Option(help: "The organisation's signing key file (secp256k1, p256 or ed25519).") var key: String
        @Option(help: "The verification URL base the code points to (default: $KRAMAA_RPC or \(NodeConnection.defaultURL)).") var base: String?
        @Option(name: .customLong("issued-at"), help: "Unix time of issue (default: now).") var issuedAt: UInt64?

        func run() throws {
            guard let data = FileManager.default.contents(atPath: key) else { throw ValidationError("cannot read the key file \(key)") }
            let file: KeyFile
            do { file = try KeyFile(decoding: Array(data)) } catch { throw ValidationError("\(key): \(error)") }
            do { _ = try AssetRegistry.tokenId(epc: epc) } catch { throw ValidationError("--epc: \(error)") }
            let payload: QRPayload
            do {
                payload = try QRPayload.sign(item: epc, issuedAt: issuedAt ?? UInt64(Date().timeIntervalSince1970), key: file.key)
            } catch { throw ValidationError("\(error)") }
            let base = self.base ?? NodeConnection.environmentURL
            let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
            print("\(trimmed)\(TagEndpoints.verifyPath)?qr=\(payload.encoded)")
        }
    }

    /// Prints the node's answer; throws with the problem's detail when the status is not `expecting`.
    static func printAnswer(status: Int, body: [UInt8], expecting: Int) throws {
        let text = String(decoding: body, as: UTF8.self)
        guard status == expecting else {
            let detail = (try? JSON.parse(body))?["detail"]?.stringValue ?? text
            throw ClientError("the node answered HTTP \(status): \(detail)")
        }
        print(text)
    }
}
