import KramaaEVM
import KramaaPrimitives

/// The private data collections (`0x…4b52001a`): data shared among named organisations, of which
/// the chain holds only a salted hash (docs/PRIVATE-DATA.md). A collection names its member
/// organisations, its policy (how many other member nodes must hold an item before its hash is
/// recorded) and its retention; an item is `keccak256(salt ‖ value)` under a 32-byte key. The
/// value and salt travel only between the member organisations' nodes (accounts holding the
/// `node` role in a member organisation) over the peer network; every node erases an item when
/// it is purged or its retention ends, and the hash stays, so history that names it still verifies.
///
/// ```
/// function createCollection(uint256 ownerOrg, string name, uint256[] memberOrgs, uint64 retentionSeconds, uint64 requiredPeers) returns (uint256 id)
/// function recordItem(uint256 collection, bytes32 key, bytes32 hash)     // a member of a member organisation
/// function recordItems(uint256 collection, bytes32[] keys, bytes32[] hashes)   // several at once (an EPCIS capture's events)
/// function purgeItem(uint256 collection, bytes32 key)                     // an admin of a member organisation, or the recorder
/// function getCollection(uint256 id) view returns (string name, uint256 ownerOrg, uint256[] members, uint256 retentionSeconds, uint256 requiredPeers, uint256 createdAtBlock)
/// function itemRecord(uint256 collection, bytes32 key) view returns (bytes32 hash, uint256 blockNumber, uint256 recordedAt, address recorder, uint256 purgedAt, uint256 expiresAt)
/// function mayAccess(uint256 collection, address account) view returns (bool)   // any role in a member organisation
/// function isMemberNode(uint256 collection, address node) view returns (bool)   // the node role in a member organisation
/// function collectionCount() view returns (uint256)
/// event CollectionCreated(uint256 indexed id, uint256 indexed ownerOrg, string name)
/// event PrivateDataRecorded(uint256 indexed collection, bytes32 indexed key, bytes32 hash, address recorder)
/// event PrivateDataPurged(uint256 indexed collection, bytes32 indexed key, address by)
/// ```
///
/// Times are block timestamps (seconds); `expiresAt` is `recordedAt + retentionSeconds`, 0 when
/// the collection keeps items until purged. A key is recorded once, ever: a purged key stays taken.
public struct PrivateDataCollections: SystemContract {
    public static let address = SystemContracts.address(0x1a)
    public static let maxMembers = 32
    public static let maxNameLength = 128

    enum Slot {
        static let count = StorageSlot.named("kramaa.private.count")
        static let collections = StorageSlot.named("kramaa.private.collections")
        static let items = StorageSlot.named("kramaa.private.items")

        static func collection(_ id: UInt64) -> UInt256 { StorageSlot.mapping(collections, UInt256(id)) }
        static func name(_ id: UInt64) -> UInt256 { collection(id) }
        static func owner(_ id: UInt64) -> UInt256 { StorageSlot.offset(collection(id), 1) }
        static func members(_ id: UInt64) -> UInt256 { StorageSlot.offset(collection(id), 2) }
        static func retention(_ id: UInt64) -> UInt256 { StorageSlot.offset(collection(id), 3) }
        static func requiredPeers(_ id: UInt64) -> UInt256 { StorageSlot.offset(collection(id), 4) }
        static func createdAt(_ id: UInt64) -> UInt256 { StorageSlot.offset(collection(id), 5) }

