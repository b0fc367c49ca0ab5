import KramaaEVM
import KramaaPrimitives

/// The validator set as a system contract: genesis sets it, and it changes only through a
/// proposal that more than two thirds of the current validators approve. An approved change
/// takes effect ``activationDelay`` blocks after the block that approved it (as CometBFT applies
/// validator updates of height H at H+2), so every node knows the set of a height before the
/// height starts: the set of height h is read from the state after block h-1.
///
/// Solidity interface (address ``address``):
/// ```
/// function getValidators() view returns (address[])            // the set of the block being executed
/// function validatorsAt(uint256 height) view returns (address[]) // heights from the current block on
/// function proposeAddValidator(address validator) returns (uint256 id)
/// function proposeRemoveValidator(address validator) returns (uint256 id)
/// function approve(uint256 id)
/// function getProposal(uint256 id) view returns (address validator, bool add, uint8 status, uint256 approvals)
/// event ValidatorChangeProposed(uint256 indexed id, address indexed validator, bool add, address proposer)
/// event ValidatorChangeApproved(uint256 indexed id, address indexed approver, uint256 approvals)
/// event ValidatorSetScheduled(uint256 effectiveHeight, address[] validators)
/// ```
/// A proposal's proposer approves it by proposing. Approvals are counted against the set of the
/// block being executed, so a validator that has left no longer counts.
public struct ValidatorSetContract: SystemContract {
    public static let address = SystemContracts.address(1)
    /// Blocks between the block that approves a change and the first height it governs.
    public static let activationDelay: UInt64 = 2
    /// Largest set the contract accepts (proposer rotation and certificates stay cheap).
    public static let maxValidators = 128

    public enum ProposalStatus: UInt8, Sendable {
        case open = 0, executed = 1, obsolete = 2
    }

    public struct Proposal: Equatable, Sendable {
        public var validator: Address
        public var add: Bool
        public var status: ProposalStatus
        public var approvals: Int

        public init(validator: Address, add: Bool, status: ProposalStatus, approvals: Int) {
            self.validator = validator
            self.add = add
            self.status = status
            self.approvals = approvals
        }
    }

    enum Slot {
        static let current = StorageSlot.named("kramaa.validators.current")
        static let pending = StorageSlot.named("kramaa.validators.pending")
        static let pendingHeight = StorageSlot.named("kramaa.validators.pendingHeight")
        static let proposalCount = StorageSlot.named("kramaa.validators.proposalCount")
        static let proposals = StorageSlot.named("kramaa.validators.proposals")
        static let approvals = StorageSlot.named("kramaa.validators.approvals")

        static func proposal(_ id: UInt64) -> UInt256 { StorageSlot.mapping(proposals, UInt256(id)) }
    }

    /// The functions of this contract\'s ABI (the one place their signatures are written).
    public enum Method {
        public static let getValidators = SystemMethod("getValidators()")
        public static let validatorsAt = SystemMethod("validatorsAt(uint256)")
        public static let proposeAdd = SystemMethod("proposeAddValidator(address)")
        public static let proposeRemove = SystemMethod("proposeRemoveValidator(address)")
        public static let approve = SystemMethod("approve(uint256)")
        public static let getProposal = SystemMethod("getProposal(uint256)")
    }

    public enum Event {
        public static let proposed = ABI.eventTopic("ValidatorChangeProposed(uint256,address,bool,address)")
        public static let approved = ABI.eventTopic("ValidatorChangeApproved(uint256,address,uint256)")
        public static let scheduled = ABI.eventTopic("ValidatorSetScheduled(uint256,address[])")
    }

    public init() {}

    /// The storage genesis gives the contract: `validators` as the current set.
    public static func genesisStorage(validators: [Address]) -> [UInt256: UInt256] {
        var storage: [UInt256: UInt256] = [Slot.current: UInt256(UInt64(validators.count))]
        let first = StorageSlot.elements(Slot.current)
        for (i, v) in validators.enumerated() { storage[StorageSlot.offset(first, i)] = UInt256(v) }
        return storage
    }

    /// The set that governs `height`, read from a state at height `height - 1` or later (but
    /// before `height` itself is executed). Empty when the contract holds no set (a chain whose
    /// genesis predates it): the caller then uses the genesis validators.
    public static func validators(forHeight height: UInt64, in storage: some StorageReader) throws(SystemCallError) -> [Address] {
        let pendingHeight = try storage.loadUInt64(Slot.pendingHeight)
        if pendingHeight != 0 && height >= pendingHeight { return try storage.loadAddressArray(Slot.pending) }
        return try storage.loadAddressArray(Slot.current)
    }

