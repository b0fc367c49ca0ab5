import KramaaEVM
import KramaaPrimitives

/// Triggers without keepers (`0x…4b520019`): a contract (or anyone) registers a condition and
/// the call it causes; the validators check every condition at every block and the block that
/// follows a condition becoming true begins with the call, as a system transaction (type 0x4c,
/// ``TriggerHook``). No bot watches the chain; a proposer cannot leave a due trigger out, since
/// validators refuse a block that does not begin with exactly the due ones. docs/TRIGGERS.md.
///
/// Conditions:
/// - **deadline**: `device` zero; due once the block's time reaches `deadline`; runs once.
/// - **reading**: due when `device`'s latest signed reading of `kind` (``DeviceReadings``) is
///   newer than the last one the trigger ran on and at or above (`above`) or at or below the
///   `threshold`; runs once, or on every such reading when `repeating`, until `deadline` (0: no
///   end). Readings already there at registration do not count.
///
/// Runs are metered and paid by the registering party: each run's gas at the block's base fee
/// comes out of the trigger's deposit (sent with the registration, topped up by anyone) and goes
/// to the block's coinbase; a trigger whose deposit cannot pay its gas limit waits. The call is
/// made from this contract's address (`msg.sender`), with the trigger's gas limit. A call that
/// reverts or runs out of gas changes nothing of its target; its reason is in `TriggerRan`, and
/// the trigger ends as failed. An ended trigger's remaining deposit goes back to its owner.
///
/// ```
/// function registerTrigger(address target, bytes data, uint64 gasLimit, uint64 deadline, address device, bytes32 kind,
///                          int256 threshold, bool above, bool repeating) payable returns (uint256 id)
/// function topUpTrigger(uint256 id) payable
/// function cancelTrigger(uint256 id)                  // its owner; the deposit is refunded
/// function getTrigger(uint256 id) view returns (address owner, address target, uint64 gasLimit, uint64 deadline, address device,
///     bytes32 kind, int256 threshold, bool above, bool repeating, uint256 deposit, uint64 lastSequence, uint8 status, uint64 runs)
///     // status: 1 active, 2 done, 3 failed, 4 cancelled, 5 expired
/// function runTrigger(uint256 id)                     // the system address only (the block's system transactions)
/// event TriggerRegistered(uint256 indexed id, address indexed owner, address indexed target)
/// event TriggerRan(uint256 indexed id, bool success, uint64 gasUsed, uint256 fee, bytes output)
/// event TriggerEnded(uint256 indexed id, uint8 status, uint256 refund)
/// ```
public struct Triggers: SystemContract {
    public static let address = SystemContracts.address(0x19)
    /// Bounds: gas per run, call data, active triggers, runs per block.
    public static let maximumGas: UInt64 = 2_000_000, minimumGas: UInt64 = 10_000
    public static let maximumData = 1_024, maximumActive = 10_000, runsPerBlock = 64
    /// Gas a run's system transaction carries beyond the trigger's own: intrinsic cost and this
    /// contract's bookkeeping; and what a refund to the owner may use (a contract's receive).
    public static let runOverhead: UInt64 = 150_000, refundGas: Int64 = 30_000

    public enum Status: UInt8, Sendable, CustomStringConvertible {
        case active = 1, done, failed, cancelled, expired
        public var description: String { ["active", "done", "failed", "cancelled", "expired"][Int(rawValue) - 1] }
    }

    enum Slot {
        static let count = StorageSlot.named("kramaa.triggers.count")
        static let active = StorageSlot.named("kramaa.triggers.active")
        static let triggers = StorageSlot.named("kramaa.triggers")
        /// Where each active trigger sits in `active`, plus one (0: not active).
        static let position = StorageSlot.named("kramaa.triggers.position")
        static func position(_ id: UInt64) -> UInt256 { StorageSlot.mapping(position, UInt256(id)) }
        static func base(_ id: UInt64) -> UInt256 { StorageSlot.mapping(triggers, UInt256(id)) }
        static func field(_ id: UInt64, _ n: Int) -> UInt256 { StorageSlot.offset(base(id), n) }
    }

    /// Storage fields of a trigger, by offset from its base slot.
    enum Field: Int {
        case owner, target, gasLimit, deadline, device, kind, threshold, flags, deposit, lastSequence, status, runs, data
    }

    enum Flag {
        static let above: UInt64 = 1, repeating: UInt64 = 2
    }

    public enum Method {
        public static let register = SystemMethod("registerTrigger(address,bytes,uint64,uint64,address,bytes32,int256,bool,bool)")
        public static let topUp = SystemMethod("topUpTrigger(uint256)")
        public static let cancel = SystemMethod("cancelTrigger(uint256)")
        public static let get = SystemMethod("getTrigger(uint256)")
        public static let run = SystemMethod("runTrigger(uint256)")
    }

