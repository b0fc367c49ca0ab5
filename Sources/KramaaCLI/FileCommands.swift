import ArgumentParser
import Foundation
import KramaaFiles
import KramaaJSON
import KramaaPrimitives

/// `kramaa file add|get|ls|pin|unpin|status|gc`: content-addressed files on a node, with CIDs
/// identical to IPFS's. `add` builds the DAG here (streamed: one chunk and the open tree levels
/// in memory) and uploads its blocks in CAR batches to the node, which checks every block and
/// pins the root on commit; `get` fetches raw blocks from the node's gateway and verifies each
/// against its CID before writing a byte.
struct FileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file", abstract: "Add, fetch, pin and inspect content-addressed files (IPFS-compatible CIDs).",
        subcommands: [FileAdd.self, FileGet.self, FileGrant.self, FileList.self, FilePin.self, FileUnpin.self, FileStatus.self, FileGC.self])
}

struct FileAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Import a file or directory; prints its CID last.")
    @Argument(help: "The file or directory.") var path: String
    @Option(help: "kubo-cidv1 (default: ipfs add --cid-version=1), unixfs-v1-2025 (IPIP-499) or unixfs-v0-2015 (CIDv0).")
    var profile = ImportProfile.kuboV1.name
    @Flag(name: .customLong("only-hash"), help: "Compute the CID only; store nothing and contact no node.") var onlyHash = false
    @Flag(name: .shortAndLong, help: "Include files whose names start with a dot (ipfs add -H).") var hidden = false
    @OptionGroup var privacy: PrivateFileOptions
    @OptionGroup var connection: NodeConnection

    func run() throws {
        if privacy.isPrivate { return try addPrivate() }
        guard let profile = ImportProfile.named(profile) else {
            throw ValidationError("--profile \(profile): use \(ImportProfile.all.map(\.name).joined(separator: ", "))")
        }
        let importer = PathImporter(profile: profile, hidden: hidden)
        if onlyHash {
            var sink = DiscardingSink()
            let root = try CLIFailure.wrap { try importer.add(path, sink: &sink) }
            return Console.line(root.cid.string)
        }
        let client = try connection.client()
        var sink = try UploadSink(client: client, size: PathImporter.size(of: path))
        do {
            let root = try importer.add(path, sink: &sink)
            try sink.flush()
            let name = URL(fileURLWithPath: path).lastPathComponent
            let answer = try FilesAPI.call(client, "POST", "/api/v1/store/uploads/\(sink.id)/commit",
                                           body: .object(["root": .string(root.cid.string), "name": .string(name)]))
            Console.line("pinned \(answer["blocks"]?.description ?? "?") blocks, \(answer["bytes"]?.description ?? "?") bytes")
            Console.line(root.cid.string)
        } catch {
            _ = try? client.request("DELETE", path: "/api/v1/store/uploads/\(sink.id)")
            throw CLIFailure("\(error)")
        }
    }
}

extension FileAdd {
    /// `--private`: encrypted here, then added, pinned in the registry and its key wrapped per reader.
    func addPrivate() throws {
        guard let root = try importPrivate() else { return }
        Console.line("encrypted, pinned for \(privacy.asset.map { "asset \($0)" } ?? "organisation \(privacy.organization!)") and readable by \(privacy.readers.count) device(s)")
        Console.line(root.string)
    }

