import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage

/// State snapshots (docs/OPERATIONS.md, "State sync"): a node writes the state of a certified
/// block in chunks; a new node rebuilds its data directory from one instead of replaying every
/// block from genesis, after checking the state against the block's header and the header
/// against its commit certificate (by the caller, who knows the validators it trusts).
extension Node {
    /// The hash of the genesis block a genesis document makes (the snapshot's chain identity).
    /// Builds the genesis state: a joining node does it once; a store reads its own.
    static func genesisHash(of genesis: Genesis) -> Bytes32 {
        genesis.installing(Node.systemContracts).makeBlock(into: InMemoryState()).hash
    }

    /// Writes a snapshot of the chain in `dataDirectory` at block `height` (nil: the head) to
    /// `output`. Reads one consistent view of the database, so a node may be running on it.
    @discardableResult
    public static func exportSnapshot(dataDirectory: URL, at height: UInt64?, to output: URL,
                                      chunkBytes: Int = 1 << 20) throws(NodeError) -> SnapshotManifest {
        let store: ChainStore
        let source: SnapshotSource
        let document: Data
        do throws(StoreError) {
            guard isInitialized(dataDirectory: dataDirectory) else { throw StoreError.notInitialized(path: dataDirectory.path) }
            store = try ChainStore(path: databasePath(dataDirectory))
            guard let genesis = try store.genesisDocument() else { throw StoreError.notInitialized(path: dataDirectory.path) }
            document = genesis
            source = try store.snapshotSource(at: height)
        } catch {
            throw .store(error)
        }
        let genesis: Genesis
        do { genesis = try Genesis.parse(document) } catch { throw .genesis(error) }
        guard source.block.number > 0 else { throw .dataDirectory("a snapshot of the genesis block is the genesis document itself") }
        let chunks = SnapshotChunk.chunks(of: source.state, targetBytes: chunkBytes).map(\.encoded)
        let manifest = SnapshotManifest(
            chainId: genesis.config.chainId, genesisHash: source.genesisHash, block: source.block.encoded,
            receipts: source.receipts, certificate: source.certificate ?? [], ancestorHeaders: source.ancestorHeaders.map(\.encoded),
            historyPeaks: source.history.peaks.map(\.hash), accountCount: UInt64(source.state.accounts.count), chunkHashes: [])
        do { return try SnapshotFile.write(manifest, chunks: chunks, to: output) } catch { throw .snapshot(error) }
    }

    /// What a snapshot holds once every check but the certificate's passed: the block it is of and
    /// the state rebuilt from its chunks.
    public struct VerifiedSnapshot {
        public let manifest: SnapshotManifest
        public let block: Block
        public let state: InMemoryState
        public let ancestors: [BlockHeader]
    }

    /// Rebuilds the state from `manifest`'s chunks (`chunk(i)` gives chunk i's bytes, already checked
    /// against the manifest's hash) and checks everything the chain itself vouches for: the chain
    /// and genesis, the state root, the receipts, the ancestors' hash links and, on a chain that
    /// commits history, the history peaks and next validators against the header.
    public static func verifySnapshot(_ manifest: SnapshotManifest, genesisDocument: Data,
                                      chunk: (Int) throws(SnapshotError) -> [UInt8]) throws(SnapshotError) -> VerifiedSnapshot {
        let genesis: Genesis
        do { genesis = try Genesis.parse(genesisDocument) } catch { throw .wrongChain("the genesis document does not parse: \(error)") }
        guard manifest.chainId == genesis.config.chainId else {
            throw .wrongChain("chain id \(manifest.chainId), this genesis has \(genesis.config.chainId)")
        }
        guard manifest.genesisHash == genesisHash(of: genesis) else {
            throw .wrongChain("genesis block \(manifest.genesisHash), this genesis document makes another")
        }
        let block: Block
        do { block = try Block.decode(manifest.block) } catch { throw .malformed("the block does not decode: \(error)") }
        guard block.number > 0 else { throw .malformed("a snapshot at block 0") }
        let state = InMemoryState()
        for index in manifest.chunkHashes.indices {
            try SnapshotChunk(decoding: try chunk(index)).apply(to: state)
        }
        guard UInt64(state.accounts.count) == manifest.accountCount else {
            throw .malformed("\(state.accounts.count) accounts, the manifest says \(manifest.accountCount)")
        }
        let root = state.stateRoot
        guard root == block.header.stateRoot else {
            throw .notCertified("the state's root is \(root), block \(block.number)'s header says \(block.header.stateRoot)")
        }
        var ancestors: [BlockHeader] = []
        var child = block.header
        for raw in manifest.ancestorHeaders {
            guard let header = try? BlockHeader.decode(raw), header.hash == child.parentHash, header.number + 1 == child.number else {
                throw .notCertified("ancestor header \(ancestors.count + 1) is not the parent of block \(child.number)")
            }
            ancestors.append(header)
            child = header
        }
        guard ancestors.count == Int(min(256, block.number)) else {
            throw .malformed("\(ancestors.count) ancestor headers, \(min(256, block.number)) expected")
        }
        guard let history = HistoryAccumulator(count: block.number, peakHashes: manifest.historyPeaks) else {
            throw .malformed("\(manifest.historyPeaks.count) history peaks do not fit \(block.number) blocks")
        }
        if genesis.config.commitsHistory {
            let executor = BlockExecutor(config: genesis.config, systemContracts: Node.systemContracts)
            guard let commitment = executor.commitment(after: block.header, historyRoot: history.root, state: state),
                  commitment.extraData == block.header.extraData else {
                throw .notCertified("the history peaks and the validators in the state do not give block \(block.number)'s commitment")
            }
        }
        return VerifiedSnapshot(manifest: manifest, block: block, state: state, ancestors: ancestors)
    }

    /// Creates the data directory's chain from a verified (and certified) snapshot. Nothing is left
    /// in `dataDirectory` if writing fails.
    public static func restore(_ verified: VerifiedSnapshot, genesisDocument: Data, dataDirectory: URL) throws(NodeError) {
        guard !isInitialized(dataDirectory: dataDirectory) else { throw .store(.alreadyInitialized(path: dataDirectory.path)) }
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .dataDirectory("cannot create \(dataDirectory.path): \(error.localizedDescription)")
        }
        let path = databasePath(dataDirectory)
        do {
            let store = try ChainStore(path: path)
            try store.initialize(genesisDocument: genesisDocument, genesisHash: verified.manifest.genesisHash, snapshotBlock: verified.block, receipts: verified.manifest.receipts,
                                 certificate: verified.manifest.certificate.isEmpty ? nil : verified.manifest.certificate,
                                 ancestorHeaders: verified.ancestors, historyPeaks: verified.manifest.historyPeaks,
                                 changes: verified.state.takeChanges())
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw .store(error)
        }
    }
}
