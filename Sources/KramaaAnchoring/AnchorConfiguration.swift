import Foundation
import KramaaJSON
import KramaaPrimitives

/// What is wrong with an anchor configuration or a relayer key, and what to do about it.
public struct AnchorConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The parent chains a node relays its checkpoints to (`kramaa node --anchor-config FILE`,
/// docs/ANCHORING.md): `{"parents": [{"label", "rpc", "contract", "key", "every", "confirmations"}]}`.
public struct AnchorConfiguration: Sendable {
    /// One parent chain: where it answers, its checkpoint contract, the key that pays there.
    public struct Parent: Sendable {
        public var label: String
        public var rpc: String
        public var contract: Address
        public var key: Secp256k1.PrivateKey
        public var every: UInt64
        public var confirmations: UInt64
    }

    public var parents: [Parent]

    /// Reads `path`; a relative key path is taken from the configuration file's folder.
    public static func load(_ path: String) throws(AnchorConfigurationError) -> AnchorConfiguration {
        guard let data = FileManager.default.contents(atPath: path), let document = try? JSON.parse(Array(data)) else {
            throw AnchorConfigurationError("cannot read the anchor configuration \(path) as JSON (docs/ANCHORING.md gives its format)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        guard let items = document["parents"]?.arrayValue, !items.isEmpty else {
            throw AnchorConfigurationError("\(path): expected {\"parents\": [{\"label\", \"rpc\", \"contract\", \"key\", \"every\", \"confirmations\"}, …]} with at least one parent")
        }
        var parents: [Parent] = []
        for (i, item) in items.enumerated() {
            func text(_ field: String) throws(AnchorConfigurationError) -> String {
                guard let value = item[field]?.stringValue, !value.isEmpty else { throw AnchorConfigurationError("\(path): parents[\(i)] needs \"\(field)\" (a string)") }
                return value
            }
            func count(_ field: String, _ otherwise: UInt64) throws(AnchorConfigurationError) -> UInt64 {
                guard let value = item[field] else { return otherwise }
                guard let n = value.numberValue.flatMap({ UInt64($0.description) }) else { throw AnchorConfigurationError("\(path): parents[\(i)].\(field) must be a whole number") }
                return n
            }
            let label = try text("label")
            guard !parents.contains(where: { $0.label == label }) else { throw AnchorConfigurationError("\(path): the label \"\(label)\" is used twice: give each parent its own") }
            let rpc = try text("rpc")
            guard (try? NodeClient(rpc)) != nil else { throw AnchorConfigurationError("\(path): parent \(label): rpc must be an http(s) URL, not \(rpc)") }
            guard let contract = try? Address(hex: try text("contract")) else { throw AnchorConfigurationError("\(path): parent \(label): contract is not an address") }
            let keyPath = try text("key")
            let key = try Self.readKey(keyPath.hasPrefix("/") ? keyPath : folder.appendingPathComponent(keyPath).path)
            parents.append(Parent(label: label, rpc: rpc, contract: contract, key: key,
                                  every: try count("every", 100), confirmations: max(1, try count("confirmations", 2))))
        }
        return AnchorConfiguration(parents: parents)
    }

    /// A secp256k1 key file; with `requirePrivateMode` (a relayer's key), refused when group or
    /// others may read it (keys at rest are 0600).
    public static func readKey(_ path: String, requirePrivateMode: Bool = true) throws(AnchorConfigurationError) -> Secp256k1.PrivateKey {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw AnchorConfigurationError("cannot read the key file \(path)")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 || !requirePrivateMode else {
            throw AnchorConfigurationError("the key file \(path) is readable by group or others (mode \(String(mode, radix: 8))): run chmod 600 \(path)")
        }
        let file: KeyFile
        do { file = try KeyFile(decoding: Array(data)) } catch { throw AnchorConfigurationError("\(path): \(error)") }
        guard case .secp256k1(let key) = file.key else {
            throw AnchorConfigurationError("\(path) holds a \(file.key.publicKey.type) key; a secp256k1 key is needed here (`kramaa keys new --type secp256k1`)")
        }
        return key
    }
}
