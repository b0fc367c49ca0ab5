import KramaaPrimitives

/// A call the protocol makes at the start of a block: a system transaction (type 0x4c) from
/// ``SystemContracts/systemAddress``, with no signature and no fee.
public struct SystemCallRequest: Equatable, Sendable {
    public var to: Address
    public var data: [UInt8]
    public var gasLimit: UInt64

    public init(to: Address, data: [UInt8], gasLimit: UInt64) {
        self.to = to
        self.data = data
        self.gasLimit = gasLimit
    }
}

/// What the platform asks every block to begin with, decided on the parent's state so every
/// validator computes the same list: the triggers that are due (`KramaaPlatform.Triggers`).
/// A block builder puts these system transactions first; a validator refuses a block whose
/// leading system transactions are not exactly these (so no proposer can skip a due trigger).
public protocol BlockHook: Sendable {
    func systemCalls(block: BlockContext, storage: GateStorage) -> [SystemCallRequest]
}

extension SystemContracts {
    /// The sender of system transactions: EIP-4788's SYSTEM_ADDRESS, an account nobody holds a
    /// key for. System contracts accept calls meant for the protocol only from it.
    public static let systemAddress = try! Address(hex: "0xfffffffffffffffffffffffffffffffffffffffe")
}