    public static func proposal(_ id: UInt64, in storage: some StorageReader) throws(SystemCallError) -> Proposal? {
        let base = Slot.proposal(id)
        let word = try storage.load(base)
        guard !word.isZero else { return nil }
        // Field 0: validator address | add flag << 160 | status << 168; field 1: approvals.
        let bytes = word.bigEndianBytes
        return Proposal(validator: Address(word: word), add: bytes[11] & 1 == 1,
                        status: ProposalStatus(rawValue: bytes[10]) ?? .obsolete,
                        approvals: Int(try storage.loadUInt64(StorageSlot.offset(base, 1))))
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.getValidators.selector:
            return ABI.encode([.array(try Self.validators(forHeight: call.blockNumber, in: call).map(ABIValue.address))])
        case Method.validatorsAt.selector:
            let height = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try call.require(height >= call.blockNumber, "validatorsAt answers for the current block and later ones only")
            return ABI.encode([.array(try Self.validators(forHeight: height, in: call).map(ABIValue.address))])
        case Method.getProposal.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            guard let p = try Self.proposal(id, in: call) else { throw .reverted("no proposal \(id)") }
            return ABI.encode([.address(p.validator), .bool(p.add), .uint(UInt256(UInt64(p.status.rawValue))),
                               .uint(UInt256(UInt64(p.approvals)))])
        case Method.proposeAdd.selector, Method.proposeRemove.selector:
            try call.requireNoValue()
            let validator = try call.decode { d throws(ABIDecodingError) in try d.nextAddress() }
            return ABI.encode([.uint(UInt256(try propose(validator, add: call.selector == Method.proposeAdd.selector, call)))])
        case Method.approve.selector:
            try call.requireNoValue()
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try approve(id, call)
            return []
        default:
            throw .reverted("unknown function of the validator set contract")
        }
    }

    private func propose(_ validator: Address, add: Bool, _ call: SystemCall) throws(SystemCallError) -> UInt64 {
        try settle(call)
        let current = try Self.validators(forHeight: call.blockNumber, in: call)
        try call.require(current.contains(call.caller), "only a current validator may propose a validator change")
        try call.require(validator != Address.zero, "the zero address cannot be a validator")
        let next = try upcoming(call)
        try checkApplicable(validator, add: add, to: next, call)
        let id = try call.loadUInt64(Slot.proposalCount) + 1
        try call.store(Slot.proposalCount, id)
        try write(Proposal(validator: validator, add: add, status: .open, approvals: 0), id: id, call)
        try call.emit([Event.proposed, Bytes32(UInt256(id)), Bytes32(UInt256(validator))],
                      ABI.encode([.bool(add), .address(call.caller)]))
        try approve(id, call)
        return id
    }

    private func approve(_ id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        try settle(call)
        guard var proposal = try Self.proposal(id, in: call) else { throw .reverted("no proposal \(id)") }
        try call.require(proposal.status == .open, "proposal \(id) is no longer open")
        let (approvals, passes) = try ValidatorApprovals.approve(id, base: Slot.approvals, what: "a validator change", call)
        proposal.approvals = approvals
        try call.emit([Event.approved, Bytes32(UInt256(id)), Bytes32(UInt256(call.caller))],
                      ABI.encode([.uint(UInt256(UInt64(approvals)))]))
        if passes {
            var next = try upcoming(call)
            do {
                try checkApplicable(proposal.validator, add: proposal.add, to: next, call)
                if proposal.add { next.append(proposal.validator) } else { next.removeAll { $0 == proposal.validator } }
                let effective = call.blockNumber + Self.activationDelay
                try call.storeAddressArray(Slot.pending, next)
                try call.store(Slot.pendingHeight, effective)
                proposal.status = .executed
                try call.emit([Event.scheduled], ABI.encode([.uint(UInt256(effective)), .array(next.map(ABIValue.address))]))
            } catch .revert {
                proposal.status = .obsolete  // another change made it moot (the validator joined or left meanwhile)
            }
        }
        try write(proposal, id: id, call)
    }

    /// Promotes a pending set whose height has come, so later changes build on it.
    private func settle(_ call: SystemCall) throws(SystemCallError) {
        let pendingHeight = try call.loadUInt64(Slot.pendingHeight)
        guard pendingHeight != 0, call.blockNumber >= pendingHeight else { return }
        try call.storeAddressArray(Slot.current, try call.loadAddressArray(Slot.pending))
        try call.storeAddressArray(Slot.pending, [])
        try call.store(Slot.pendingHeight, UInt64(0))
    }

    /// The set after every approved change: the pending set if one waits, else the current one.
    private func upcoming(_ call: SystemCall) throws(SystemCallError) -> [Address] {
        try call.loadUInt64(Slot.pendingHeight) != 0 ? call.loadAddressArray(Slot.pending) : call.loadAddressArray(Slot.current)
    }

    private func checkApplicable(_ validator: Address, add: Bool, to set: [Address], _ call: SystemCall) throws(SystemCallError) {
        if add {
            try call.require(!set.contains(validator), "\(validator) is already a validator")
            try call.require(set.count < Self.maxValidators, "the validator set is full (\(Self.maxValidators))")
        } else {
            try call.require(set.contains(validator), "\(validator) is not a validator")
            try call.require(set.count > 1, "the last validator cannot be removed")
        }
    }

    private func write(_ p: Proposal, id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        var bytes = UInt256(p.validator).bigEndianBytes
        bytes[11] = p.add ? 1 : 0
        bytes[10] = p.status.rawValue
        bytes[9] = 1  // never zero, so an existing proposal is told from an empty slot
        let base = Slot.proposal(id)
        try call.store(base, UInt256(try! Bytes32(bytes)))
        try call.store(StorageSlot.offset(base, 1), UInt64(p.approvals))
    }
}