    /// The work of `--private` without its output (the demo uses it); with --only-hash prints
    /// the CID and returns nil.
    func importPrivate() throws -> CID? {
        guard let profile = ImportProfile.named(profile) else { throw ValidationError("--profile \(profile): unknown") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("--private encrypts one file: \(path) is not a file")
        }
        let (temporary, header, fileKey) = try PrivateFiles.encrypt(path)
        defer { unlink(temporary) }
        let importer = PathImporter(profile: profile, hidden: hidden)
        if onlyHash {
            var sink = DiscardingSink()
            Console.line(try CLIFailure.wrap { try importer.add(temporary, sink: &sink) }.cid.string)
            return nil
        }
        let client = try connection.client()
        var sink = try UploadSink(client: client, size: PathImporter.size(of: temporary))
        let root = try CLIFailure.wrap { try importer.add(temporary, sink: &sink) }
        try sink.flush()
        let answer = try FilesAPI.call(client, "POST", "/api/v1/store/uploads/\(sink.id)/commit",
                                       body: .object(["root": .string(root.cid.string), "name": .string(URL(fileURLWithPath: path).lastPathComponent)]))
        let size = answer["bytes"]?.numberValue.flatMap { UInt64($0.description) } ?? root.tsize
        try PrivateFiles.publish(root.cid, size: size, header: header, fileKey: fileKey, options: privacy, client: client)
        return root.cid
    }
}

/// Imports paths as `ipfs add -r` does: files streamed through the chunker, directories
/// bottom up, symbolic links as UnixFS symlinks, dot-files skipped unless asked.
struct PathImporter {
    let profile: ImportProfile
    let hidden: Bool
    static let readSize = 1 << 20

    static func size(of path: String) -> UInt64 {
        var total: UInt64 = 0
        if let e = FileManager.default.enumerator(atPath: path) {
            for case let item as String in e {
                total += ((try? FileManager.default.attributesOfItem(atPath: path + "/" + item)[.size]) as? UInt64) ?? 0
            }
        }
        return total + (((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? UInt64) ?? 0)
    }

    func add<Sink: BlockSink>(_ path: String, sink: inout Sink) throws -> ImportedNode {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw CLIFailure("cannot read \(path): \(String(cString: strerror(errno)))") }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            var entries: [DirectoryBuilder.Entry] = []
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
            for name in names.sorted() where hidden || !name.hasPrefix(".") {
                entries.append(.init(name: name, node: try add(path + "/" + name, sink: &sink)))
            }
            return try DirectoryBuilder.build(entries, profile: profile, sink: &sink)
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            let block = PBNode(data: UnixFSData(kind: .symlink, data: Array(target.utf8)).encoded()).encoded()
            let cid = try CID(version: profile.cidVersion, codec: CID.dagPB, multihash: Multihash(hashing: block, code: profile.hash))
            try sink.put(cid, block)
            return ImportedNode(cid: cid, tsize: UInt64(block.count), fileSize: 0)
        case S_IFREG:
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var builder = FileBuilder(profile: profile, sink: sink)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let n = read(fd, buffer.baseAddress, Self.readSize)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw CLIFailure("cannot read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                try builder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            let root = try builder.finish()
            sink = builder.sink
            return root
        default:
            throw CLIFailure("\(path) is not a file, directory or symbolic link")
        }
    }
}

/// Blocks to the node in CAR batches of about 2 MiB (under the node's 5 MiB body limit; a larger
/// block travels alone), built in one buffer: memory stays one batch whatever the file's size.
/// (Sending a batch while the next is built measured no faster: the node's side is the slower.)
struct UploadSink: BlockSink {
    let client: NodeClient
    let id: String
    var batch: [UInt8] = []
    static let batchBytes = 2 << 20
    static let header = CAR.header(roots: [])

    init(client: NodeClient, size: UInt64) throws {
        self.client = client
        let answer = try FilesAPI.call(client, "POST", "/api/v1/store/uploads", body: .object(["size": .number(JSONNumber(size))]))
        guard let id = answer["id"]?.stringValue else { throw CLIFailure("the node did not start an upload") }
        self.id = id
        batch.reserveCapacity(Self.batchBytes)
        batch.append(contentsOf: Self.header)
    }

    mutating func put(_ cid: CID, _ block: [UInt8]) throws {
        if batch.count + block.count + 64 > Self.batchBytes { try flush() }
        batch.append(contentsOf: CAR.section(cid, block))
    }

    mutating func flush() throws {
        guard batch.count > Self.header.count else { return }
        _ = try FilesAPI.call(client, "PUT", "/api/v1/store/uploads/\(id)", raw: batch, contentType: CAR.mediaType)
        batch.removeAll(keepingCapacity: true)
        batch.append(contentsOf: Self.header)
    }
}

