import KramaaEVM
import KramaaPrimitives

// What the file registry returns, each decoded in one place (the ABI of its function is in
// the contract: `getPin`, `getStorageNode`, `quotaOf`).

/// Who owns a pinned file: an organisation, or an asset (whose current owner manages the pin).
public enum FileOwner: Sendable, Equatable {
    case organization(UInt64)
    case asset(UInt256)

    public var kind: FileRegistry.OwnerKind {
        switch self {
        case .organization: .organization
        case .asset: .asset
        }
    }

    public var id: UInt256 {
        switch self {
        case .organization(let org): UInt256(org)
        case .asset(let token): token
        }
    }
}

/// Who may read a pinned file (its policy).
public enum FileReaders: Sendable, Equatable {
    case anyone
    /// Members of the organisation holding one of `roles` (any role when empty); admins always.
    case members(of: UInt64, roles: OrganizationRoles)
    /// The asset's current owner or custodian.
    case assetHolder(UInt256)

    public var policy: FileRegistry.ReadPolicy {
        switch self {
        case .anyone: .public
        case .members: .organizationRole
        case .assetHolder: .assetHolder
        }
    }

    public var readerId: UInt256 {
        switch self {
        case .anyone: .zero
        case .members(let org, _): UInt256(org)
        case .assetHolder(let token): token
        }
    }

    public var roles: OrganizationRoles {
        if case .members(_, let roles) = self { return roles }
        return []
    }
}

/// `getPin(bytes) returns (uint8 ownerKind, uint256 ownerId, uint256 size, uint8 minReplicas, uint8 maxReplicas, uint8 policy,
/// uint256 readerId, uint256 readerRoles, uint256 pinnedAtBlock, address[] holders, bool[] held, bool[] live)`.
public struct FilePinRecord: Sendable, Equatable {
    /// One node allocated the file.
    public struct Holder: Sendable, Equatable {
        public var node: Address
        /// It reported holding the whole DAG.
        public var held: Bool
        /// Its last heartbeat is within the timeout.
        public var live: Bool

        public init(node: Address, held: Bool, live: Bool) {
            self.node = node
            self.held = held
            self.live = live
        }
    }

    public var owner: FileOwner
    public var size: UInt64
    public var minReplicas: UInt64
    public var maxReplicas: UInt64
    public var readers: FileReaders
    public var pinnedAtBlock: UInt64
    public var holders: [Holder]

    public init(decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        let (kind, ownerId) = (try d.nextUInt64(), try d.nextUInt())
        switch FileRegistry.OwnerKind(rawValue: kind) {
        case .organization: owner = .organization(ownerId.uint64Value ?? 0)
        case .asset: owner = .asset(ownerId)
        case nil: throw .invalidWord(offset: d.headsRead - 64, expected: "owner kind")
        }
        (size, minReplicas, maxReplicas) = (try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64())
        let (policy, readerId, roles) = (try d.nextUInt64(), try d.nextUInt(), try d.nextUInt64())
        switch FileRegistry.ReadPolicy(rawValue: policy) {
        case .public: readers = .anyone
        case .organizationRole: readers = .members(of: readerId.uint64Value ?? 0, roles: OrganizationRoles(rawValue: roles))
        case .assetHolder: readers = .assetHolder(readerId)
        case nil: throw .invalidWord(offset: d.headsRead - 96, expected: "read policy")
        }
        pinnedAtBlock = try d.nextUInt64()
        let nodes = try d.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }
        let held = try d.nextArray { d throws(ABIDecodingError) in try d.nextBool() }
        let live = try d.nextArray { d throws(ABIDecodingError) in try d.nextBool() }
        guard held.count == nodes.count, live.count == nodes.count else { throw .invalidWord(offset: d.headsRead, expected: "one flag per holder") }
        holders = nodes.indices.map { Holder(node: nodes[$0], held: held[$0], live: live[$0]) }
    }
}

/// `getStorageNode(address) returns (uint256 org, uint256 capacity, uint256 freeBytes, uint256 allocatedBytes, uint256 lastHeartbeat, bool live)`.
public struct StorageNodeRecord: Sendable, Equatable {
    public var node: Address
    public var organization: UInt64
    public var capacity: UInt64
    /// What its last heartbeat reported, less what was allocated to it since.
    public var freeBytes: UInt64
    /// The sizes of the files allocated to it.
    public var allocatedBytes: UInt64
    /// Block time of its last heartbeat; nil before the first.
    public var lastHeartbeat: UInt64?
    public var live: Bool

    public init(node: Address, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.node = node
        (organization, capacity, freeBytes, allocatedBytes) = (try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64(), try d.nextUInt64())
        let heartbeat = try d.nextUInt64()
        lastHeartbeat = heartbeat == 0 ? nil : heartbeat
        live = try d.nextBool()
    }
}

/// `quotaOf(uint256) returns (uint256 used, uint256 limit)`: bytes as size × maxReplicas.
public struct FileQuotaRecord: Sendable, Equatable {
    public var organization: UInt64
    public var used: UInt64
    public var limit: UInt64

    public init(organization: UInt64, decoding d: inout ABIDecoder) throws(ABIDecodingError) {
        self.organization = organization
        (used, limit) = (try d.nextUInt64(), try d.nextUInt64())
    }
}
