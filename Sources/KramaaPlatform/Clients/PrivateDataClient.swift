import KramaaEVM
import KramaaPrimitives

/// A private data collection as the chain holds it.
public struct PrivateCollectionRecord: Equatable, Sendable {
    public var id: UInt64
    public var name: String
    public var owner: UInt64
    /// Member organisations, the owner first.
    public var members: [UInt64]
    /// Seconds an item is kept after it is recorded; 0: until purged.
    public var retentionSeconds: UInt64
    /// Other member nodes that must hold an item before its hash is recorded.
    public var requiredPeers: UInt64
    public var createdAtBlock: UInt64
}

/// One item's record: its salted hash and what happened to it.
public struct PrivateItemRecord: Equatable, Sendable {
    public var hash: Bytes32
    public var blockNumber: UInt64
    /// Block timestamp of the record (seconds).
    public var recordedAt: UInt64
    public var recorder: Address
    /// Block timestamp of the purge; 0: not purged.
    public var purgedAt: UInt64
    /// When the retention ends; 0: kept until purged.
    public var expiresAt: UInt64

    /// Whether the value must be gone from every node at `time` (seconds): purged, or past its retention.
    public func erased(at time: UInt64) -> Bool { purgedAt != 0 || (expiresAt != 0 && time >= expiresAt) }
}

/// The private data collections, typed (the node's private data service, the REST API and the CLI share it).
public struct PrivateDataClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = PrivateDataCollections.Method
    static var address: Address { PrivateDataCollections.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func collection(_ id: UInt64) throws(ContractCallError) -> PrivateCollectionRecord {
        try M.get.read(caller, at: Self.address, [.uint(UInt256(id))]) { d throws(ABIDecodingError) in
            PrivateCollectionRecord(id: id, name: try d.nextString(), owner: try d.nextUInt64(),
                                    members: try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt64() }, retentionSeconds: try d.nextUInt64(),
                                    requiredPeers: try d.nextUInt64(), createdAtBlock: try d.nextUInt64())
        }
    }

    /// The item's record; nil when nothing is recorded under `key` (the collection must exist).
    public func item(_ collection: UInt64, _ key: Bytes32) throws(ContractCallError) -> PrivateItemRecord? {
        do {
            return try M.item.read(caller, at: Self.address, [.uint(UInt256(collection)), .fixedBytes(key)]) { d throws(ABIDecodingError) in
                PrivateItemRecord(hash: try d.nextBytes32(), blockNumber: try d.nextUInt64(), recordedAt: try d.nextUInt64(), recorder: try d.nextAddress(),
                                  purgedAt: try d.nextUInt64(), expiresAt: try d.nextUInt64())
            }
        } catch .reverted(let reason?) where reason.hasPrefix("no item") {
            return nil
        }
    }

    /// Whether `account` holds a role in a member organisation (may read the collection's data).
    public func mayAccess(_ collection: UInt64, _ account: Address) throws(ContractCallError) -> Bool {
        try M.mayAccess.read(caller, at: Self.address, [.uint(UInt256(collection)), .address(account)]) { d throws(ABIDecodingError) in try d.nextBool() }
    }

    /// Whether `node` holds the node role in a member organisation (holds the collection's data).
    public func isMemberNode(_ collection: UInt64, _ node: Address) throws(ContractCallError) -> Bool {
        try M.isMemberNode.read(caller, at: Self.address, [.uint(UInt256(collection)), .address(node)]) { d throws(ABIDecodingError) in try d.nextBool() }
    }
}
