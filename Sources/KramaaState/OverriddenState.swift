import KramaaEVM
import KramaaPrimitives

/// Replacements for one account in a simulated call (geth's `OverrideAccount`, the third
/// argument of eth_call and eth_estimateGas). Fields left nil keep the account's value.
public struct AccountOverride: Sendable, Equatable {
    public var nonce: UInt64?
    public var balance: UInt256?
    public var code: [UInt8]?
    /// Replaces the whole storage: slots not listed read zero.
    public var state: [UInt256: UInt256]?
    /// Replaces only the listed slots.
    public var stateDiff: [UInt256: UInt256]?

    public init(nonce: UInt64? = nil, balance: UInt256? = nil, code: [UInt8]? = nil,
                state: [UInt256: UInt256]? = nil, stateDiff: [UInt256: UInt256]? = nil) {
        self.nonce = nonce
        self.balance = balance
        self.code = code
        self.state = state
        self.stateDiff = stateDiff
    }
}

/// A state seen with some accounts replaced, for simulated calls. Reads only; nothing of the
/// overrides reaches the state below.
public final class OverriddenState: StateBackend {
    private let base: StateBackend
    private let overrides: [Address: AccountOverride]
    private let codes: [Bytes32: [UInt8]]

    public init(base: StateBackend, overrides: [Address: AccountOverride]) {
        self.base = base
        self.overrides = overrides
        var codes: [Bytes32: [UInt8]] = [:]
        for override in overrides.values {
            if let code = override.code { codes[Keccak256.hash(code)] = code }
        }
        self.codes = codes
    }

    public func account(_ address: Address) -> AccountInfo? {
        guard let override = overrides[address] else { return base.account(address) }
        var info = base.account(address) ?? AccountInfo()
        if let nonce = override.nonce { info.nonce = nonce }
        if let balance = override.balance { info.balance = balance }
        if let code = override.code { info.codeHash = Keccak256.hash(code) }
        return info
    }

    public func storage(_ address: Address, slot: UInt256) -> UInt256 {
        if let override = overrides[address] {
            if let state = override.state { return state[slot] ?? .zero }
            if let value = override.stateDiff?[slot] { return value }
        }
        return base.storage(address, slot: slot)
    }

    public func code(hash: Bytes32) -> [UInt8] { codes[hash] ?? base.code(hash: hash) }

    public func blockHash(_ number: UInt64) -> Bytes32? { base.blockHash(number) }

    public func hasStorage(_ address: Address) -> Bool {
        if let state = overrides[address]?.state { return state.values.contains { !$0.isZero } }
        if overrides[address]?.stateDiff?.values.contains(where: { !$0.isZero }) == true { return true }
        return base.hasStorage(address)
    }
}
