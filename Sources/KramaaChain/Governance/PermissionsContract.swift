import KramaaEVM
import KramaaPrimitives

/// The consortium's permission lists (`0x…4b520002`; docs/PERMISSIONING.md), as Besu's account
/// and node permissioning: who may send transactions, who may deploy contracts, which nodes
/// may connect. Each list is open (anyone) or restricted (its members); genesis may restrict
/// them (`config.kramaa.allowList`, `deployerAllowList`, `nodeAllowList`) and afterwards only the
/// validators change them, by a proposal more than two thirds of them approve (the validator
/// set's rule). A change approved in block N applies from block N+1: the lists are read from the
/// state a block starts from, so every node decides alike.
///
/// ```
/// function isRestricted(uint8 list) view returns (bool)             // 0 senders, 1 deployers, 2 nodes
/// function isAllowed(uint8 list, address account) view returns (bool)
/// function proposePermission(uint8 list, address account, bool allowed) returns (uint256 id)
/// function proposeRestriction(uint8 list, bool restricted) returns (uint256 id)
/// function approvePermission(uint256 id)
/// function getPermissionProposal(uint256 id) view returns (uint8 list, address account, uint8 kind, bool value, uint8 status, uint256 approvals)
/// event PermissionProposed(uint256 indexed id, uint8 list, address account, uint8 kind, bool value, address proposer)
/// event PermissionApproved(uint256 indexed id, address indexed approver, uint256 approvals)
/// event PermissionChanged(uint8 indexed list, address indexed account, bool allowed)
/// event ListRestrictionChanged(uint8 indexed list, bool restricted)
/// ```
/// Validators are always allowed to send and connect (the chain must be able to govern
/// itself); a list restricted to nobody else is a consortium of validators only.
public struct PermissionsContract: SystemContract {
    public static let address = SystemContracts.address(2)

    public enum List: UInt8, Sendable, CaseIterable {
        case senders = 0, deployers = 1, nodes = 2
        public var name: String { ["senders", "deployers", "nodes"][Int(rawValue)] }
    }

    enum Slot {
        static let mode = StorageSlot.named("kramaa.permissions.mode")
        static let members = StorageSlot.named("kramaa.permissions.members")
        static let proposalCount = StorageSlot.named("kramaa.permissions.proposalCount")
        static let proposals = StorageSlot.named("kramaa.permissions.proposals")
        static let approvals = StorageSlot.named("kramaa.permissions.approvals")

        /// 0: unset (the chain config decides), 1: open, 2: restricted.
        static func mode(_ list: List) -> UInt256 { modeSlots[Int(list.rawValue)] }
        /// Hashed once: the pool reads two of them for every transaction it takes.
        private static let modeSlots = List.allCases.map { StorageSlot.mapping(mode, UInt256(UInt64($0.rawValue))) }
        static func member(_ list: List, _ account: Address) -> UInt256 {
            StorageSlot.mapping(StorageSlot.mapping(members, UInt256(UInt64(list.rawValue))), account)
        }
        static func proposal(_ id: UInt64) -> UInt256 { StorageSlot.mapping(proposals, UInt256(id)) }
    }

    public enum Method {
        public static let isRestricted = SystemMethod("isRestricted(uint8)")
        public static let isAllowed = SystemMethod("isAllowed(uint8,address)")
        public static let proposePermission = SystemMethod("proposePermission(uint8,address,bool)")
        public static let proposeRestriction = SystemMethod("proposeRestriction(uint8,bool)")
        public static let approve = SystemMethod("approvePermission(uint256)")
        public static let getProposal = SystemMethod("getPermissionProposal(uint256)")
    }

    public enum Event {
        public static let proposed = ABI.eventTopic("PermissionProposed(uint256,uint8,address,uint8,bool,address)")
        public static let approved = ABI.eventTopic("PermissionApproved(uint256,address,uint256)")
        public static let changed = ABI.eventTopic("PermissionChanged(uint8,address,bool)")
        public static let restrictionChanged = ABI.eventTopic("ListRestrictionChanged(uint8,bool)")
    }

    public init() {}

    // MARK: Reading (the pool, block building and import, the peer network)