/// The file API's calls: a problem answer becomes an error carrying its detail.
enum FilesAPI {
    @discardableResult
    static func call(_ client: NodeClient, _ method: String, _ path: String, body: JSON? = nil, raw: [UInt8]? = nil,
                     contentType: String = "application/json") throws -> JSON {
        let (status, answer) = try client.request(method, path: path, body: raw ?? body?.serialized(), contentType: contentType)
        let parsed = try? JSON.parse(answer)
        guard (200..<300).contains(status) else {
            throw CLIFailure("the node refused (HTTP \(status)): \(parsed?["detail"]?.stringValue ?? String(decoding: answer.prefix(300), as: UTF8.self))")
        }
        return parsed ?? .null
    }

    static func cid(_ text: String) throws -> CID {
        do { return try CID(text) } catch { throw ValidationError("\(error)") }
    }
}

/// Blocks fetched one at a time from a node's gateway (`?format=raw`), each checked against
/// its CID: nothing unverified reaches the output.
struct GatewayBlocks: BlockSource {
    let client: NodeClient

    func block(_ cid: CID) throws -> [UInt8]? {
        let (status, body) = try client.request("GET", path: "/ipfs/\(cid)?format=raw", headers: [("Accept", "application/vnd.ipld.raw")])
        if status == 404 { return nil }
        guard status == 200 else { throw CLIFailure("the node answered HTTP \(status) for block \(cid)") }
        do { try cid.verify(body) } catch { throw CLIFailure("refused a block from the node: \(error)") }
        return body
    }
}

struct FileGet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Fetch a file or directory, verifying every block.")
    @Argument(help: "The CID.") var cid: String
    @Option(help: "Where to write it (default: standard output for a file, ./<CID> for a directory).") var out: String?
    @Option(name: .customLong("key"), help: "A private file: decrypt it with this agreement key file (the reader's).") var agreementKey: String?
    @OptionGroup var connection: NodeConnection

    func run() throws {
        let root = try FilesAPI.cid(cid)
        let client = try connection.client()
        let reader = UnixFSReader(source: GatewayBlocks(client: client))
        if let agreementKey {
            let key = try AgreementKeyFiles.read(agreementKey)
            let decryptor = PrivateFileDecryptor(key: key) { hash in try PrivateFiles.wrappedKey(of: root, for: hash, client: client) }
            guard case .file = try CLIFailure.wrap({ try reader.entity(root) }) else { throw CLIFailure("\(root) is not a file: --key decrypts one private file") }
            return try CLIFailure.wrap { try write(root, reader: reader, to: out, top: true, decryptor: decryptor) }
        }
        try CLIFailure.wrap { try write(root, reader: reader, to: out, top: true) }
    }

    func write(_ cid: CID, reader: UnixFSReader<GatewayBlocks>, to path: String?, top: Bool, decryptor: PrivateFileDecryptor? = nil) throws {
        switch try reader.entity(cid) {
        case .file:
            // A private file is written under a temporary name and renamed once every segment
            // opened: a failure leaves nothing that looks like the file.
            let target = path.map { decryptor == nil ? $0 : $0 + ".partial" }
            let fd = target.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } ?? 1
            guard fd >= 0 else { throw CLIFailure("cannot create \(target!): \(String(cString: strerror(errno)))") }
            defer { if path != nil { close(fd) } }
            do {
                try reader.read(cid) { bytes in
                    let plain = try decryptor.map { try $0.consume(Array(bytes)) } ?? Array(bytes)
                    try plain.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                            guard n > 0 else { throw CLIFailure("cannot write: \(String(cString: strerror(errno)))") }
                            offset += n
                        }
                    }
                }
                try decryptor?.finish()
            } catch {
                if decryptor != nil, let target { unlink(target) }
                throw error
            }
            if decryptor != nil, let path, let target { guard rename(target, path) == 0 else { throw CLIFailure("cannot rename \(target) to \(path)") } }
        case .directory:
            let directory = path ?? cid.string
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for entry in try reader.list(cid) {
                // A DAG may name entries anything: refuse names that would leave the directory.
                guard !entry.name.isEmpty, entry.name != ".", entry.name != "..", !entry.name.contains("/"), !entry.name.contains("\0") else {
                    throw CLIFailure("refused entry name '\(entry.name)' in \(cid): it would escape the directory")
                }
                try write(entry.cid, reader: reader, to: directory + "/" + entry.name, top: false)
            }
        case .symlink(let target):
            guard let path else { return Console.line(target) }
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        case .other:
            throw CLIFailure("\(cid) is \(cid.codecName), not a UnixFS file or directory")
        }
    }
}

