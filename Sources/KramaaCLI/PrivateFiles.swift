import ArgumentParser
import Foundation
import KramaaFileCrypto
import KramaaFiles
import KramaaJSON
import KramaaMessaging
import KramaaPrimitives

/// `kramaa file add --private --for DEVICE … --org N`: the file is encrypted here before it is
/// imported (docs/FILES.md, "The encrypted form of a private file"), so its CID names the
/// ciphertext and the nodes hold bytes they cannot read; it is pinned in the file registry for
/// organisation N (readers: its members), and its file key is wrapped for each device's
/// registered agreement key and stored with the pin.
struct PrivateFileOptions: ParsableArguments {
    @Flag(name: .customLong("private"), help: "Encrypt before import; readable only by the --for devices.") var isPrivate = false
    @Option(name: .customLong("for"), help: "With --private: a device that may read it, by its registered agreement key (repeatable).")
    var readers: [String] = []
    @Option(name: .customLong("org"), help: "With --private: the organisation that owns the pin (its members may read).") var organization: UInt64?
    @Option(name: .customLong("asset"), help: "With --private, instead of --org: the asset that owns the pin (its current owner or custodian may read).")
    var asset: String?
    @Option(name: .customLong("min-replicas"), help: "With --private: nodes that must hold it (default 1).") var minReplicas: UInt64 = 1
    @Option(name: .customLong("max-replicas"), help: "With --private: nodes that may hold it (default 3).") var maxReplicas: UInt64 = 3
    @Option(help: "With --private: the acting account for the pin (default: the token's).") var from: String?

    func validate() throws {
        guard isPrivate else {
            if !readers.isEmpty || organization != nil || asset != nil { throw ValidationError("--for, --org and --asset go with --private") }
            return
        }
        guard !readers.isEmpty else { throw ValidationError("--private needs at least one --for DEVICE (who may read it)") }
        guard (organization != nil) != (asset != nil) else {
            throw ValidationError("--private needs --org N or --asset TOKEN (who owns the pin), not both")
        }
        guard minReplicas >= 1, maxReplicas >= minReplicas else { throw ValidationError("--min-replicas must be at least 1 and at most --max-replicas") }
    }
}

enum PrivateFiles {
    /// Encrypts the file at `path` into a new temporary file, a segment at a time.
    static func encrypt(_ path: String) throws -> (temporary: String, header: PrivateFileHeader, fileKey: [UInt8]) {
        guard let input = FileHandle(forReadingAtPath: path) else { throw CLIFailure("cannot read \(path)") }
        defer { try? input.close() }
        let size = try input.seekToEnd()
        try input.seek(toOffset: 0)
        let header = PrivateFileHeader(plaintextLength: size)
        let fileKey = PrivateFileCipher.newFileKey()
        let cipher = try CLIFailure.wrap { try PrivateFileCipher(header: header, fileKey: fileKey) }
        let temporary = NSTemporaryDirectory() + "kramaa-private-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: temporary) else { throw CLIFailure("cannot create \(temporary)") }
        defer { try? output.close() }
        try output.write(contentsOf: header.bytes)
        for i in 0..<header.segmentCount {
            let plaintext = try input.read(upToCount: header.plaintextLength(ofSegment: i)).map(Array.init) ?? []
            guard plaintext.count == header.plaintextLength(ofSegment: i) else { throw CLIFailure("\(path) changed while it was read") }
            try output.write(contentsOf: try CLIFailure.wrap { try cipher.seal(segment: plaintext, index: i) })
        }
        return (temporary, header, fileKey)
    }

    /// Pins the encrypted file in the registry and stores its key wrapped for each reader.
    static func publish(_ cid: CID, size: UInt64, header: PrivateFileHeader, fileKey: [UInt8], options: PrivateFileOptions,
                        client: NodeClient) throws {
        let from = try options.from.map { try AccountName.resolve($0, option: "--from") }
        let owner: JSONObject, readers: JSONObject
        if let asset = options.asset {
            (owner, readers) = (["asset": .string(asset)], ["policy": .string("assetHolder"), "asset": .string(asset)])
        } else {
            let org = JSON.number(JSONNumber(options.organization!))
            (owner, readers) = (["organization": org], ["policy": .string("members"), "organization": org])
        }
        try FilesAPI.call(client, "POST", "/api/v1/files", body: acting(from, [
            "cid": .string(cid.v1.string), "size": .number(JSONNumber(size)), "owner": .object(owner),
            "minReplicas": .number(JSONNumber(options.minReplicas)), "maxReplicas": .number(JSONNumber(options.maxReplicas)),
            "readers": .object(readers)]))
        try wrap(fileKey, header: header, of: cid, for: options.readers, from: from, client: client)
    }

    /// Stores `fileKey` wrapped for each device's registered agreement key with the pin of `cid`.
    static func wrap(_ fileKey: [UInt8], header: PrivateFileHeader, of cid: CID, for devices: [String], from: Address?, client: NodeClient) throws {
        for device in devices {
            let address = try AccountName.resolve(device, option: "--for")
            let answer = try FilesAPI.call(client, "GET", "/api/v1/devices/\(address)/agreement-key")
            guard let type = answer["keyType"]?.stringValue, let hex = answer["publicKey"]?.stringValue else {
                throw CLIFailure("device \(address) has no usable agreement key: register one (kramaa device agreement-key set)")
            }
            let reader = try CLIFailure.wrap { try AgreementPublicKey(type: try AgreementKeyType(parsing: type), bytes: try Hex.decode(hex)) }
            let wrapped = try CLIFailure.wrap { try FileKeyWrap.wrap(fileKey, for: reader, header: header) }
            try FilesAPI.call(client, "PUT", "/api/v1/files/\(cid.v1.string)/keys/\(reader.keyHash)", body: acting(from, ["wrappedKey": .data(wrapped)]))
        }
    }

