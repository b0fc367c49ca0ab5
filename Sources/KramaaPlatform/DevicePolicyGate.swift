import KramaaEVM
import KramaaPrimitives

/// The protocol's rule on transactions sent by devices (docs/DEVICE-POLICIES.md), applied by
/// the pool and by every block before a transaction runs:
///
/// 1. a key the device registry knows must be the current key of an active device: a
///    suspended or revoked device, or a key rotated away or revoked, sends nothing;
/// 2. a device with a policy (``DevicePolicies``) may send only what the policy allows: not
///    revoked, not expired, sponsored if it must be, calls it lists, native coin and tokens
///    within what remains of the period.
///
/// Accounts that are not device keys pass untouched. Each refusal names the rule.
public struct DevicePolicyGate: TransactionGate {
    /// ERC-20 functions whose amount a token limit counts, with the amount's argument index.
    static let tokenFunctions: [[UInt8]: Int] = [
        ABI.selector("transfer(address,uint256)"): 1,
        ABI.selector("approve(address,uint256)"): 1,
        // Not ERC-20, but many tokens (OpenZeppelin 4) have it: an approval by increments.
        ABI.selector("increaseAllowance(address,uint256)"): 1,
        transferFrom: 2,
    ]
    static let transferFrom = ABI.selector("transferFrom(address,address,uint256)")

    public init() {}

    public func admit(_ tx: GatedTransaction, block: BlockContext, storage: GateStorage) throws(GateRefusal) -> GateCharge? {
        do {
            return try check(tx, block: block, registry: AccountStorage(storage, DeviceRegistry.address),
                             policies: AccountStorage(storage, DevicePolicies.address))
        } catch let error as GateRefusal {
            throw error
        } catch {
            throw GateRefusal("the device registry cannot be read: \(error)")  // reads through the gate do not fail
        }
    }

    private func check(_ tx: GatedTransaction, block: BlockContext, registry: AccountStorage, policies: AccountStorage) throws -> GateCharge? {
        guard let key = try DeviceRegistry.standing(ofKey: tx.sender, registry) else { return nil }
        let device = key.device
        switch key.status {
        case .suspended?: throw GateRefusal("device \(device) is suspended: its organisation must reactivate it before it sends transactions")
        case .revoked?: throw GateRefusal("device \(device) is revoked: its keys can no longer send transactions")
        default: break
        }
        guard key.isCurrent, key.validUntil == 0 || block.number < key.validUntil else {
            throw GateRefusal("key \(tx.sender) of device \(device) is no longer valid (since block \(key.validUntil)): sign with the device's current key")
        }
        let policy = try DevicePolicies.Policy(device, policies, timestamp: block.timestamp)
        guard policy.exists else { return nil }
        if policy.revoked {
            throw GateRefusal("device \(device)'s policy was revoked by its organisation: it may send nothing until a new policy is set")
        }
        if policy.validUntil != 0, block.timestamp > policy.validUntil {
            throw GateRefusal("device \(device)'s policy expired at \(policy.validUntil) (unix seconds); its organisation must renew it")
        }
        if policy.feesSponsored, !tx.sponsored {
            throw GateRefusal("device \(device)'s policy requires its fees to be sponsored: send a device transaction with its organisation as sponsor")
        }
        guard let to = tx.to else { throw GateRefusal("device \(device)'s policy does not allow it to create contracts") }
        let selector: [UInt8]
        if tx.data.isEmpty {
            selector = DevicePolicies.plainTransfer
        } else if tx.data.count < 4 {
            throw GateRefusal("device \(device)'s policy allows only function calls and plain transfers; \(tx.data.count) bytes of call data are neither")
        } else {
            selector = Array(tx.data.prefix(4))
        }
        var token: (contract: Address, amount: UInt256)?
        let limit = try DevicePolicies.TokenLimit(device, to, policies, timestamp: block.timestamp)
        if !limit.perPeriod.isZero, let argument = Self.tokenFunctions[selector] {
            let amount = Self.word(tx.data, argument)
            // transferFrom moves the device's tokens only when it names the device as `from`.
            let own = selector != Self.transferFrom || Address(word: Self.word(tx.data, 0)) == device
            if own, amount > limit.remaining {
                throw GateRefusal("device \(device)'s policy allows \(limit.perPeriod) of token \(to) per period; \(limit.remaining) remain, this call moves \(amount)")
            }
            token = own ? (to, amount) : nil
        } else if try !DevicePolicies.callAllowed(device, to, selector, policies) {
            let what = selector == DevicePolicies.plainTransfer ? "plain transfers to \(to)" : "function 0x\(Hex.encode(selector, prefix: false)) of \(to)"
            throw GateRefusal("device \(device)'s policy does not allow \(what); its organisation can allow it with allowDeviceCall")
        }
        let (want, overflow) = tx.value.addingReportingOverflow(tx.maximumFee)
        if overflow || want > policy.nativeRemaining {
            throw GateRefusal("device \(device)'s policy allows \(policy.nativePerPeriod) wei of native coin per period; \(policy.nativeRemaining) remain, this transaction may spend \(want) (value \(tx.value) and fees up to \(tx.maximumFee))")
        }
        return GateCharge(account: device, value: tx.value, token: token)
    }

    public func record(_ charge: GateCharge, fee: UInt256, succeeded: Bool, block: BlockContext, storage: GateStorage) {
        let device = charge.account, address = DevicePolicies.address
        guard let policy = try? DevicePolicies.Policy(device, AccountStorage(storage, address), timestamp: block.timestamp) else { return }
        let window = UInt256(DevicePolicies.window(block.timestamp, period: policy.period))
        storage.write(address, DevicePolicies.Slot.nativeSpent(device), policy.nativeSpent &+ fee &+ (succeeded ? charge.value : .zero))
        storage.write(address, DevicePolicies.Slot.nativeWindow(device), window)
        if succeeded, let (token, amount) = charge.token,
           let limit = try? DevicePolicies.TokenLimit(device, token, AccountStorage(storage, address), timestamp: block.timestamp) {
            storage.write(address, DevicePolicies.Slot.tokenSpent(device, token), limit.spent &+ amount)
            storage.write(address, DevicePolicies.Slot.tokenWindow(device, token), window)
        }
    }

    /// The ABI word of argument `index` of a call (zero where the data is short).
    static func word(_ data: [UInt8], _ index: Int) -> UInt256 {
        let start = 4 + 32 * index
        guard data.count >= start + 32 else { return .zero }
        return UInt256(try! Bytes32(Array(data[start..<start + 32])))
    }
}