    /// Whether `list` is restricted in `storage` (the contract's), falling back to `configured`
    /// (the genesis list of a chain whose genesis predates the contract) where it holds no decision.
    public static func restricted(_ list: List, in storage: some StorageReader, configured: Set<Address>?) -> Bool {
        switch (try? storage.loadUInt64(Slot.mode(list))) ?? 0 {
        case 1: return false
        case 2: return true
        default: return configured != nil
        }
    }

    /// Whether `account` may use `list` (send, deploy, connect), validators aside.
    public static func allows(_ list: List, _ account: Address, in storage: some StorageReader, configured: Set<Address>?) -> Bool {
        switch (try? storage.loadUInt64(Slot.mode(list))) ?? 0 {
        case 1: return true
        case 2: return (try? storage.loadBool(Slot.member(list, account))) ?? false
        default: return configured?.contains(account) ?? true
        }
    }

    /// Whether `sender` may send a transaction (deploying a contract when `creating`) on a chain
    /// whose state at the block's start is `state` and whose next validators are `validators`.
    public static func permits(_ sender: Address, creating: Bool, state: any StateBackend, config: ChainConfig, validators: [Address]) -> Refusal? {
        let storage = SlotReader { state.storage(address, slot: $0) }
        if !validators.contains(sender), !allows(.senders, sender, in: storage, configured: config.allowList) { return .sender }
        if creating, !allows(.deployers, sender, in: storage, configured: config.deployerAllowList) { return .deployer }
        return nil
    }

    public enum Refusal: Sendable, Equatable { case sender, deployer }

    /// Storage genesis gives the contract: each configured list restricted to its members.
    public static func genesisStorage(senders: Set<Address>?, deployers: Set<Address>?, nodes: Set<Address>?) -> [UInt256: UInt256] {
        var storage: [UInt256: UInt256] = [:]
        for (list, members) in [(List.senders, senders), (.deployers, deployers), (.nodes, nodes)] {
            guard let members else { continue }
            storage[Slot.mode(list)] = UInt256(2)
            for m in members { storage[Slot.member(list, m)] = .one }
        }
        return storage
    }

