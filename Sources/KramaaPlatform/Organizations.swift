import KramaaEVM
import KramaaPrimitives

/// What a member may do in an organisation: a bit set, so one account can hold several roles.
public struct OrganizationRoles: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Manages members and roles, and may do everything the other roles may.
    public static let admin = OrganizationRoles(rawValue: 1 << 0)
    /// Mints assets and commissions them.
    public static let manufacturer = OrganizationRoles(rawValue: 1 << 1)
    /// Ships and receives: takes custody.
    public static let logistics = OrganizationRoles(rawValue: 1 << 2)
    /// Sells to consumers.
    public static let retailer = OrganizationRoles(rawValue: 1 << 3)
    /// Reads and attests; records inspection events.
    public static let auditor = OrganizationRoles(rawValue: 1 << 4)
    /// Registers, suspends, revokes devices and rotates their keys.
    public static let deviceManager = OrganizationRoles(rawValue: 1 << 5)
    /// Pins and unpins the organisation's files and wraps their keys for readers (the file registry).
    public static let files = OrganizationRoles(rawValue: 1 << 6)
    /// A node the organisation runs (its peer address): it holds the private data of the
    /// collections the organisation belongs to (docs/PRIVATE-DATA.md).
    public static let node = OrganizationRoles(rawValue: 1 << 7)

    public static let named: [(String, OrganizationRoles)] = [
        ("admin", .admin), ("manufacturer", .manufacturer), ("logistics", .logistics),
        ("retailer", .retailer), ("auditor", .auditor), ("deviceManager", .deviceManager), ("files", .files),
        ("node", .node),
    ]

    /// Every role there is.
    public static let known = named.reduce(OrganizationRoles()) { $0.union($1.1) }

    /// Role names, in the order of ``named``.
    public var names: [String] { Self.named.filter { contains($0.1) }.map(\.0) }
}

/// The organisation registry (`0x…4b520010`): brands, carriers, retailers and auditors, their
/// members and roles. Every platform contract checks its callers against it.
///
/// ```
/// function registerOrganization(string name) returns (uint256 id)          // the caller becomes admin
/// function setMemberRoles(uint256 org, address member, uint256 roles)     // admins only; 0 removes
/// function rolesOf(uint256 org, address account) view returns (uint256)
/// function hasRole(uint256 org, address account, uint256 role) view returns (bool)
/// function getOrganization(uint256 id) view returns (string name, address founder, uint256 createdAt, uint256 admins)
/// function organizationCount() view returns (uint256)
/// event OrganizationRegistered(uint256 indexed id, address indexed founder, string name)
/// event MemberRolesChanged(uint256 indexed org, address indexed member, uint256 roles)
/// ```
public struct OrganizationRegistry: SystemContract {
    public static let address = SystemContracts.address(0x10)
    public static let maxNameLength = 128

    enum Slot {
        static let count = StorageSlot.named("kramaa.orgs.count")
        static let orgs = StorageSlot.named("kramaa.orgs")
        static let byName = StorageSlot.named("kramaa.orgs.byName")
        static let roles = StorageSlot.named("kramaa.orgs.roles")

        static func org(_ id: UInt64) -> UInt256 { StorageSlot.mapping(orgs, UInt256(id)) }
        static func name(_ id: UInt64) -> UInt256 { org(id) }
        static func founder(_ id: UInt64) -> UInt256 { StorageSlot.offset(org(id), 1) }
        static func createdAt(_ id: UInt64) -> UInt256 { StorageSlot.offset(org(id), 2) }
        static func admins(_ id: UInt64) -> UInt256 { StorageSlot.offset(org(id), 3) }
        static func roles(_ id: UInt64, _ account: Address) -> UInt256 {
            StorageSlot.mapping(StorageSlot.mapping(roles, UInt256(id)), account)
        }
    }

    /// The functions of this contract\'s ABI (the one place their signatures are written).
    public enum Method {
        public static let register = SystemMethod("registerOrganization(string)")
        public static let setRoles = SystemMethod("setMemberRoles(uint256,address,uint256)")
        public static let rolesOf = SystemMethod("rolesOf(uint256,address)")
        public static let hasRole = SystemMethod("hasRole(uint256,address,uint256)")
        public static let get = SystemMethod("getOrganization(uint256)")
        public static let count = SystemMethod("organizationCount()")
    }

    public enum Event {
        public static let registered = ABI.eventTopic("OrganizationRegistered(uint256,address,string)")
        public static let rolesChanged = ABI.eventTopic("MemberRolesChanged(uint256,address,uint256)")
    }

    public init() {}

    /// The roles `account` holds in `org` (read from any contract or the node).
    public static func roles(of account: Address, in org: UInt64, _ storage: some StorageReader) throws(SystemCallError) -> OrganizationRoles {
        OrganizationRoles(rawValue: (try storage.load(Slot.roles(org, account))).uint64Value ?? 0)
    }

