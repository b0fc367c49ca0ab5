import KramaaEVM
import KramaaPrimitives

/// Approval of a governance proposal by the validators (the validator set's changes, the
/// permission lists): a current validator approves once; the proposal passes when more than two
/// thirds of the set of the block being executed approve. One place for the rule both use.
enum ValidatorApprovals {
    /// Records `call.caller`'s approval of proposal `id` (approvals kept under `base`) and
    /// returns how many current validators approve it and whether that passes.
    static func approve(_ id: UInt64, base: UInt256, what: String, _ call: SystemCall) throws(SystemCallError) -> (approvals: Int, passes: Bool) {
        let current = try ValidatorSetContract.validators(forHeight: call.blockNumber, in: call.reading(ValidatorSetContract.address))
        try call.require(current.contains(call.caller), "only a current validator may approve \(what)")
        let mine = slot(id, call.caller, base: base)
        try call.require(!(try call.loadBool(mine)), "\(call.caller) has already approved proposal \(id)")
        try call.store(mine, true)
        var approvals = 0
        for v in current where try call.loadBool(slot(id, v, base: base)) { approvals += 1 }
        return (approvals, 3 * approvals > 2 * current.count)
    }

    /// Whether `account` is a validator of the block being executed.
    static func isValidator(_ account: Address, _ call: SystemCall) throws(SystemCallError) -> Bool {
        try ValidatorSetContract.validators(forHeight: call.blockNumber, in: call.reading(ValidatorSetContract.address)).contains(account)
    }

    static func slot(_ id: UInt64, _ validator: Address, base: UInt256) -> UInt256 {
        StorageSlot.mapping(StorageSlot.mapping(base, UInt256(id)), validator)
    }
}