    /// The key of `cid` wrapped for `key`'s holder, from the registry.
    static func wrappedKey(of cid: CID, for keyHash: Bytes32, client: NodeClient) throws -> [UInt8] {
        let answer = try FilesAPI.call(client, "GET", "/api/v1/files/\(cid.v1.string)/keys/\(keyHash)")
        guard let hex = answer["wrappedKey"]?.stringValue, let wrapped = try? Hex.decode(hex) else {
            throw CLIFailure("no file key of \(cid) for this reader")
        }
        return wrapped
    }

    static func acting(_ from: Address?, _ fields: JSONObject) -> JSON {
        var fields = fields
        if let from { fields["from"] = .string(from.description) }
        return .object(fields)
    }
}

/// `kramaa file grant CID --key MINE --for DEVICE …`: a reader of a private file lets more
/// devices read it (the asset's new owner after a transfer, say): its own wrapped key opened,
/// the file key wrapped for each new device and stored with the pin. Devices that were never
/// given the key do not get it: the registry's policy says who should be granted, the wrapped
/// keys say who can read.
struct FileGrant: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "grant", abstract: "Let more devices read a private file you can read.")
    @Argument(help: "The private file's CID.") var cid: String
    @Option(name: .customLong("key"), help: "Your agreement key file (you must be able to read the file).") var agreementKey: String
    @Option(name: .customLong("for"), help: "A device to grant (its registered agreement key; repeatable).") var readers: [String] = []
    @Option(help: "The acting account for the registry (default: the token's).") var from: String?
    @OptionGroup var connection: NodeConnection

    func validate() throws { guard !readers.isEmpty else { throw ValidationError("give at least one --for DEVICE") } }

    func run() throws {
        let root = try FilesAPI.cid(cid), client = try connection.client()
        let key = try AgreementKeyFiles.read(agreementKey)
        // The header is the file's first 25 bytes: read the first block's bytes only.
        var first: [UInt8] = []
        let reader = UnixFSReader(source: GatewayBlocks(client: client))
        do {
            try reader.read(root) { bytes in
                first += bytes
                if first.count >= PrivateFileHeader.length { throw HeaderRead() }
            }
        } catch is HeaderRead {}
        let header = try CLIFailure.wrap { try PrivateFileHeader(parsing: first) }
        let fileKey = try CLIFailure.wrap { try FileKeyWrap.unwrap(try PrivateFiles.wrappedKey(of: root, for: key.publicKey.keyHash, client: client),
                                                                   with: key, header: header) }
        try PrivateFiles.wrap(fileKey, header: header, of: root, for: readers, from: try from.map { try AccountName.resolve($0, option: "--from") },
                              client: client)
        Console.line("granted \(readers.count) device(s) \(root)")
    }

    private struct HeaderRead: Error {}
}

/// Turns a private file's bytes, as they arrive in order, into its plaintext: the header first,
/// then each whole segment opened (and so authenticated) before any of it is written. The file
/// key comes unwrapped from the registry with the reader's agreement key.
final class PrivateFileDecryptor {
    private let key: AgreementPrivateKey
    private let wrappedKey: (Bytes32) throws -> [UInt8]
    private var cipher: PrivateFileCipher?
    private var pending: [UInt8] = []
    private var segment: UInt64 = 0

    init(key: AgreementPrivateKey, wrappedKey: @escaping (Bytes32) throws -> [UInt8]) {
        self.key = key
        self.wrappedKey = wrappedKey
    }

    /// The plaintext these bytes complete.
    func consume(_ bytes: [UInt8]) throws -> [UInt8] {
        pending += bytes
        if cipher == nil {
            guard pending.count >= PrivateFileHeader.length else { return [] }
            let header = try CLIFailure.wrap { try PrivateFileHeader(parsing: pending) }
            let wrapped = try wrappedKey(key.publicKey.keyHash)
            let fileKey = try CLIFailure.wrap { try FileKeyWrap.unwrap(wrapped, with: key, header: header) }
            cipher = try CLIFailure.wrap { try PrivateFileCipher(header: header, fileKey: fileKey) }
            pending.removeFirst(PrivateFileHeader.length)
        }
        guard let cipher else { return [] }
        var out: [UInt8] = []
        while segment < cipher.header.segmentCount {
            let length = cipher.header.plaintextLength(ofSegment: segment) + PrivateFileHeader.tagLength
            guard pending.count >= length else { break }
            out += try CLIFailure.wrap { try cipher.open(segment: pending[..<length], index: segment) }
            pending.removeFirst(length)
            segment += 1
        }
        return out
    }

    /// Checks that the file ended where its header says.
    func finish() throws {
        guard let cipher else { throw CLIFailure("not a private file: it ends before its header") }
        guard segment == cipher.header.segmentCount, pending.isEmpty else {
            throw CLIFailure("the private file is truncated or has bytes after its last segment")
        }
    }
}
