import ArgumentParser
import Foundation
import KramaaJSON
import KramaaPrimitives

/// `kramaa collection ...`: private data collections (docs/PRIVATE-DATA.md) over `/api/v1/collections`.
struct CollectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection", abstract: "Private data collections: data shared among named organisations, a salted hash on chain (docs/PRIVATE-DATA.md).",
        subcommands: [Create.self, Show.self, Put.self, Get.self, Purge.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection owned by --org (its admins only) with the member organisations.")
        @Option(help: "The owning organisation (a member too).") var org: UInt64
        @Option var name: String
        @Option(help: "The other member organisations, comma-separated ids.") var members: String = ""
        @Option(help: "Seconds an item is kept after it is recorded (0: until purged).") var retention: UInt64 = 0
        @Option(name: .customLong("required-peers"), help: "Other member nodes that must hold an item before its hash is recorded.") var requiredPeers: UInt64 = 0
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection

        func run() throws {
            let ids = try members.split(separator: ",").map { part -> JSON in
                guard let id = UInt64(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--members: \(part) is not an organisation id") }
                return .number(JSONNumber(id))
            }
            _ = try connection.rest("POST", "/collections", try actor.signing([
                "organization": .number(JSONNumber(org)), "name": .string(name), "members": .array(ids),
                "retentionSeconds": .number(JSONNumber(retention)), "requiredPeers": .number(JSONNumber(requiredPeers))]))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a collection: members, retention, required peers.")
        @Argument var id: UInt64
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("GET", "/collections/\(id)") }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Share a value with the member nodes and record its salted hash; prints the item.")
        @Argument var id: UInt64
        @Option(help: "The value: JSON (a bare word is taken as a string).") var value: String
        @Option(help: "The item's key: a name (hashed) or 0x and 64 hex digits; default a fresh random key.") var key: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection

        func run() throws {
            var body: JSONObject = ["value": (try? JSON.parse(value)) ?? .string(value)]
            if let key { body["key"] = .string(key) }
            _ = try connection.rest("POST", "/collections/\(id)/items", try actor.signing(body))
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An item's record; its value too when --as (or the token's account) may read it and this node holds it.")
        @Argument var id: UInt64
        @Argument(help: "The key: a name or 0x and 64 hex digits.") var key: String
        @Option(name: .customLong("as"), help: "Read as this account (one whose key the node holds), e.g. dev3.") var reader: String?
        @OptionGroup var connection: PlatformConnection

        func run() throws {
            let headers = try reader.map { [("Kramaa-From", try AccountName.resolve($0, option: "--as").description)] } ?? []
            _ = try connection.http("GET", "/api/v1/collections/\(id)/items/\(Self.escaped(key))", headers: headers)
        }

        static func escaped(_ key: String) -> String { key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? key }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Purge an item: every node erases its value; the hash stays on chain (the recorder or a member admin).")
        @Argument var id: UInt64
        @Argument var key: String
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection
        func run() throws { _ = try connection.rest("DELETE", "/collections/\(id)/items/\(Get.escaped(key))", try actor.signing([:])) }
    }
}
