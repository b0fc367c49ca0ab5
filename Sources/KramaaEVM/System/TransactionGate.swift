import KramaaPrimitives

/// What a ``TransactionGate`` is shown of a transaction before it runs.
public struct GatedTransaction: Sendable {
    public var sender: Address
    /// The recipient; nil for a contract creation.
    public var to: Address?
    public var value: UInt256
    public var data: [UInt8]
    /// Whether another account (a device transaction's sponsor) pays the gas.
    public var sponsored: Bool
    /// The most the sender itself can pay for gas: gas limit × price, zero when sponsored.
    public var maximumFee: UInt256

    public init(sender: Address, to: Address?, value: UInt256, data: [UInt8], sponsored: Bool, maximumFee: UInt256) {
        self.sender = sender
        self.to = to
        self.value = value
        self.data = data
        self.sponsored = sponsored
        self.maximumFee = maximumFee
    }
}

/// What a gate admitted a transaction to spend, recorded once it has run.
public struct GateCharge: Sendable, Equatable {
    /// The account whose allowance is charged (a device).
    public var account: Address
    /// Native coin the transaction sends (`value`), charged only when it succeeds.
    public var value: UInt256
    /// A token contract and the amount the call moves or approves, charged only when it succeeds.
    public var token: (contract: Address, amount: UInt256)?

    public init(account: Address, value: UInt256, token: (contract: Address, amount: UInt256)? = nil) {
        self.account = account
        self.value = value
        self.token = token
    }

    public static func == (a: GateCharge, b: GateCharge) -> Bool {
        a.account == b.account && a.value == b.value && a.token?.contract == b.token?.contract && a.token?.amount == b.token?.amount
    }
}

/// Why a gate refused a transaction: the rule, in words a user can act on.
public struct GateRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Storage as a gate reads and writes it: the state of the block being built or checked.
public struct GateStorage {
    public let read: (Address, UInt256) -> UInt256
    public let write: (Address, UInt256, UInt256) -> Void

    public init(read: @escaping (Address, UInt256) -> UInt256, write: @escaping (Address, UInt256, UInt256) -> Void = { _, _, _ in }) {
        self.read = read
        self.write = write
    }
}

/// A rule the protocol applies to a transaction's sender before the transaction runs, in the
/// pool and in every block (so every validator enforces it): the platform's device spending
/// policies (`KramaaPlatform.DevicePolicies`). A refused transaction is not included and
/// changes nothing; an admitted one's spending is recorded after it runs.
public protocol TransactionGate: Sendable {
    /// Admits `tx` at `block` (returning what to charge, nil when nothing is tracked) or throws
    /// the rule it breaks. Reads only.
    func admit(_ tx: GatedTransaction, block: BlockContext, storage: GateStorage) throws(GateRefusal) -> GateCharge?
    /// Records what an admitted transaction spent: `fee` (the gas it paid itself, zero when
    /// sponsored) always, and the charge's value and token amount when it `succeeded`.
    func record(_ charge: GateCharge, fee: UInt256, succeeded: Bool, block: BlockContext, storage: GateStorage)
}