    public static func exists(_ org: UInt64, _ storage: some StorageReader) throws(SystemCallError) -> Bool {
        guard org != 0 else { return false }
        return !(try storage.load(Slot.createdAt(org))).isZero
    }

    /// Reverts unless `account` is an admin of `org` or holds one of `roles` there.
    public static func require(_ account: Address, holds roles: OrganizationRoles, in org: UInt64, _ call: SystemCall) throws(SystemCallError) {
        let reader = call.reading(address)
        try call.require(try exists(org, reader), "no organisation \(org)")
        let held = try Self.roles(of: account, in: org, reader)
        try call.require(held.contains(.admin) || !held.isDisjoint(with: roles),
                         "\(account) needs the \(roles.names.joined(separator: " or ")) role in organisation \(org)")
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.register.selector:
            try call.requireNoValue()
            let name = try call.decode { d throws(ABIDecodingError) in try d.nextString() }
            return ABI.encode([.uint(UInt256(try register(name, call)))])
        case Method.setRoles.selector:
            try call.requireNoValue()
            let (org, member, roles) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress(), try d.nextUInt64()) }
            try setRoles(org, member, OrganizationRoles(rawValue: roles), call)
            return []
        case Method.rolesOf.selector:
            let (org, account) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress()) }
            return ABI.encode([.uint(UInt256(try Self.roles(of: account, in: org, call).rawValue))])
        case Method.hasRole.selector:
            let (org, account, role) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress(), try d.nextUInt64()) }
            let held = try Self.roles(of: account, in: org, call)
            return ABI.encode([.bool(held.contains(OrganizationRoles(rawValue: role)))])
        case Method.get.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try call.require(try Self.exists(id, call), "no organisation \(id)")
            return ABI.encode([.string(try call.loadString(Slot.name(id))), .address(try call.loadAddress(Slot.founder(id))),
                               .uint(try call.load(Slot.createdAt(id))), .uint(try call.load(Slot.admins(id)))])
        case Method.count.selector:
            return ABI.encode([.uint(try call.load(Slot.count))])
        default:
            throw .reverted("unknown function of the organisation registry")
        }
    }

    private func register(_ name: String, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        try call.require(!name.isEmpty && name.first?.isWhitespace == false && name.last?.isWhitespace == false,
                         "an organisation name must be non-empty without surrounding spaces")
        try call.require(name.utf8.count <= Self.maxNameLength, "an organisation name has at most \(Self.maxNameLength) bytes")
        let nameSlot = StorageSlot.mapping(Slot.byName, Keccak256.hash(Array(name.lowercased().utf8)))
        try call.require((try call.load(nameSlot)).isZero, "an organisation named \"\(name)\" exists already")
        let id = try call.loadUInt64(Slot.count) + 1
        try call.store(Slot.count, id)
        try call.store(nameSlot, id)
        try call.storeString(Slot.name(id), name)
        try call.store(Slot.founder(id), call.caller)
        try call.store(Slot.createdAt(id), max(call.blockNumber, 1))
        try call.store(Slot.admins(id), UInt64(1))
        try call.store(Slot.roles(id, call.caller), OrganizationRoles.admin.rawValue)
        try call.emit([Event.registered, Bytes32(UInt256(id)), Bytes32(UInt256(call.caller))], ABI.encode([.string(name)]))
        try call.emit([Event.rolesChanged, Bytes32(UInt256(id)), Bytes32(UInt256(call.caller))],
                      ABI.encode([.uint(UInt256(OrganizationRoles.admin.rawValue))]))
        return id
    }

    private func setRoles(_ org: UInt64, _ member: Address, _ roles: OrganizationRoles, _ call: SystemCall) throws(SystemCallError) {
        try call.require(try Self.exists(org, call), "no organisation \(org)")
        try call.require(try Self.roles(of: call.caller, in: org, call).contains(.admin), "only an admin of organisation \(org) may change roles")
        try call.require(OrganizationRoles.known.isSuperset(of: roles), "unknown role bits \(roles.subtracting(.known).rawValue)")
        let before = try Self.roles(of: member, in: org, call)
        var admins = try call.loadUInt64(Slot.admins(org))
        if before.contains(.admin) && !roles.contains(.admin) {
            try call.require(admins > 1, "organisation \(org) would be left without an admin")
            admins -= 1
        } else if !before.contains(.admin) && roles.contains(.admin) {
            admins += 1
        }
        try call.store(Slot.admins(org), admins)
        try call.store(Slot.roles(org, member), roles.rawValue)
        try call.emit([Event.rolesChanged, Bytes32(UInt256(org)), Bytes32(UInt256(member))], ABI.encode([.uint(UInt256(roles.rawValue))]))
    }
}
