import KramaaEVM
import KramaaPrimitives

/// The file registry, typed: storage nodes, pins and their readers (the node's replication
/// engine, the files API and the CLI share it). CIDs go in binary (``CIDBytes``' forms).
public struct FileRegistryClient<Caller: ContractReader>: Sendable {
    public let caller: Caller
    typealias M = FileRegistry.Method
    static var address: Address { FileRegistry.address }

    public init(_ caller: Caller) { self.caller = caller }

    public func pin(_ cid: [UInt8]) throws(ContractCallError) -> FilePinRecord {
        try M.getPin.read(caller, at: Self.address, [.bytes(cid)]) { d throws(ABIDecodingError) in try FilePinRecord(decoding: &d) }
    }

    public func storageNode(_ node: Address) throws(ContractCallError) -> StorageNodeRecord {
        try M.getNode.read(caller, at: Self.address, [.address(node)]) { d throws(ABIDecodingError) in try StorageNodeRecord(node: node, decoding: &d) }
    }

    /// Every registered storage node.
    public func storageNodes() throws(ContractCallError) -> [Address] {
        try M.nodes.read(caller, at: Self.address) { d throws(ABIDecodingError) in try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() } }
    }

    public func quota(of org: UInt64) throws(ContractCallError) -> FileQuotaRecord {
        try M.quota.read(caller, at: Self.address, [.uint(UInt256(org))]) { d throws(ABIDecodingError) in try FileQuotaRecord(organization: org, decoding: &d) }
    }

    /// Whether `account` may read the file by its policy now.
    public func mayRead(_ cid: [UInt8], account: Address) throws(ContractCallError) -> Bool {
        try M.mayRead.read(caller, at: Self.address, [.bytes(cid), .address(account)]) { d throws(ABIDecodingError) in try d.nextBool() }
    }

    /// The file key wrapped for `recipientKeyHash`; nil when none was set.
    public func readerKey(_ cid: [UInt8], recipientKeyHash: Bytes32) throws(ContractCallError) -> [UInt8]? {
        let key = try M.readerKey.read(caller, at: Self.address, [.bytes(cid), .fixedBytes(recipientKeyHash)]) { d throws(ABIDecodingError) in try d.nextBytes() }
        return key.isEmpty ? nil : key
    }
}

/// What a pin asks for (``FileRegistryClient/pin(_:_:)``).
public struct FilePinRequest: Sendable, Equatable {
    public var size: UInt64
    public var owner: FileOwner
    public var minReplicas: UInt64
    public var maxReplicas: UInt64
    public var readers: FileReaders

    public init(size: UInt64, owner: FileOwner, minReplicas: UInt64, maxReplicas: UInt64, readers: FileReaders = .anyone) {
        self.size = size
        self.owner = owner
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.readers = readers
    }

    /// `pinFile`'s arguments for `cid`.
    public func arguments(_ cid: [UInt8]) -> [ABIValue] {
        [.bytes(cid), .uint(UInt256(size)), .uint(UInt256(owner.kind.rawValue)), .uint(owner.id), .uint(UInt256(minReplicas)),
         .uint(UInt256(maxReplicas)), .uint(UInt256(readers.policy.rawValue)), .uint(readers.readerId), .uint(UInt256(readers.roles.rawValue))]
    }
}

extension FileRegistryClient where Caller: ContractCaller {
    /// Registers `node` (or sets its capacity) as a storage node of `org` (the caller an admin there).
    public func registerStorageNode(_ node: Address, of org: UInt64, capacity: UInt64) async throws(ContractCallError) -> ContractReceipt {
        try await M.registerNode.send(caller, to: Self.address, [.uint(UInt256(org)), .address(node), .uint(UInt256(capacity))])
    }

    public func deregisterStorageNode(_ node: Address) async throws(ContractCallError) -> ContractReceipt {
        try await M.deregisterNode.send(caller, to: Self.address, [.address(node)])
    }

    /// The caller's node is alive with `freeBytes` it can still take.
    public func heartbeat(freeBytes: UInt64) async throws(ContractCallError) -> ContractReceipt {
        try await M.heartbeat.send(caller, to: Self.address, [.uint(UInt256(freeBytes))])
    }

    /// Pins `cid`; returns the nodes allocated.
    public func pin(_ cid: [UInt8], _ request: FilePinRequest) async throws(ContractCallError) -> (nodes: [Address], receipt: ContractReceipt) {
        let receipt = try await M.pin.send(caller, to: Self.address, request.arguments(cid))
        return (try Self.nodes(receipt, M.pin), receipt)
    }

    public func unpin(_ cid: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        try await M.unpin.send(caller, to: Self.address, [.bytes(cid)])
    }

    /// The caller's node holds the whole DAG of `cid`.
    public func reportHeld(_ cid: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        try await M.reportHeld.send(caller, to: Self.address, [.bytes(cid)])
    }

    /// Re-allocates `cid` if fewer than its minimum of holders are live; returns the nodes allocated.
    public func repair(_ cid: [UInt8]) async throws(ContractCallError) -> (nodes: [Address], receipt: ContractReceipt) {
        let receipt = try await M.repair.send(caller, to: Self.address, [.bytes(cid)])
        return (try Self.nodes(receipt, M.repair), receipt)
    }

    /// Stores the file key wrapped for `recipientKeyHash` (empty removes it).
    public func setReaderKey(_ cid: [UInt8], recipientKeyHash: Bytes32, wrappedKey: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        try await M.setReaderKey.send(caller, to: Self.address, [.bytes(cid), .fixedBytes(recipientKeyHash), .bytes(wrappedKey)])
    }

    private static func nodes(_ receipt: ContractReceipt, _ method: SystemMethod) throws(ContractCallError) -> [Address] {
        try receipt.decode(method) { d throws(ABIDecodingError) in try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() } }
    }
}