    public enum Event {
        public static let registered = ABI.eventTopic("TriggerRegistered(uint256,address,address)")
        public static let ran = ABI.eventTopic("TriggerRan(uint256,bool,uint64,uint256,bytes)")
        public static let ended = ABI.eventTopic("TriggerEnded(uint256,uint8,uint256)")
    }

    public init() {}

    /// A trigger as stored.
    public struct Record: Equatable, Sendable {
        public var id: UInt64
        public var owner: Address, target: Address
        public var gasLimit: UInt64, deadline: UInt64
        public var device: Address, kind: Bytes32, threshold: UInt256
        public var above: Bool, repeating: Bool
        public var deposit: UInt256, lastSequence: UInt64, status: Status?, runs: UInt64

        init(_ id: UInt64, _ s: some StorageReader) throws(SystemCallError) {
            let base = Slot.base(id)  // one keccak for the record's slots (the hook reads every active one at every block)
            func word(_ f: Field) throws(SystemCallError) -> UInt256 { try s.load(StorageSlot.offset(base, f.rawValue)) }
            self.id = id
            owner = Address(word: try word(.owner))
            target = Address(word: try word(.target))
            gasLimit = try word(.gasLimit).uint64Value ?? 0
            deadline = try word(.deadline).uint64Value ?? 0
            device = Address(word: try word(.device))
            kind = Bytes32(try word(.kind))
            threshold = try word(.threshold)
            let flags = try word(.flags).uint64Value ?? 0
            above = flags & Flag.above != 0
            repeating = flags & Flag.repeating != 0
            deposit = try word(.deposit)
            lastSequence = try word(.lastSequence).uint64Value ?? 0
            status = Status(rawValue: UInt8(truncatingIfNeeded: try word(.status).uint64Value ?? 0))
            runs = try word(.runs).uint64Value ?? 0
        }

        var isDeadline: Bool { device == .zero }

        /// Whether a reading trigger's end has passed (a deadline trigger's deadline is its condition).
        func expired(at timestamp: UInt64) -> Bool { !isDeadline && deadline != 0 && timestamp > deadline }

        /// Whether the condition holds at a block of `timestamp` (readings from `readings`).
        func conditionHolds(at timestamp: UInt64, _ readings: some StorageReader) throws(SystemCallError) -> Bool {
            if isDeadline { return timestamp >= deadline }
            let latest = try DeviceReadings.latest(device, kind, readings)
            guard latest.block != 0, latest.sequence > lastSequence else { return false }
            // int256 comparisons: at or above, or at or below, the threshold.
            return above ? !latest.value.signedLessThan(threshold) : !threshold.signedLessThan(latest.value)
        }

        /// The deposit a run at `baseFee` needs: its whole gas limit.
        func canPay(baseFee: UInt256) -> Bool {
            let (cost, overflow) = UInt256(gasLimit).multipliedReportingOverflow(by: baseFee)
            return !overflow && deposit >= cost
        }
    }

    /// Whether trigger `id` may be due at `timestamp`, from the six slots that rule most
    /// triggers out (no new reading since its last run; a deadline not reached): the hook reads
    /// the whole record, and decides, only for the ones that pass.
    static func mayBeDue(_ id: UInt64, at timestamp: UInt64, _ triggers: some StorageReader, _ readings: some StorageReader) throws(SystemCallError) -> Bool {
        let base = Slot.base(id)
        func word(_ f: Field) throws(SystemCallError) -> UInt256 { try triggers.load(StorageSlot.offset(base, f.rawValue)) }
        guard try word(.status) == UInt256(UInt64(Status.active.rawValue)) else { return false }
        let deadline = try word(.deadline).uint64Value ?? 0, device = Address(word: try word(.device))
        if device == .zero { return timestamp >= deadline }
        if deadline != 0, timestamp > deadline { return true }  // expired: its refund is due
        let latest = try DeviceReadings.latestSequence(device, Bytes32(try word(.kind)), readings)
        guard latest.block != 0 else { return false }
        return latest.sequence > (try word(.lastSequence).uint64Value ?? 0)
    }

