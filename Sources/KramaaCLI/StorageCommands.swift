import ArgumentParser
import KramaaJSON
import KramaaPrimitives

/// `kramaa storage ...`: the file registry's storage nodes, pins and quotas over the REST
/// interface (docs/FILES.md, "The file registry"). Pins are here rather than under a `file`
/// command: `kramaa file` belongs to the content store (importing, fetching).
struct StorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Storage nodes, pinned files and quotas (the file registry).",
        subcommands: [Register.self, Deregister.self, Heartbeat.self, Node.self, Pin.self, Show.self, Unpin.self, Repair.self, MayRead.self, Quota.self])

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register NODE (the account it signs with) as a storage node of --org, or set its capacity (admins).")
        @Argument var node: String
        @Option var org: UInt64
        @Option(help: "Bytes the node offers.") var capacity: UInt64
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let node = try AccountName.resolve(node, option: "node")
            _ = try connection.rest("POST", "/storage-nodes", try actor.signing([
                "organization": .number(JSONNumber(org)), "node": .string(node.description), "capacity": .number(JSONNumber(capacity))]))
        }
    }

    struct Deregister: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deregister a storage node (admins of its organisation).")
        @Argument var node: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("DELETE", "/storage-nodes/\(try AccountName.resolve(node, option: "node"))", try actor.signing([:])) }
    }

    struct Heartbeat: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send NODE's heartbeat with the bytes it can still take (sent from NODE's account).")
        @Argument var node: String
        @Option(help: "Free bytes, less what is allocated but not held yet.") var free: UInt64
        @OptionGroup var connection: PlatformConnection
        func run() throws {
            let node = try AccountName.resolve(node, option: "node")
            _ = try connection.rest("POST", "/storage-nodes/\(node)/heartbeat", ["freeBytes": .number(JSONNumber(free)), "from": .string(node.description)])
        }
    }

    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a storage node: capacity, free and allocated bytes, last heartbeat.")
        @Argument var node: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/storage-nodes/\(try AccountName.resolve(node, option: "node"))") }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin a file by CID on the chain: the registry allocates storage nodes to hold it (the files role, or the asset's owner).")
        @Argument(help: "The CID (bafy…, bafk…, Qm…, or 0x… bytes).") var cid: String
        @Option(help: "The file's size in bytes (its whole DAG).") var size: UInt64
        @Option(help: "The owning organisation.") var org: UInt64?
        @Option(help: "The owning asset (token id, EPC URI or Digital Link); its owner manages the pin.") var asset: String?
        @Option(help: "Replicas that must be kept.") var min: UInt64 = 1
        @Option(help: "Replicas wanted.") var max: UInt64 = 3
        @Option(help: "public, members:ORG[:role,role] or asset:TOKEN.") var readers = "public"
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection

        func run() throws {
            let owner: JSON
            switch (org, asset) {
            case (let org?, nil): owner = ["organization": .number(JSONNumber(org))]
            case (nil, let asset?): owner = ["asset": .string(asset)]
            default: throw ValidationError("give the owner: --org or --asset")
            }
            let body: JSONObject = ["cid": .string(cid), "size": .number(JSONNumber(size)), "owner": owner, "minReplicas": .number(JSONNumber(min)),
                                    "maxReplicas": .number(JSONNumber(max)), "readers": try Self.readers(readers)]
            _ = try connection.rest("POST", "/files", try actor.signing(body))
        }

        static func readers(_ text: String) throws -> JSON {
            let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
            switch (parts.first, parts.count) {
            case ("public", 1): return ["policy": .string("public")]
            case ("members", 2), ("members", 3):
                guard let org = UInt64(parts[1]) else { throw ValidationError("--readers members:ORG[:roles]: ORG is a number") }
                let roles = parts.count == 3 ? parts[2].split(separator: ",").map { JSON.string(String($0)) } : []
                return ["policy": .string("members"), "organization": .number(JSONNumber(org)), "roles": .array(roles)]
            case ("asset", 2): return ["policy": .string("assetHolder"), "asset": .string(parts[1])]
            default: throw ValidationError("--readers is public, members:ORG[:role,role] or asset:TOKEN")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a pin: owner, size, replicas, readers, holders.")
        @Argument var cid: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/files/\(cid)") }
    }

    struct Unpin: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unpin a file: its holders are released.")
        @Argument var cid: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("DELETE", "/files/\(cid)", try actor.signing([:])) }
    }

    struct Repair: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-allocate a file whose live holders are fewer than its minimum (anyone).")
        @Argument var cid: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("POST", "/files/\(cid)/repair", try actor.signing([:])) }
    }

    struct MayRead: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "may-read", abstract: "Whether ACCOUNT may read the file by its policy now.")
        @Argument var cid: String
        @Argument var account: String
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/files/\(cid)/readers/\(try AccountName.resolve(account, option: "account"))") }
    }

    struct Quota: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An organisation's file quota: bytes used (size × max replicas) and its limit.")
        @Argument var org: UInt64
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/organizations/\(org)/file-quota") }
    }
}
