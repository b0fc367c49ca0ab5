import KramaaEVM
import KramaaPrimitives

/// The file registry (`0x…4b520016`): which files the consortium keeps, on which storage nodes,
/// and who may read them (docs/FILES.md, "The file registry"). The bytes stay off chain in the
/// nodes' block stores; the chain decides where they go, so every node reaches the same answer.
///
/// ```
/// function registerStorageNode(uint256 org, address node, uint64 capacity)  // admins of org; again: new capacity
/// function deregisterStorageNode(address node)                              // admins of its organisation
/// function heartbeat(uint64 freeBytes)                                      // the node's own account
/// function pinFile(bytes cid, uint64 size, uint8 ownerKind, uint256 ownerId, uint8 minReplicas, uint8 maxReplicas,
///                  uint8 policy, uint256 readerId, uint256 readerRoles) returns (address[] nodes)
/// function unpinFile(bytes cid)                                             // who may pin it
/// function reportHeld(bytes cid)                                            // a node allocated the file
/// function repair(bytes cid) returns (address[] nodes)                      // anyone
/// function setReaderKey(bytes cid, bytes32 recipientKeyHash, bytes wrappedKey)  // who may pin it; empty removes
/// function getPin(bytes cid) view returns (uint8 ownerKind, uint256 ownerId, uint256 size, uint8 minReplicas,
///     uint8 maxReplicas, uint8 policy, uint256 readerId, uint256 readerRoles, uint256 pinnedAtBlock,
///     address[] holders, bool[] held, bool[] live)
/// function getStorageNode(address node) view returns (uint256 org, uint256 capacity, uint256 freeBytes,
///     uint256 allocatedBytes, uint256 lastHeartbeat, bool live)
/// function storageNodes() view returns (address[])
/// function quotaOf(uint256 org) view returns (uint256 used, uint256 limit)
/// function mayRead(bytes cid, address account) view returns (bool)
/// function readerKey(bytes cid, bytes32 recipientKeyHash) view returns (bytes wrappedKey)
/// event StorageNodeRegistered(address indexed node, uint256 indexed org, uint256 capacity)
/// event StorageNodeDeregistered(address indexed node, uint256 indexed org)
/// event FilePinned(bytes32 indexed cidHash, uint8 indexed ownerKind, uint256 indexed ownerId, bytes cid, uint256 size,
///                  uint8 minReplicas, uint8 maxReplicas, uint8 policy)
/// event FileAllocated(bytes32 indexed cidHash, address indexed node, bytes cid, uint256 size)
/// event FileHeld(bytes32 indexed cidHash, address indexed node)
/// event FileReleased(bytes32 indexed cidHash, address indexed node, bytes cid)
/// event FileUnpinned(bytes32 indexed cidHash, bytes cid)
/// event ReaderKeySet(bytes32 indexed cidHash, bytes32 indexed recipientKeyHash, bytes wrappedKey)
/// ```
///
/// - A CID is taken in binary (``CIDBytes``: v0 or v1; raw, dag-pb or dag-cbor; sha2-256) and
///   kept in its v1 form; `cidHash` is keccak256 of that form. One pin per CID: pinning a CID
///   pinned already is refused, whoever asks (one allocation and one policy per content).
/// - Storage nodes: an admin of an organisation registers the account its node signs with,
///   with a capacity. A node is live while its last heartbeat (block time) is at most
///   ``heartbeatTimeout`` (300 s) old, or what the consortium set in its genesis at
///   ``Slot/heartbeatTimeout`` (`kramaa devnet --files-heartbeat-timeout`); it is allocated
///   nothing before its first. A node takes
///   `min(freeBytes, capacity − allocatedBytes)` more: `freeBytes` is what its last heartbeat
///   reported (what it can still take, allocations it does not hold yet subtracted), counted
///   down by each allocation until the next heartbeat; `allocatedBytes` is the ledger.
/// - A pin is made, managed and unpinned by the members of the owning organisation with the
///   `files` role (or admins), or for an asset-owned file by the asset's current owner.
/// - Allocation is deterministic (``allocate(_:size:among:avoiding:)``): live nodes with room,
///   organisations not holding a replica first, then most room, then the lowest address. A pin
///   gets `maxReplicas` nodes where it can, and is refused if fewer than `minReplicas` have room.
///   Which files a node holds is read from `FileAllocated`/`FileReleased` logs (topic 2 is the
///   node), not kept per node on chain.
/// - Repair (anyone): holders whose node was deregistered are released; holders whose heartbeat
///   is stale stop counting but keep their place; if fewer than `minReplicas` live holders
///   remain, new nodes are allocated until the minimum is met. A stale holder that comes back
///   counts again: it is not released and nothing is copied because it returned (the pin may
///   then hold more than `maxReplicas` until it is unpinned).
/// - Quota: an organisation may have `size × maxReplicas` of pinned files (its own, and those
///   of assets it minted) up to ``baseQuota`` plus the capacity of the storage nodes it
///   registered. Repair is not charged. No account sets quotas: the only consortium governance
///   on chain decides validators, in a module above this one.
/// - Private files (policy 1: members of organisation `readerId` holding one of `readerRoles`,
///   any role when 0; policy 2: the current owner or custodian of asset `readerId`): the file
///   key, wrapped with HPKE for each recipient key, is stored with the pin; `mayRead` answers by
///   the policy at the current block, so after an asset transfer the new owner may read and the
///   old one may not. Keys already fetched cannot be un-fetched: the policy controls whom nodes
///   serve a private file's blocks to from now on, and whom the owner wraps new keys for.
public struct FileRegistry: SystemContract {
    public static let address = SystemContracts.address(0x16)
    /// Seconds of block time after which a node without a heartbeat is no longer live.
    public static let heartbeatTimeout: UInt64 = 300
    /// Replicas a pin may ask for, and storage nodes the registry keeps (allocation reads them all).
    public static let maxReplicas: UInt64 = 16, maxNodes = 64
    /// What an organisation may pin (size × maxReplicas) before counting its nodes' capacity: 1 GiB.
    public static let baseQuota: UInt64 = 1 << 30
    public static let maxWrappedKeyLength = 1024

