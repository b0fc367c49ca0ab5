import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaStorage

/// The node as a `ChainProvider`: headers from the head cell or the database, everything else
/// from the database, state through the undo history (`withState(at:)`).
extension Node: ChainProvider {
    /// The header of block `number`, or nil when there is no such block yet.
    public func header(number: UInt64) throws(ChainReadError) -> BlockHeader? {
        let head = latest
        if number == head.number { return head }
        if number > head.number { return nil }
        return try read { () throws(StoreError) in try store.header(number: number) }
    }

    public func number(ofHash hash: Bytes32) throws(ChainReadError) -> UInt64? {
        try read { () throws(StoreError) in try store.number(ofHash: hash) }
    }

    public func block(number: UInt64) throws(ChainReadError) -> Block? {
        try read { () throws(StoreError) in try store.block(number: number) }
    }

    public func receipts(number: UInt64) throws(ChainReadError) -> StoredReceipts? {
        try read { () throws(StoreError) in try store.receipts(number: number) }
    }

    public func transactionLocation(_ hash: Bytes32) throws(ChainReadError) -> (number: UInt64, index: Int)? {
        try read { () throws(StoreError) in try store.transactionLocation(hash) }
    }

    public func logs(_ filter: LogFilter, limit: Int) throws(ChainReadError) -> [LocatedLog] {
        try read { () throws(StoreError) in try store.logs(filter, limit: limit) }
    }

    /// The hashes of blocks `range`, in order (one indexed read).
    public func blockHashes(_ range: Range<UInt64>) throws(ChainReadError) -> [Bytes32] {
        try read { () throws(StoreError) in try store.blockHashes(range) }
    }

    /// The certificate stored with block `number` (nil for genesis and single-node blocks).
    public func certificate(number: UInt64) throws(ChainReadError) -> [UInt8]? {
        try read { () throws(StoreError) in try store.certificate(number: number) }
    }

    public func addBlockObserver(_ body: @escaping @Sendable (ExecutedBlock) -> Void) -> Int {
        addObserver { event in
            if case .newBlock(let executed) = event { body(executed) }
        }
    }

    public func removeBlockObserver(_ token: Int) { removeObserver(token) }

    private func read<T>(_ body: () throws(StoreError) -> T) throws(ChainReadError) -> T {
        do { return try body() } catch {
            if case .tooManyResults(let limit) = error { throw .tooManyResults(limit: limit) }
            throw .storage(error.description)
        }
    }
}