struct FileList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a directory's entries (CID, size, name), or the pins with no CID.")
    @Argument(help: "The directory's CID; none lists the node's pins.") var cid: String?
    @OptionGroup var connection: NodeConnection

    func run() throws {
        let client = try connection.client()
        guard let cid else {
            for pin in try FilesAPI.call(client, "GET", "/api/v1/store/pins")["pins"]?.arrayValue ?? [] {
                Console.line("\(pin["cid"]?.stringValue ?? "") \(pin["name"]?.stringValue ?? "")")
            }
            return
        }
        let answer = try FilesAPI.call(client, "GET", "/api/v1/store/ls/\(try FilesAPI.cid(cid))")
        for e in answer["entries"]?.arrayValue ?? [] {
            Console.line("\(e["cid"]?.stringValue ?? "") \(e["size"]?.description ?? "-") \(e["name"]?.stringValue ?? "")")
        }
    }
}

struct FilePin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Pin a DAG the node holds (kept by garbage collection).")
    @Argument var cid: String
    @OptionGroup var connection: NodeConnection
    func run() throws {
        try FilesAPI.call(try connection.client(), "PUT", "/api/v1/store/pins/\(try FilesAPI.cid(cid))")
        Console.line("pinned \(cid)")
    }
}

struct FileUnpin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpin", abstract: "Unpin; the blocks go at the next garbage collection.")
    @Argument var cid: String
    @OptionGroup var connection: NodeConnection
    func run() throws {
        try FilesAPI.call(try connection.client(), "DELETE", "/api/v1/store/pins/\(try FilesAPI.cid(cid))")
        Console.line("unpinned \(cid)")
    }
}

struct FileStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What the node holds of a DAG, and, if it is pinned in the file registry, which nodes hold it and the replication's health (JSON).")
    @Argument var cid: String
    @OptionGroup var connection: NodeConnection
    func run() throws {
        let client = try connection.client(), root = try FilesAPI.cid(cid)
        guard case .object(var status) = try FilesAPI.call(client, "GET", "/api/v1/store/status/\(root)") else { return }
        let (code, body) = try client.request("GET", path: "/api/v1/files/\(root.v1.string)")
        if code == 200, let pin = try? JSON.parse(body), let holders = pin["holders"]?.arrayValue,
           let minimum = pin["minReplicas"]?.numberValue.flatMap({ UInt64($0.description) }) {
            let held = holders.filter { $0["held"] == .bool(true) && $0["live"] == .bool(true) }.count
            let health = held >= minimum ? "healthy" : held > 0 ? "under-replicated" : "not held yet"
            status["registry"] = .object(["minReplicas": .number(JSONNumber(minimum)), "liveHolders": .number(JSONNumber(UInt64(held))),
                                          "health": .string(health), "holders": .array(holders)])
        } else {
            status["registry"] = .null  // not pinned in the consortium's file registry
        }
        Console.line(JSON.object(status).description)
    }
}

struct FileGC: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove every block no pin reaches (JSON of what was removed).")
    @OptionGroup var connection: NodeConnection
    func run() throws {
        Console.line(try FilesAPI.call(try connection.client(), "POST", "/api/v1/store/gc").description)
    }
}