        static func item(_ id: UInt64, _ key: Bytes32) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(items, UInt256(id)), key) }
        static func hash(_ id: UInt64, _ key: Bytes32) -> UInt256 { item(id, key) }
        static func block(_ id: UInt64, _ key: Bytes32) -> UInt256 { StorageSlot.offset(item(id, key), 1) }
        static func recordedAt(_ id: UInt64, _ key: Bytes32) -> UInt256 { StorageSlot.offset(item(id, key), 2) }
        static func recorder(_ id: UInt64, _ key: Bytes32) -> UInt256 { StorageSlot.offset(item(id, key), 3) }
        static func purgedAt(_ id: UInt64, _ key: Bytes32) -> UInt256 { StorageSlot.offset(item(id, key), 4) }
    }

    /// The functions of this contract's ABI (the one place their signatures are written).
    public enum Method {
        public static let create = SystemMethod("createCollection(uint256,string,uint256[],uint64,uint64)")
        public static let record = SystemMethod("recordItem(uint256,bytes32,bytes32)")
        public static let recordMany = SystemMethod("recordItems(uint256,bytes32[],bytes32[])")
        public static let purge = SystemMethod("purgeItem(uint256,bytes32)")
        public static let get = SystemMethod("getCollection(uint256)")
        public static let item = SystemMethod("itemRecord(uint256,bytes32)")
        public static let mayAccess = SystemMethod("mayAccess(uint256,address)")
        public static let isMemberNode = SystemMethod("isMemberNode(uint256,address)")
        public static let count = SystemMethod("collectionCount()")
    }

    public enum Event {
        public static let created = ABI.eventTopic("CollectionCreated(uint256,uint256,string)")
        public static let recorded = ABI.eventTopic("PrivateDataRecorded(uint256,bytes32,bytes32,address)")
        public static let purged = ABI.eventTopic("PrivateDataPurged(uint256,bytes32,address)")
    }

    public init() {}

    /// The member organisations of `collection` (empty when there is no such collection).
    public static func members(of collection: UInt64, _ storage: some StorageReader) throws(SystemCallError) -> [UInt64] {
        try storage.loadWordArray(Slot.members(collection)).map { $0.uint64Value ?? 0 }
    }

    /// Whether `account` holds any of `roles` (any role when empty) in a member organisation.
    static func holds(_ account: Address, _ roles: OrganizationRoles, in collection: UInt64, _ call: SystemCall) throws(SystemCallError) -> Bool {
        let orgs = call.reading(OrganizationRegistry.address)
        for org in try members(of: collection, call) {
            let held = try OrganizationRegistry.roles(of: account, in: org, orgs)
            if roles.isEmpty ? !held.isEmpty : !held.isDisjoint(with: roles) { return true }
        }
        return false
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.create.selector:
            try call.requireNoValue()
            let (owner, name, members, retention, peers) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextUInt64(), try d.nextString(), try d.nextArray { d throws(ABIDecodingError) in try d.nextUInt64() }, try d.nextUInt64(), try d.nextUInt64())
            }
            return ABI.encode([.uint(UInt256(try create(owner: owner, name: name, members: members, retention: retention, requiredPeers: peers, call)))])
        case Method.record.selector:
            try call.requireNoValue()
            let (id, key, hash) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextBytes32(), try d.nextBytes32()) }
            try record(id, key, hash, call)
            return []
        case Method.recordMany.selector:
            try call.requireNoValue()
            let (id, keys, hashes) = try call.decode { d throws(ABIDecodingError) in
                (try d.nextUInt64(), try d.nextArray { d throws(ABIDecodingError) in try d.nextBytes32() }, try d.nextArray { d throws(ABIDecodingError) in try d.nextBytes32() })
            }
            try call.require(keys.count == hashes.count && !keys.isEmpty && keys.count <= 256, "recordItems takes 1 to 256 keys and as many hashes")
            for (key, hash) in zip(keys, hashes) { try record(id, key, hash, call) }
            return []
        case Method.purge.selector:
            try call.requireNoValue()
            let (id, key) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextBytes32()) }
            try purge(id, key, call)
            return []
        case Method.get.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try requireCollection(id, call)
            return ABI.encode([.string(try call.loadString(Slot.name(id))), .uint(try call.load(Slot.owner(id))),
                               .array(try Self.members(of: id, call).map { .uint(UInt256($0)) }), .uint(try call.load(Slot.retention(id))),
                               .uint(try call.load(Slot.requiredPeers(id))), .uint(try call.load(Slot.createdAt(id)))])
        case Method.item.selector:
            let (id, key) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextBytes32()) }
            try requireCollection(id, call)
            let recordedAt = try call.loadUInt64(Slot.recordedAt(id, key))
            try call.require(try call.loadUInt64(Slot.block(id, key)) != 0, "no item \(key) in collection \(id)")
            let retention = try call.loadUInt64(Slot.retention(id))
            return ABI.encode([.fixedBytes(Bytes32(try call.load(Slot.hash(id, key)))), .uint(try call.load(Slot.block(id, key))),
                               .uint(UInt256(recordedAt)), .address(try call.loadAddress(Slot.recorder(id, key))),
                               .uint(try call.load(Slot.purgedAt(id, key))), .uint(UInt256(retention == 0 ? 0 : recordedAt &+ retention))])
        case Method.mayAccess.selector:
            let (id, account) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress()) }
            return ABI.encode([.bool(try Self.holds(account, [], in: id, call))])
        case Method.isMemberNode.selector:
            let (id, node) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress()) }
            return ABI.encode([.bool(try Self.holds(node, .node, in: id, call))])
        case Method.count.selector:
            return ABI.encode([.uint(try call.load(Slot.count))])
        default:
            throw .reverted("unknown function of the private data collections")
        }
    }

    private func requireCollection(_ id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        let created = id == 0 ? UInt256.zero : try call.load(Slot.createdAt(id))
        try call.require(!created.isZero, "no collection \(id)")
    }

    private func create(owner: UInt64, name: String, members: [UInt64], retention: UInt64, requiredPeers: UInt64,
                        _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        try OrganizationRegistry.require(call.caller, holds: .admin, in: owner, call)
        try call.require(!name.isEmpty && name.utf8.count <= Self.maxNameLength, "a collection name has 1 to \(Self.maxNameLength) bytes")
        var orgs = [owner]
        for org in members where !orgs.contains(org) {
            try call.require(try OrganizationRegistry.exists(org, call.reading(OrganizationRegistry.address)), "no organisation \(org) (named as a member)")
            orgs.append(org)
        }
        try call.require(orgs.count <= Self.maxMembers, "a collection has at most \(Self.maxMembers) member organisations")
        try call.require(retention <= 100 * 365 * 86_400, "retention is at most 100 years (0: until purged)")
        try call.require(requiredPeers <= 64, "requiredPeers is at most 64")
        let id = try call.loadUInt64(Slot.count) + 1
        try call.store(Slot.count, id)
        try call.storeString(Slot.name(id), name)
        try call.store(Slot.owner(id), owner)
        try call.storeWordArray(Slot.members(id), orgs.map { UInt256($0) })
        try call.store(Slot.retention(id), retention)
        try call.store(Slot.requiredPeers(id), requiredPeers)
        try call.store(Slot.createdAt(id), max(call.blockNumber, 1))
        try call.emit([Event.created, Bytes32(UInt256(id)), Bytes32(UInt256(owner))], ABI.encode([.string(name)]))
        return id
    }

    private func record(_ id: UInt64, _ key: Bytes32, _ hash: Bytes32, _ call: SystemCall) throws(SystemCallError) {
        try requireCollection(id, call)
        try call.require(try Self.holds(call.caller, [], in: id, call), "\(call.caller) is not a member of a member organisation of collection \(id)")
        try call.require(hash != .zero, "an item's hash is keccak256(salt ‖ value), not zero")
        try call.require(try call.loadUInt64(Slot.block(id, key)) == 0, "item \(key) is recorded in collection \(id) already (keys are never reused)")
        try call.store(Slot.hash(id, key), UInt256(hash))
        try call.store(Slot.block(id, key), max(call.blockNumber, 1))
        try call.store(Slot.recordedAt(id, key), call.timestamp)
        try call.store(Slot.recorder(id, key), call.caller)
        try call.emit([Event.recorded, Bytes32(UInt256(id)), key], ABI.encode([.fixedBytes(hash), .address(call.caller)]))
    }

    private func purge(_ id: UInt64, _ key: Bytes32, _ call: SystemCall) throws(SystemCallError) {
        try requireCollection(id, call)
        try call.require(try call.loadUInt64(Slot.block(id, key)) != 0, "no item \(key) in collection \(id)")
        try call.require((try call.load(Slot.purgedAt(id, key))).isZero, "item \(key) of collection \(id) is purged already")
        let recorder = try call.loadAddress(Slot.recorder(id, key))
        let admin = try Self.holds(call.caller, .admin, in: id, call)
        try call.require(call.caller == recorder || admin,
                         "only the recorder or an admin of a member organisation may purge item \(key) of collection \(id)")
        try call.store(Slot.purgedAt(id, key), max(call.timestamp, 1))
        try call.emit([Event.purged, Bytes32(UInt256(id)), key], ABI.encode([.address(call.caller)]))
    }
}
