import ArgumentParser
import Foundation
import KramaaChain
import KramaaJSON
import KramaaNetwork
import KramaaNode
import KramaaPrimitives
import KramaaStorage
import KramaaValidator
import Logging

/// `kramaa snapshot export|verify|restore|sync` (docs/OPERATIONS.md, "State sync").
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Write a state snapshot, check one, or make a new node's data directory from one (a file or its peers).",
        subcommands: [Export.self, Verify.self, Restore.self, Sync.self])

    /// What a new node trusts: the genesis validators, or a block hash given by its operator.
    struct TrustOptions: ParsableArguments {
        @Option(help: "The genesis JSON file of the chain.") var genesis: String
        @Option(name: .customLong("trust-hash"),
                help: "A block hash you trust (from an operator you trust): the snapshot must be of that block. Default: the genesis validators' signatures.")
        var trustHash: String?

        func document() throws -> Data {
            do { return try Data(contentsOf: URL(fileURLWithPath: genesis)) } catch { throw CLIFailure("cannot read --genesis \(genesis): \(error.localizedDescription)") }
        }

        func trust(_ document: Data) throws -> (SnapshotTrust, UInt64) {
            let genesis = try CLIFailure.wrap { try Genesis.parse(document) }
            var hash: Bytes32?
            if let trustHash { hash = try CLIFailure.wrap { try Bytes32(hex: trustHash) } }
            return (SnapshotTrust(validators: genesis.config.validators, blockHash: hash), genesis.config.chainId)
        }

        /// Verifies the snapshot as far as the chain vouches, then its certificate against the trust.
        func verify(_ manifest: SnapshotManifest, chunk: (Int) throws(SnapshotError) -> [UInt8]) throws -> (Node.VerifiedSnapshot, Data) {
            let document = try document()
            let (trust, chainId) = try trust(document)
            let verified = try CLIFailure.wrap { try Node.verifySnapshot(manifest, genesisDocument: document, chunk: chunk) }
            try CLIFailure.wrap { try trust.check(verified, chainId: chainId) }
            return (verified, document)
        }
    }

    static func summary(_ manifest: SnapshotManifest, extra: JSONObject = [:]) -> String {
        var object: JSONObject = [
            "height": .number(JSONNumber(manifest.height)), "id": .string(manifest.id.description),
            "blockHash": .string(((try? Block.decode(manifest.block))?.hash).map(\.description) ?? ""),
            "accounts": .number(JSONNumber(manifest.accountCount)), "chunks": .number(JSONNumber(UInt64(manifest.chunkHashes.count))),
            "certified": .bool(!manifest.certificate.isEmpty),
        ]
        for (key, value) in extra { object[key] = value }
        return String(decoding: JSON.object(object).serialized(), as: UTF8.self)
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the state at a block with its certified header to a snapshot file (the node may be running).",
            discussion: "Put the file in DATADIR/snapshots/ to serve it to peers that join with `kramaa snapshot sync`.")
        @Option(help: "The node's data directory.") var datadir: String
        @Option(help: "The block (default: the head); its state must be kept (--history).") var at: UInt64?
        @Option(help: "The snapshot file to write.") var out: String
        @Option(name: .customLong("chunk-bytes"), help: "About how many bytes of state each chunk holds.") var chunkBytes = 1 << 20

        func run() throws {
            let started = Date()
            let manifest = try CLIFailure.wrap {
                try Node.exportSnapshot(dataDirectory: URL(fileURLWithPath: datadir), at: at, to: URL(fileURLWithPath: out),
                                        chunkBytes: max(4096, chunkBytes))
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            print(SnapshotCommand.summary(manifest, extra: ["file": .string(out), "bytes": .number(JSONNumber(UInt64(size))),
                                                             "seconds": .number(JSONNumber((Date().timeIntervalSince(started) * 1000).rounded() / 1000) ?? JSONNumber(0))]))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a snapshot file: every chunk, the state root, the header's certificate.")
        @Argument var file: String
        @OptionGroup var trust: TrustOptions

        func run() throws {
            let snapshot = try CLIFailure.wrap { try SnapshotFile(url: URL(fileURLWithPath: file)) }
            _ = try trust.verify(snapshot.manifest) { index throws(SnapshotError) in try snapshot.chunk(index) }
            print(SnapshotCommand.summary(snapshot.manifest, extra: ["verified": .bool(true)]))
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new node's data directory from a snapshot file, after checking it; the node then syncs the blocks after it.")
        @Argument var file: String
        @OptionGroup var trust: TrustOptions
        @Option(help: "The data directory to create (must not hold a chain).") var datadir: String

        func run() throws {
            let started = Date()
            let snapshot = try CLIFailure.wrap { try SnapshotFile(url: URL(fileURLWithPath: file)) }
            let (verified, document) = try trust.verify(snapshot.manifest) { index throws(SnapshotError) in try snapshot.chunk(index) }
            try CLIFailure.wrap { try Node.restore(verified, genesisDocument: document, dataDirectory: URL(fileURLWithPath: datadir)) }
            print(SnapshotCommand.summary(snapshot.manifest, extra: ["datadir": .string(datadir),
                                                                      "seconds": .number(JSONNumber((Date().timeIntervalSince(started) * 1000).rounded() / 1000) ?? JSONNumber(0))]))
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new node's data directory from the newest snapshot its peers serve, fetched in verified chunks.",
            discussion: "Then start the node on the data directory (`kramaa node --datadir ... --key ... --bootnode ...`): it syncs the blocks after the snapshot.")
        @OptionGroup var trust: TrustOptions
        @Option(help: "The data directory to create (must not hold a chain).") var datadir: String
        @Option(name: .customLong("key"), help: "This node's secp256k1 key file (its identity on the peer network).") var keyFile: String
        @Option(name: .customLong("bootnode"), help: "A peer to fetch from: ADDRESS@HOST:PORT or HOST:PORT (repeatable).") var bootnodes: [String] = []
        @Option(help: "Seconds to give up after.") var timeout: Int = 300

        func run() async throws {
            let started = Date()
            guard !bootnodes.isEmpty else { throw ValidationError("give --bootnode: the peers to fetch the snapshot from") }
            guard !Node.isInitialized(dataDirectory: URL(fileURLWithPath: datadir)) else {
                throw CLIFailure("\(datadir) already holds a chain; state sync makes a new one")
            }
            let document = try trust.document()
            let (_, chainId) = try trust.trust(document)
            var settings = StateSyncClient.Settings(bootnodes: try bootnodes.map { try P2POptions.parse($0) })
            settings.timeout = .seconds(max(1, timeout))
            let key = try readSecp256k1Key(keyFile)
            let (manifest, chunks) = try await CLIFailure.wrapAsync {
                try await StateSyncClient.fetch(chainId: chainId, key: key, settings: settings, logger: Logger(label: "kramaa.statesync"))
            }
            let (verified, _) = try trust.verify(manifest) { index throws(SnapshotError) in chunks[index] }
            try CLIFailure.wrap { try Node.restore(verified, genesisDocument: document, dataDirectory: URL(fileURLWithPath: datadir)) }
            print(SnapshotCommand.summary(manifest, extra: ["datadir": .string(datadir), "bytes": .number(JSONNumber(UInt64(chunks.reduce(0) { $0 + $1.count }))),
                                                             "seconds": .number(JSONNumber((Date().timeIntervalSince(started) * 1000).rounded() / 1000) ?? JSONNumber(0))]))
        }
    }
}

extension CLIFailure {
    /// ``wrap(_:)`` for async work.
    static func wrapAsync<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let failure as CLIFailure { throw failure } catch {
            throw CLIFailure("\(error)")
        }
    }
}
