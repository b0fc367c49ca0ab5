import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaStorage

/// The node as a `ChainProvider`: headers from the head cell or the database, everything else
/// from the database, state through the undo history (`withState(at:)`).
///
/// Nothing of a block after ``latest`` is read, though the database may hold it already: a block
/// is written before it becomes the latest, and a client that found its receipt then asked for
/// the state at `latest` would get the state before it. So each read takes the latest number
/// first and leaves out what lies beyond it.
extension Node: ChainProvider {
    /// The header of block `number`, or nil when there is no such block yet.
    public func header(number: UInt64) throws(ChainReadError) -> BlockHeader? {
        let head = latest
        if number == head.number { return head }
        if number > head.number { return nil }
        return try read { () throws(StoreError) in try store.header(number: number) }
    }

    public func number(ofHash hash: Bytes32) throws(ChainReadError) -> UInt64? {
        let latest = latest.number
        return try read { () throws(StoreError) in try store.number(ofHash: hash) }.flatMap { $0 <= latest ? $0 : nil }
    }

    public func block(number: UInt64) throws(ChainReadError) -> Block? {
        try readUpToLatest(number) { () throws(StoreError) in try store.block(number: number) }
    }

    public func receipts(number: UInt64) throws(ChainReadError) -> StoredReceipts? {
        try readUpToLatest(number) { () throws(StoreError) in try store.receipts(number: number) }
    }

    public func transactionLocation(_ hash: Bytes32) throws(ChainReadError) -> (number: UInt64, index: Int)? {
        let latest = latest.number
        return try read { () throws(StoreError) in try store.transactionLocation(hash) }.flatMap { $0.number <= latest ? $0 : nil }
    }

    /// Where a transaction is, for the reads that answer either way (eth_getTransactionByHash,
    /// eth_getRawTransactionByHash, the dashboard): waiting (``pooledTransaction(_:)``), else in a
    /// stored block; nil when neither holds it. The pool is asked first: a transaction leaves it
    /// only once its block is read from the database, so asked the other way round, one committed
    /// in between would be in neither.
    public func transactionStatus(_ hash: Bytes32) throws(ChainReadError) -> TransactionStatus? {
        if let pooled = pooledTransaction(hash) { return .pending(pooled) }
        return try transactionLocation(hash).map { .included(number: $0.number, index: $0.index) }
    }

    public func logs(_ filter: LogFilter, limit: Int) throws(ChainReadError) -> [LocatedLog] {
        var filter = filter
        filter.toBlock = min(filter.toBlock, latest.number)
        guard filter.fromBlock <= filter.toBlock else { return [] }
        return try read { () throws(StoreError) in try store.logs(filter, limit: limit) }
    }

    /// The hashes of blocks `range`, in order (one indexed read); those after ``latest`` left out.
    public func blockHashes(_ range: Range<UInt64>) throws(ChainReadError) -> [Bytes32] {
        let end = min(range.upperBound, latest.number &+ 1)
        guard range.lowerBound < end else { return [] }
        return try read { () throws(StoreError) in try store.blockHashes(range.lowerBound..<end) }
    }

    /// The certificate stored with block `number` (nil for genesis and single-node blocks).
    public func certificate(number: UInt64) throws(ChainReadError) -> [UInt8]? {
        try readUpToLatest(number) { () throws(StoreError) in try store.certificate(number: number) }
    }

    public func addBlockObserver(_ body: @escaping @Sendable (ExecutedBlock) -> Void) -> Int {
        addObserver { event in
            if case .newBlock(let executed) = event { body(executed) }
        }
    }

    public func removeBlockObserver(_ token: Int) { removeObserver(token) }

    /// `body`'s read of what block `number` holds, or nil when the block is after ``latest``.
    private func readUpToLatest<T>(_ number: UInt64, _ body: () throws(StoreError) -> T?) throws(ChainReadError) -> T? {
        guard number <= latest.number else { return nil }
        return try read(body)
    }

    private func read<T>(_ body: () throws(StoreError) -> T) throws(ChainReadError) -> T {
        do { return try body() } catch {
            if case .tooManyResults(let limit) = error { throw .tooManyResults(limit: limit) }
            throw .storage(error.description)
        }
    }
}

/// A transaction found by ``Node/transactionStatus(_:)``.
public enum TransactionStatus: Sendable, Equatable {
    /// In the pool, or in a committed block still being written (not read from the database yet).
    case pending(SignedTransaction)
    /// At `index` of the stored block `number`.
    case included(number: UInt64, index: Int)
}