    /// Who owns a pinned file.
    public enum OwnerKind: UInt64, Sendable {
        case organization = 1, asset = 2
    }

    /// Who may read a pinned file.
    public enum ReadPolicy: UInt64, Sendable {
        /// Anyone: the file is not encrypted.
        case `public` = 0
        /// Members of organisation `readerId` holding one of `readerRoles` (any role when 0); admins always.
        case organizationRole = 1
        /// The current owner or custodian of asset `readerId`.
        case assetHolder = 2
    }

    public enum Slot {
        static let nodeList = StorageSlot.named("kramaa.files.nodes")
        static let nodes = StorageSlot.named("kramaa.files.node")
        static let pins = StorageSlot.named("kramaa.files.pins")
        static let pinCount = StorageSlot.named("kramaa.files.pinCount")
        static let held = StorageSlot.named("kramaa.files.held")
        static let keys = StorageSlot.named("kramaa.files.keys")
        static let usage = StorageSlot.named("kramaa.files.usage")
        static let contributed = StorageSlot.named("kramaa.files.contributed")
        /// The consortium's heartbeat timeout in seconds, set in the genesis (0: ``FileRegistry/heartbeatTimeout``).
        public static let heartbeatTimeout = StorageSlot.named("kramaa.files.heartbeatTimeout")