    // MARK: Calls

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.isRestricted.selector:
            let list = try Self.list(try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }, call)
            return ABI.encode([.bool(Self.restricted(list, in: call, configured: nil))])
        case Method.isAllowed.selector:
            let (raw, account) = try call.decode { d throws(ABIDecodingError) in (try d.nextUInt64(), try d.nextAddress()) }
            let list = try Self.list(raw, call)
            let validator = try ValidatorApprovals.isValidator(account, call) && list != .deployers
            return ABI.encode([.bool(validator || Self.allows(list, account, in: call, configured: nil))])
        case Method.proposePermission.selector, Method.proposeRestriction.selector:
            try call.requireNoValue()
            let permission = call.selector == Method.proposePermission.selector
            let (raw, account, value) = try call.decode { d throws(ABIDecodingError) in
                permission ? (try d.nextUInt64(), try d.nextAddress(), try d.nextBool()) : (try d.nextUInt64(), Address.zero, try d.nextBool())
            }
            return ABI.encode([.uint(UInt256(try propose(try Self.list(raw, call), account, kind: permission ? 0 : 1, value: value, call)))])
        case Method.approve.selector:
            try call.requireNoValue()
            try approve(try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }, call)
            return []
        case Method.getProposal.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            let word = try call.load(Slot.proposal(id))
            try call.require(!word.isZero, "no permission proposal \(id)")
            let bytes = word.bigEndianBytes
            return ABI.encode([.uint(UInt256(UInt64(bytes[7]))), .address(Address(word: word)), .uint(UInt256(UInt64(bytes[8]))),
                               .bool(bytes[9] == 1), .uint(UInt256(UInt64(bytes[10]))), .uint(try call.load(StorageSlot.offset(Slot.proposal(id), 1)))])
        default:
            throw .reverted("unknown function of the permissions contract")
        }
    }

    static func list(_ raw: UInt64, _ call: SystemCall) throws(SystemCallError) -> List {
        guard raw <= 2, let list = List(rawValue: UInt8(raw)) else { throw .reverted("list \(raw) does not exist: 0 senders, 1 deployers, 2 nodes") }
        return list
    }

    /// Proposal word: account (20 bytes, low) | status << 168 | value << 176 | kind << 184 | list << 192 | 1 << 200.
    private func propose(_ list: List, _ account: Address, kind: UInt8, value: Bool, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        try call.require(try ValidatorApprovals.isValidator(call.caller, call), "only a current validator may propose a permission change")
        try call.require(kind == 1 || account != .zero, "the zero address cannot be given or refused a permission")
        let id = try call.loadUInt64(Slot.proposalCount) + 1
        try call.store(Slot.proposalCount, id)
        var bytes = UInt256(account).bigEndianBytes
        (bytes[6], bytes[7], bytes[8], bytes[9], bytes[10]) = (1, list.rawValue, kind, value ? 1 : 0, 0)
        try call.store(Slot.proposal(id), UInt256(try! Bytes32(bytes)))
        try call.emit([Event.proposed, Bytes32(UInt256(id))],
                      ABI.encode([.uint(UInt256(UInt64(list.rawValue))), .address(account), .uint(UInt256(UInt64(kind))), .bool(value), .address(call.caller)]))
        try approve(id, call)
        return id
    }

    private func approve(_ id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        let word = try call.load(Slot.proposal(id))
        try call.require(!word.isZero, "no permission proposal \(id)")
        var bytes = word.bigEndianBytes
        try call.require(bytes[10] == 0, "permission proposal \(id) is no longer open")
        let (approvals, passes) = try ValidatorApprovals.approve(id, base: Slot.approvals, what: "a permission change", call)
        try call.store(StorageSlot.offset(Slot.proposal(id), 1), UInt64(approvals))
        try call.emit([Event.approved, Bytes32(UInt256(id)), Bytes32(UInt256(call.caller))], ABI.encode([.uint(UInt256(UInt64(approvals)))]))
        guard passes, let list = List(rawValue: bytes[7]) else { return }
        let value = bytes[9] == 1
        if bytes[8] == 0 {
            let account = Address(word: word)
            try call.store(Slot.member(list, account), value)
            if (try call.loadUInt64(Slot.mode(list))) == 0 { try call.store(Slot.mode(list), UInt64(2)) }
            try call.emit([Event.changed, Bytes32(UInt256(UInt64(list.rawValue))), Bytes32(UInt256(account))], ABI.encode([.bool(value)]))
        } else {
            try call.store(Slot.mode(list), UInt64(value ? 2 : 1))
            try call.emit([Event.restrictionChanged, Bytes32(UInt256(UInt64(list.rawValue)))], ABI.encode([.bool(value)]))
        }
        bytes[10] = 1
        try call.store(Slot.proposal(id), UInt256(try! Bytes32(bytes)))
    }
}

/// The permission lists as one block (or the pool at the head) applies them: read once from the
/// state the block starts from, with the validators of its height exempt from the senders list.
public struct PermissionCheck {
    let state: any StateBackend
    let config: ChainConfig
    let validators: Set<Address>
    /// Nothing is restricted: every check passes without reading the state again.
    let open: Bool

    public init(config: ChainConfig, height: UInt64, state: some StateBackend) {
        self.state = state
        self.config = config
        let storage = SlotReader { state.storage(PermissionsContract.address, slot: $0) }
        open = !PermissionsContract.restricted(.senders, in: storage, configured: config.allowList)
            && !PermissionsContract.restricted(.deployers, in: storage, configured: config.deployerAllowList)
        // Only a restricted list needs the validators (always allowed): an open chain's pool
        // does not read the set for every transaction.
        if open {
            validators = []
        } else {
            let set = (try? ValidatorSetContract.validators(forHeight: height, in: SlotReader { state.storage(ValidatorSetContract.address, slot: $0) })) ?? []
            validators = Set(set.isEmpty ? config.validators : set)
        }
    }

    /// Why `sender` may not send this transaction (a deployment when `creating`), or nil.
    public func refusal(_ sender: Address, creating: Bool) -> PermissionsContract.Refusal? {
        guard !open else { return nil }
        return PermissionsContract.permits(sender, creating: creating, state: state, config: config, validators: Array(validators))
    }
}
