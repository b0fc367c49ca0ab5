import KramaaPrimitives

/// An account as the backing store keeps it: what the EVM reads on a cache miss.
public struct AccountInfo: Equatable, Sendable {
    public var nonce: UInt64
    public var balance: UInt256
    public var codeHash: Bytes32

    public init(nonce: UInt64 = 0, balance: UInt256 = .zero, codeHash: Bytes32 = AccountInfo.emptyCodeHash) {
        self.nonce = nonce
        self.balance = balance
        self.codeHash = codeHash
    }

    /// keccak256 of no bytes: the code hash of an account without code.
    public static let emptyCodeHash = Keccak256.hash([UInt8]())

    /// EIP-161: no code, zero nonce, zero balance.
    public var isEmpty: Bool { nonce == 0 && balance.isZero && codeHash == AccountInfo.emptyCodeHash }
}

/// The persistent world state behind the EVM: read on first access to an account, slot or code.
///
/// The EVM never writes through this protocol. It keeps its changes in a `JournaledState` and
/// hands them back at the end of a transaction; the owner of the backend commits them.
public protocol StateBackend: AnyObject {
    /// The account at `address`, or nil if none exists.
    func account(_ address: Address) -> AccountInfo?
    /// A storage slot's committed value (zero when unset).
    func storage(_ address: Address, slot: UInt256) -> UInt256
    /// The code with this hash (empty for the empty code hash).
    func code(hash: Bytes32) -> [UInt8]
    /// Whether the account has any non-zero storage slot (EIP-7610: creating over it collides).
    func hasStorage(_ address: Address) -> Bool
    /// The hash of block `number` for BLOCKHASH, if known.
    func blockHash(_ number: UInt64) -> Bytes32?
}