        static func node(_ node: Address) -> UInt256 { StorageSlot.mapping(nodes, node) }
        /// A node's fields: org, capacity, free bytes, allocated bytes, last heartbeat.
        static func nodeField(_ node: Address, _ field: Int) -> UInt256 { StorageSlot.offset(Self.node(node), field) }
        static func pin(_ cidHash: Bytes32) -> UInt256 { StorageSlot.mapping(pins, cidHash) }
        /// A pin's fields in ``Pin/fields`` order; its holders' array at ``Pin/holdersField``.
        static func pinField(_ cidHash: Bytes32, _ field: Int) -> UInt256 { StorageSlot.offset(pin(cidHash), field) }
        /// Held flags and reader keys are keyed by the pin's id, so a CID pinned again starts afresh.
        static func held(_ pinId: UInt64, _ node: Address) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(held, UInt256(pinId)), node) }
        static func key(_ pinId: UInt64, _ recipient: Bytes32) -> UInt256 { StorageSlot.mapping(StorageSlot.mapping(keys, UInt256(pinId)), recipient) }
        static func usage(_ org: UInt64) -> UInt256 { StorageSlot.mapping(usage, UInt256(org)) }
        static func contributed(_ org: UInt64) -> UInt256 { StorageSlot.mapping(contributed, UInt256(org)) }
    }

    /// The functions of this contract's ABI (the one place their signatures are written).
    public enum Method {
        public static let registerNode = SystemMethod("registerStorageNode(uint256,address,uint64)")
        public static let deregisterNode = SystemMethod("deregisterStorageNode(address)")
        public static let heartbeat = SystemMethod("heartbeat(uint64)")
        public static let pin = SystemMethod("pinFile(bytes,uint64,uint8,uint256,uint8,uint8,uint8,uint256,uint256)")
        public static let unpin = SystemMethod("unpinFile(bytes)")
        public static let reportHeld = SystemMethod("reportHeld(bytes)")
        public static let repair = SystemMethod("repair(bytes)")
        public static let setReaderKey = SystemMethod("setReaderKey(bytes,bytes32,bytes)")
        public static let getPin = SystemMethod("getPin(bytes)")
        public static let getNode = SystemMethod("getStorageNode(address)")
        public static let nodes = SystemMethod("storageNodes()")
        public static let quota = SystemMethod("quotaOf(uint256)")
        public static let mayRead = SystemMethod("mayRead(bytes,address)")
        public static let readerKey = SystemMethod("readerKey(bytes,bytes32)")
    }

    public enum Event {
        public static let nodeRegistered = ABI.eventTopic("StorageNodeRegistered(address,uint256,uint256)")
        public static let nodeDeregistered = ABI.eventTopic("StorageNodeDeregistered(address,uint256)")
        public static let pinned = ABI.eventTopic("FilePinned(bytes32,uint8,uint256,bytes,uint256,uint8,uint8,uint8)")
        public static let allocated = ABI.eventTopic("FileAllocated(bytes32,address,bytes,uint256)")
        public static let held = ABI.eventTopic("FileHeld(bytes32,address)")
        public static let released = ABI.eventTopic("FileReleased(bytes32,address,bytes)")
        public static let unpinned = ABI.eventTopic("FileUnpinned(bytes32,bytes)")
        public static let readerKeySet = ABI.eventTopic("ReaderKeySet(bytes32,bytes32,bytes)")
    }

    public init() {}

    /// The hash a CID is keyed and logged by: keccak256 of its canonical (v1) bytes.
    public static func cidHash(_ cid: CIDBytes) -> Bytes32 { Keccak256.hash(cid.canonical) }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.registerNode.selector:
            try call.requireNoValue()
            let (org, node, capacity) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress(), try d.nextUInt64()) }
            try registerNode(node, org: org, capacity: capacity, call)
            return []
        case Method.deregisterNode.selector:
            try call.requireNoValue()
            try deregisterNode(try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }, call)
            return []
        case Method.heartbeat.selector:
            try call.requireNoValue()
            let free = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            var node = try StorageNode(call.caller, call)
            try call.require(node.isRegistered, "\(call.caller) is not a registered storage node")
            node.free = free
            node.lastHeartbeat = max(call.timestamp, 1)
            try node.store(call)
            return []
        case Method.getNode.selector:
            let address = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            let node = try StorageNode(address, call)
            try call.require(node.isRegistered, "no storage node \(address)")
            return ABI.encode([.uint(UInt256(node.org)), .uint(UInt256(node.capacity)), .uint(UInt256(node.free)),
                               .uint(UInt256(node.allocated)), .uint(UInt256(node.lastHeartbeat)), .bool(node.isLive(at: call.timestamp))])
        case Method.nodes.selector:
            return ABI.encode([.array(try call.loadAddressArray(Slot.nodeList).map(ABIValue.address))])
        case Method.quota.selector:
            let org = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try call.require(try OrganizationRegistry.exists(org, call.reading(OrganizationRegistry.address)), "no organisation \(org)")
            return ABI.encode([.uint(try call.load(Slot.usage(org))), .uint(min(try Self.quotaLimit(org, call), UInt256(UInt64.max)))])
        default:
            return try files(call)
        }
    }

    /// An organisation's quota: ``baseQuota`` plus the capacity of the storage nodes it registered.
    static func quotaLimit(_ org: UInt64, _ call: SystemCall) throws(SystemCallError) -> UInt256 {
        UInt256(baseQuota) &+ (try call.load(Slot.contributed(org)))
    }

    // MARK: Storage nodes

    /// A storage node's record.
    struct StorageNode {
        let address: Address
        var org: UInt64, capacity: UInt64, free: UInt64, allocated: UInt64, lastHeartbeat: UInt64
        /// Seconds a heartbeat keeps the node live: the genesis's setting, else the default.
        let timeout: UInt64

        init(_ address: Address, _ storage: some StorageReader) throws(SystemCallError) {
            self.address = address
            org = try storage.loadUInt64(Slot.nodeField(address, 0))
            capacity = try storage.loadUInt64(Slot.nodeField(address, 1))
            free = try storage.loadUInt64(Slot.nodeField(address, 2))
            allocated = try storage.loadUInt64(Slot.nodeField(address, 3))
            lastHeartbeat = try storage.loadUInt64(Slot.nodeField(address, 4))
            let configured = try storage.loadUInt64(Slot.heartbeatTimeout)
            timeout = configured == 0 ? FileRegistry.heartbeatTimeout : configured
        }

        func store(_ call: SystemCall) throws(SystemCallError) {
            for (i, value) in [org, capacity, free, allocated, lastHeartbeat].enumerated() { try call.store(Slot.nodeField(address, i), value) }
        }

        var isRegistered: Bool { org != 0 }
        func isLive(at now: UInt64) -> Bool { isRegistered && lastHeartbeat != 0 && now <= lastHeartbeat &+ timeout }
        /// Bytes it may still be allocated.
        var room: UInt64 { capacity > allocated ? min(free, capacity - allocated) : 0 }

        mutating func allocate(_ size: UInt64) {
            allocated &+= size
            free = free > size ? free - size : 0
        }

        mutating func release(_ size: UInt64) {
            allocated = allocated > size ? allocated - size : 0
            free = min(free &+ size, capacity)
        }
    }

    private func registerNode(_ address: Address, org: UInt64, capacity: UInt64, _ call: SystemCall) throws(SystemCallError) {
        try OrganizationRegistry.require(call.caller, holds: .admin, in: org, call)
        try call.require(address != .zero, "the zero address cannot be a storage node")
        try call.require(capacity > 0, "a storage node needs a capacity above 0 bytes")
        var node = try StorageNode(address, call)
        try call.require(!node.isRegistered || node.org == org, "\(address) is a storage node of organisation \(node.org)")
        if !node.isRegistered {
            let list = try call.loadAddressArray(Slot.nodeList)
            try call.require(list.count < Self.maxNodes, "the registry holds \(Self.maxNodes) storage nodes already")
            try call.storeAddressArray(Slot.nodeList, list + [address])
        }
        let contributed = try call.load(Slot.contributed(org))
        try call.store(Slot.contributed(org), contributed &- UInt256(node.capacity) &+ UInt256(capacity))
        node.org = org
        node.capacity = capacity
        node.free = min(node.free, capacity)
        try node.store(call)
        try call.emit([Event.nodeRegistered, Bytes32(UInt256(address)), Bytes32(UInt256(org))], ABI.encode([.uint(UInt256(capacity))]))
    }

    /// Removes a node; what it was allocated stays on its ledger (and in the pins until they are
    /// repaired), so a node registered again later does not count its old files twice.
    private func deregisterNode(_ address: Address, _ call: SystemCall) throws(SystemCallError) {
        var node = try StorageNode(address, call)
        try call.require(node.isRegistered, "no storage node \(address)")
        try OrganizationRegistry.require(call.caller, holds: .admin, in: node.org, call)
        try call.storeAddressArray(Slot.nodeList, try call.loadAddressArray(Slot.nodeList).filter { $0 != address })
        try call.store(Slot.contributed(node.org), try call.load(Slot.contributed(node.org)) &- UInt256(node.capacity))
        let org = node.org
        (node.org, node.capacity, node.free, node.lastHeartbeat) = (0, 0, 0, 0)
        try node.store(call)
        try call.emit([Event.nodeDeregistered, Bytes32(UInt256(address)), Bytes32(UInt256(org))])
    }

    // MARK: Allocation

    /// A node that could take a replica.
    struct Candidate: Equatable {
        var address: Address
        var org: UInt64
        var room: UInt64
    }

    /// Chooses up to `count` of `candidates` for a file of `size` bytes: only nodes with room;
    /// at each step a node of an organisation not holding a replica yet (not in `avoiding`, nor
    /// chosen) before any other, then the one with the most room, then the lowest address. So
    /// no organisation gets a second replica while another organisation's node has room.
    static func allocate(_ count: Int, size: UInt64, among candidates: [Candidate], avoiding: Set<UInt64>) -> [Candidate] {
        var remaining = candidates.filter { $0.room >= size }
        var orgs = avoiding
        var chosen: [Candidate] = []
        while chosen.count < count, !remaining.isEmpty {
            let best = remaining.indices.min { a, b in
                let (x, y) = (remaining[a], remaining[b])
                let (xNew, yNew) = (!orgs.contains(x.org), !orgs.contains(y.org))
                if xNew != yNew { return xNew }
                if x.room != y.room { return x.room > y.room }
                return x.address < y.address
            }!
            let node = remaining.remove(at: best)
            orgs.insert(node.org)
            chosen.append(node)
        }
        return chosen
    }

    /// The live registered nodes, except `excluded`, as allocation candidates.
    static func candidates(excluding excluded: Set<Address>, _ call: SystemCall) throws(SystemCallError) -> [Candidate] {
        var out: [Candidate] = []
        for address in try call.loadAddressArray(Slot.nodeList) where !excluded.contains(address) {
            let node = try StorageNode(address, call)
            if node.isLive(at: call.timestamp) { out.append(Candidate(address: address, org: node.org, room: node.room)) }
        }
        return out
    }
}

extension FileRegistry {
    /// The CID (binary, canonical CIDv1) that a `FilePinned`, `FileAllocated`, `FileReleased` or
    /// `FileUnpinned` log carries first in its data; nil for another log.
    public static func cid(in log: Log) -> [UInt8]? {
        guard log.address == address, let topic = log.topics.first,
              [Event.pinned, Event.allocated, Event.released, Event.unpinned].contains(topic) else { return nil }
        var d = ABIDecoder(log.data[...])
        return try? d.nextBytes()
    }
}
