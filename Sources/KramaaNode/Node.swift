import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaStorage

/// One node's chain: the database, the live state, the transaction pool and the block
/// builder, kept consistent under one lock. The API and the block producer call into it.
///
/// Data directory layout: `chain.sqlite` (with its `-wal` and `-shm` files) holds the genesis
/// document, every block, receipt and index, and the current state.
public final class Node: @unchecked Sendable {
    public let dataDirectory: URL
    public let genesis: Genesis
    public let store: ChainStore
    let state = InMemoryState()
    let pool: TxPool
    let executor: BlockExecutor
    let lock = NSLock()
    let evmThread = LargeStackThread(name: "kramaa-evm")
    private(set) var head: BlockHeader

    static func databasePath(_ dir: URL) -> String { dir.appendingPathComponent("chain.sqlite").path }

    /// Creates a chain in `dataDirectory` from a genesis document.
    public static func initialize(dataDirectory: URL, genesisDocument: Data) throws(NodeError) {
        let genesis: Genesis
        do { genesis = try Genesis.parse(genesisDocument) } catch { throw .genesis(error) }
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .dataDirectory("cannot create \(dataDirectory.path): \(error.localizedDescription)")
        }
        let state = InMemoryState()
        let block = genesis.makeBlock(into: state)
        do {
            let store = try ChainStore(path: databasePath(dataDirectory))
            try store.initialize(genesisDocument: genesisDocument, block: block, changes: state.takeChanges())
        } catch {
            throw .store(error)
        }
    }

    /// Opens the chain in `dataDirectory`: loads the state and checks it against the head.
    public init(dataDirectory: URL, poolConfig: TxPoolConfig? = nil) throws(NodeError) {
        self.dataDirectory = dataDirectory
        let path = Node.databasePath(dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else { throw .store(.notInitialized(path: dataDirectory.path)) }
        do {
            store = try ChainStore(path: path)
            guard let document = try store.genesisDocument(), let number = try store.headNumber(),
                  let head = try store.header(number: number) else { throw StoreError.notInitialized(path: dataDirectory.path) }
            do { genesis = try Genesis.parse(document) } catch { throw NodeError.genesis(error) }
            try store.loadState(into: state, head: head)
            self.head = head
            for n in (number > 256 ? number - 256 : 0)...number {
                if let h = try store.header(number: n) { state.blockHashes[n] = h.hash }
            }
        } catch let error as NodeError {
            throw error
        } catch let error as StoreError {
            throw .store(error)
        } catch {
            throw .dataDirectory("\(error)")
        }
        let config = poolConfig ?? TxPoolConfig()
        pool = TxPool(chain: genesis.config, config: config)
        executor = BlockExecutor(config: genesis.config)
    }

    public var chainId: UInt64 { genesis.config.chainId }

    /// The latest stored block's header.
    public var latest: BlockHeader { lock.withLock { head } }

    /// Decodes, checks and pools a signed transaction (eth_sendRawTransaction).
    public func submit(raw: [UInt8]) throws(NodeError) -> Bytes32 {
        let tx: Transaction
        do { tx = try Transaction.decode(raw) } catch { throw .decode(error) }
        lock.lock()
        defer { lock.unlock() }
        do { try pool.add(tx, encodedSize: raw.count, state: state, head: head) } catch { throw .pool(error) }
        return tx.hash
    }

    /// The nonce an account's next transaction should carry, counting pooled ones.
    public func pendingNonce(_ address: Address) -> UInt64 {
        lock.withLock { pool.nextNonce(address, state: state) }
    }

    /// Whether the pool has transactions that can run now.
    public var hasPendingTransactions: Bool {
        lock.withLock { pool.counts(state: state).pending > 0 }
    }

    /// Builds a block from the pool on the head, stores it durably, then makes it the head.
    /// Returns nil when there is nothing to include and empty blocks are not wanted.
    @discardableResult
    public func produceBlock(timestamp: UInt64, allowEmpty: Bool) throws(NodeError) -> ExecutedBlock? {
        lock.lock()
        defer { lock.unlock() }
        let header = executor.childHeader(of: head, timestamp: timestamp, coinbase: genesis.config.validators.first ?? genesis.coinbase)
        let candidates = pool.pending(state: state, baseFee: header.baseFeePerGas)
        if candidates.isEmpty && !allowEmpty { return nil }
        let state = self.state, executor = self.executor
        let executed = evmThread.run { executor.build(header, candidates: candidates, state: state) }
        for rejected in executed.rejected { pool.remove(hash: rejected.hash) }
        if executed.block.transactions.isEmpty && !allowEmpty {
            _ = state.takeChanges()
            return nil
        }
        do {
            try store.append(executed, changes: state.takeChanges())
        } catch {
            throw .store(error)
        }
        head = executed.block.header
        state.blockHashes[head.number] = executed.block.hash
        state.blockHashes[head.number &- 257] = nil
        pool.prune(state: state)
        return executed
    }

    /// Reads the live state under the node's lock.
    public func withState<T>(_ body: (InMemoryState, BlockHeader) -> T) -> T {
        lock.withLock { body(state, head) }
    }
}