    public func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] {
        switch call.selector {
        case Method.register.selector:
            return ABI.encode([.uint(UInt256(try register(call)))])
        case Method.topUp.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            let trigger = try Record(id, call)
            try call.require(trigger.status == .active, "trigger \(id) is not active")
            try call.store(Slot.field(id, Field.deposit.rawValue), trigger.deposit &+ call.value)
            return []
        case Method.cancel.selector:
            try call.requireNoValue()
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            let trigger = try Record(id, call)
            try call.require(trigger.status != nil, "no trigger \(id)")
            try call.require(call.caller == trigger.owner, "only trigger \(id)'s owner \(trigger.owner) may cancel it")
            try call.require(trigger.status == .active || !trigger.deposit.isZero, "trigger \(id) has ended and its deposit was refunded")
            try end(trigger, trigger.status == .active ? .cancelled : trigger.status!, call)
            return []
        case Method.get.selector:
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            let t = try Record(id, call)
            try call.require(t.status != nil, "no trigger \(id)")
            return ABI.encode([.address(t.owner), .address(t.target), .uint(UInt256(t.gasLimit)), .uint(UInt256(t.deadline)),
                               .address(t.device), .fixedBytes(t.kind), .uint(t.threshold), .bool(t.above), .bool(t.repeating),
                               .uint(t.deposit), .uint(UInt256(t.lastSequence)), .uint(UInt256(UInt64(t.status!.rawValue))),
                               .uint(UInt256(t.runs))])
        case Method.run.selector:
            try call.require(call.caller == SystemContracts.systemAddress, "triggers are run by the protocol at the start of a block")
            let id = try call.decode { d throws(ABIDecodingError) in try d.nextUInt64() }
            try run(try Record(id, call), call)
            return []
        default:
            throw .reverted("unknown function of the triggers contract")
        }
    }

    private func register(_ call: SystemCall) throws(SystemCallError) -> UInt64 {
        let (target, data, gas, deadline, device, kind, threshold, above, repeating) = try call.decode { d throws(ABIDecodingError) in
            (try d.nextAddress(), try d.nextBytes(), try d.nextUInt64(), try d.nextUInt64(), try d.nextAddress(), try d.nextBytes32(),
             try d.nextUInt(), try d.nextBool(), try d.nextBool())
        }
        try call.require(target != .zero, "a trigger needs a target to call")
        try call.require((Self.minimumGas...Self.maximumGas).contains(gas), "a trigger's gas limit must be \(Self.minimumGas) to \(Self.maximumGas)")
        try call.require(data.count <= Self.maximumData, "a trigger's call data is at most \(Self.maximumData) bytes")
        if device == .zero {
            try call.require(deadline > call.timestamp, "a deadline trigger needs a deadline after the block's time \(call.timestamp)")
        } else {
            try call.require(try DeviceRegistry.organization(of: device, call.reading(DeviceRegistry.address)) != nil,
                             "no device \(device) in the device registry")
        }
        try call.require(try call.loadUInt64(Slot.active) < Self.maximumActive, "\(Self.maximumActive) triggers are active already")
        let id = try call.loadUInt64(Slot.count) + 1
        try call.store(Slot.count, id)
        func set(_ f: Field, _ value: UInt256) throws(SystemCallError) { try call.store(Slot.field(id, f.rawValue), value) }
        try set(.owner, UInt256(call.caller))
        try set(.target, UInt256(target))
        try set(.gasLimit, UInt256(gas))
        try set(.deadline, UInt256(deadline))
        try set(.device, UInt256(device))
        try set(.kind, UInt256(kind))
        try set(.threshold, threshold)
        try set(.flags, UInt256((above ? Flag.above : 0) | (repeating ? Flag.repeating : 0)))
        try set(.deposit, call.value)
        if device != .zero { try set(.lastSequence, UInt256(try DeviceReadings.latest(device, kind, call.reading(DeviceReadings.address)).sequence)) }
        try set(.status, UInt256(UInt64(Status.active.rawValue)))
        try call.storeBytes(Slot.field(id, Field.data.rawValue), data)
        try addActive(id, call)
        try call.emit([Event.registered, Bytes32(UInt256(id)), Bytes32(UInt256(call.caller)), Bytes32(UInt256(target))])
        return id
    }

    /// One run, in a block's system transaction: re-checks the condition on this state, calls,
    /// charges the gas used to the deposit, and ends the trigger when it is done or failed.
    private func run(_ trigger: Record, _ call: SystemCall) throws(SystemCallError) {
        let id = trigger.id
        try call.require(trigger.status == .active, "trigger \(id) is not active")
        if trigger.expired(at: call.timestamp) { return try end(trigger, .expired, call) }
        try call.require(try trigger.conditionHolds(at: call.timestamp, call.reading(DeviceReadings.address)), "trigger \(id) is not due")
        let baseFee = call.baseFee
        try call.require(trigger.canPay(baseFee: baseFee), "trigger \(id)'s deposit cannot pay its gas limit")
        let data = try call.loadBytes(Slot.field(id, Field.data.rawValue))
        let result = try call.call(trigger.target, input: data, gas: Int64(trigger.gasLimit))
        let gasUsed = trigger.gasLimit - UInt64(max(0, min(result.gasLeft, Int64(trigger.gasLimit))))
        let fee = UInt256(gasUsed) &* baseFee
        var updated = trigger
        updated.deposit = trigger.deposit &- fee
        try call.store(Slot.field(id, Field.deposit.rawValue), updated.deposit)
        try call.store(Slot.field(id, Field.runs.rawValue), UInt256(trigger.runs + 1))
        if !trigger.isDeadline {
            let latest = try DeviceReadings.latest(trigger.device, trigger.kind, call.reading(DeviceReadings.address))
            try call.store(Slot.field(id, Field.lastSequence.rawValue), UInt256(latest.sequence))
        }
        if !fee.isZero { _ = try call.call(call.coinbase, input: [], value: fee) }
        let success = result.status == .success
        try call.emit([Event.ran, Bytes32(UInt256(id))],
                      ABI.encode([.bool(success), .uint(UInt256(gasUsed)), .uint(fee), .bytes(Array(result.output.prefix(256)))]))
        if !success {
            try end(updated, .failed, call)
        } else if trigger.isDeadline || !trigger.repeating {
            try end(updated, .done, call)
        }
    }

    /// Ends a trigger: out of the active list, its deposit back to its owner.
    private func end(_ trigger: Record, _ status: Status, _ call: SystemCall) throws(SystemCallError) {
        let id = trigger.id
        try call.store(Slot.field(id, Field.status.rawValue), UInt256(UInt64(status.rawValue)))
        try call.store(Slot.field(id, Field.deposit.rawValue), UInt256.zero)
        try removeActive(id, call)
        var refund = trigger.deposit
        if !refund.isZero, try call.call(trigger.owner, input: [], value: refund, gas: Self.refundGas).status != .success {
            // An owner that cannot take native coin now keeps its refund on record; cancelTrigger retries it.
            try call.store(Slot.field(id, Field.deposit.rawValue), refund)
            refund = .zero
        }
        try call.emit([Event.ended, Bytes32(UInt256(id))], ABI.encode([.uint(UInt256(UInt64(status.rawValue))), .uint(refund)]))
    }

    /// Appends to the active list (its length at `active`, elements from keccak256(active)).
    private func addActive(_ id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        let count = try call.loadUInt64(Slot.active)
        try call.store(StorageSlot.offset(StorageSlot.elements(Slot.active), Int(count)), UInt256(id))
        try call.store(Slot.position(id), count + 1)
        try call.store(Slot.active, count + 1)
    }

    /// Removes from the active list in constant time: the last element takes the removed one's place.
    private func removeActive(_ id: UInt64, _ call: SystemCall) throws(SystemCallError) {
        let position = try call.loadUInt64(Slot.position(id)), count = try call.loadUInt64(Slot.active)
        guard position != 0, count != 0 else { return }
        let first = StorageSlot.elements(Slot.active)
        let last = try call.load(StorageSlot.offset(first, Int(count - 1)))
        if position != count {
            try call.store(StorageSlot.offset(first, Int(position - 1)), last)
            try call.store(Slot.position(last.uint64Value ?? 0), position)
        }
        try call.store(StorageSlot.offset(first, Int(count - 1)), UInt256.zero)
        try call.store(Slot.position(id), UInt256.zero)
        try call.store(Slot.active, count - 1)
    }
}

