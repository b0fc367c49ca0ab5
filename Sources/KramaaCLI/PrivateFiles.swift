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
    @Option(name: .customLong("min-replicas"), help: "With --private: nodes that must hold it (default 1).") var minReplicas: UInt64 = 1
    @Option(name: .customLong("max-replicas"), help: "With --private: nodes that may hold it (default 3).") var maxReplicas: UInt64 = 3
    @Option(help: "With --private: the acting account for the pin (default: the token's).") var from: String?

    func validate() throws {
        guard isPrivate else {
            if !readers.isEmpty || organization != nil { throw ValidationError("--for and --org go with --private") }
            return
        }
        guard !readers.isEmpty else { throw ValidationError("--private needs at least one --for DEVICE (who may read it)") }
        guard organization != nil else { throw ValidationError("--private needs --org N (the organisation that owns the pin)") }
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
        let from = try options.from.map { try AccountName.resolve($0, option: "--from").description }
        func body(_ fields: JSONObject) -> JSON {
            var fields = fields
            if let from { fields["from"] = .string(from) }
            return .object(fields)
        }
        let org = JSON.number(JSONNumber(options.organization!))
        try FilesAPI.call(client, "POST", "/api/v1/files", body: body([
            "cid": .string(cid.v1.string), "size": .number(JSONNumber(size)), "owner": .object(["organization": org]),
            "minReplicas": .number(JSONNumber(options.minReplicas)), "maxReplicas": .number(JSONNumber(options.maxReplicas)),
            "readers": .object(["policy": .string("members"), "organization": org])]))
        for device in options.readers {
            let address = try AccountName.resolve(device, option: "--for")
            let answer = try FilesAPI.call(client, "GET", "/api/v1/devices/\(address)/agreement-key")
            guard let type = answer["keyType"]?.stringValue, let hex = answer["publicKey"]?.stringValue else {
                throw CLIFailure("device \(address) has no usable agreement key: register one (kramaa device agreement-key set)")
            }
            let reader = try CLIFailure.wrap { try AgreementPublicKey(type: try AgreementKeyType(parsing: type), bytes: try Hex.decode(hex)) }
            let wrapped = try CLIFailure.wrap { try FileKeyWrap.wrap(fileKey, for: reader, header: header) }
            try FilesAPI.call(client, "PUT", "/api/v1/files/\(cid.v1.string)/keys/\(reader.keyHash)", body: body(["wrappedKey": .data(wrapped)]))
        }
    }
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
