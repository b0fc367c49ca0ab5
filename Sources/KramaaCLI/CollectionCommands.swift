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
        @Option(help: "The value: JSON (a bare word is taken as a string).") var value: String?
        @Option(help: "A file to share instead (at most 3 MiB): kept as the item's value, {file: {name, size, sha256, base64}}.") var file: String?
        @Option(help: "The item's key: a name (hashed) or 0x and 64 hex digits; default a fresh random key.") var key: String?
        @OptionGroup var actor: Actor
        @OptionGroup var connection: PlatformConnection

        func validate() throws {
            guard (value == nil) != (file == nil) else { throw ValidationError("give --value or --file (one of them)") }
        }

        func run() throws {
            var body: JSONObject = ["value": try file.map(CollectionFile.value) ?? ((try? JSON.parse(value ?? "")) ?? .string(value ?? ""))]
            if let key { body["key"] = .string(key) }
            _ = try connection.rest("POST", "/collections/\(id)/items", try actor.signing(body))
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An item's record; its value too when --as (or the token's account) may read it and this node holds it.")
        @Argument var id: UInt64
        @Argument(help: "The key: a name or 0x and 64 hex digits.") var key: String
        @Option(name: .customLong("as"), help: "Read as this account (one whose key the node holds), e.g. dev3.") var reader: String?
        @Option(help: "For an item holding a file: write the file here (its SHA-256 checked) instead of printing the item.") var out: String?
        @OptionGroup var connection: PlatformConnection

        func run() throws {
            let headers = try reader.map { [("Kramaa-From", try AccountName.resolve($0, option: "--as").description)] } ?? []
            let path = "/api/v1/collections/\(id)/items/\(Self.escaped(key))"
            guard let out else { return _ = try connection.http("GET", path, headers: headers) }
            let (status, bytes) = try connection.node.client().request("GET", path: path, headers: headers)
            guard (200..<300).contains(status), let answer = try? JSON.parse(bytes) else { throw CLIFailure("the node answered HTTP \(status): \(String(decoding: bytes, as: UTF8.self))") }
            guard answer["disclosed"]?.boolValue == true else { throw CLIFailure("not disclosed: \(answer["reason"]?.stringValue ?? "?"); nothing was written") }
            let written = try CollectionFile.write(answer["value"] ?? .null, to: out)
            print("wrote \(written) bytes to \(out)")
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

/// A file shared as a collection item (`kramaa collection put --file`): its bytes go only to the
/// member organisations' nodes, like any item, and are erased with it.
enum CollectionFile {
    static let maxBytes = 3 * 1024 * 1024

    static func value(_ path: String) throws -> JSON {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIFailure("cannot read \(path)") }
        guard data.count <= maxBytes else {
            throw CLIFailure("\(path) has \(data.count) bytes; a collection item holds at most \(maxBytes): share a larger file as a private file (kramaa file add --private) and put its key in the collection")
        }
        return ["file": ["name": .string((path as NSString).lastPathComponent), "size": .number(JSONNumber(data.count)),
                         "sha256": .string(SHA256Digest.hash(Array(data)).description), "base64": .string(data.base64EncodedString())]]
    }

    /// Writes the file an item's value holds to `path`, after checking its SHA-256; its size.
    static func write(_ value: JSON, to path: String) throws -> Int {
        guard let file = value["file"], let text = file["base64"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw CLIFailure("the item holds no file (put it with --file)")
        }
        guard SHA256Digest.hash(Array(data)).description == file["sha256"]?.stringValue else {
            throw CLIFailure("the file's bytes do not match its SHA-256: nothing was written")
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw CLIFailure("cannot write \(path)") }
        return data.count
    }
}
