import KramaaFileExchange
import KramaaFileStore
import KramaaFiles

/// The node's ``FileStore`` as replication's ``ReplicaStore``: blocks found by multihash, each
/// checked against its CID and written durably before it counts, within the store's quota;
/// pins kept with the node's other pins (garbage collection spares them).
public struct FileStoreReplica: ReplicaStore {
    public let store: FileStore

    public init(_ store: FileStore) { self.store = store }

    public func block(_ cid: [UInt8]) -> [UInt8]? {
        guard let cid = try? CID(bytes: cid) else { return nil }
        return (try? store.blocks.block(cid)) ?? nil
    }

    public func put(_ block: ExchangeBlock) throws {
        let cid = try CID(bytes: block.cid)
        try store.checkQuota(adding: UInt64(block.data.count))
        try store.blocks.put(cid, block.data)
    }

    /// A fetch's batch, every block of which the fetch checked against its CID (``DAGFetch``),
    /// appended to the store's batch pack and synced once.
    public func put(_ blocks: [ExchangeBlock]) throws {
        let batch = try blocks.map { (cid: try CID(bytes: $0.cid), block: $0.data) }
        try store.checkQuota(adding: blocks.reduce(0) { $0 + UInt64($1.data.count) })
        try store.blocks.put(batch: batch, checked: true)
    }

    public func pin(_ root: [UInt8]) throws { try store.pin(try CID(bytes: root), name: "replica") }
    public func unpin(_ root: [UInt8]) throws { try store.unpin(try CID(bytes: root)) }

    public var freeBytes: UInt64 { store.room }
}