/// The block hook of the triggers: every block begins with a run of each active trigger whose
/// condition holds on the parent's state and whose deposit pays its gas, and of each reading
/// trigger past its end (to refund it), in id order, at most ``Triggers/runsPerBlock``.
public struct TriggerHook: BlockHook {
    public init() {}

    public func systemCalls(block: BlockContext, storage: GateStorage) -> [SystemCallRequest] {
        let triggers = AccountStorage(storage, Triggers.address), readings = AccountStorage(storage, DeviceReadings.address)
        guard let active = try? triggers.loadWordArray(Triggers.Slot.active) else { return [] }
        var calls: [SystemCallRequest] = []
        for word in active.sorted() {
            guard calls.count < Triggers.runsPerBlock, let id = word.uint64Value,
                  (try? Triggers.mayBeDue(id, at: block.timestamp, triggers, readings)) == true,
                  let trigger = try? Triggers.Record(id, triggers), trigger.status == .active else { continue }
            let due = trigger.expired(at: block.timestamp)
                || ((try? trigger.conditionHolds(at: block.timestamp, readings)) == true && trigger.canPay(baseFee: block.baseFee))
            if due {
                calls.append(SystemCallRequest(to: Triggers.address, data: Triggers.Method.run.callData([.uint(UInt256(id))]),
                                               gasLimit: trigger.gasLimit + Triggers.runOverhead))
            }
        }
        return calls
    }
}
