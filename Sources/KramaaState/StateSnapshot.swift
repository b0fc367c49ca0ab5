import KramaaEVM
import KramaaPrimitives

/// The state at one moment, read-only: accounts, code and block hashes shared copy-on-write
/// with the ``InMemoryState`` it was taken from, so taking it costs nothing and the live state
/// may change afterwards. Calls and traces run on a snapshot outside the node's lock, so a long
/// simulation holds up neither block production nor other reads.
public final class StateSnapshot: StateBackend, @unchecked Sendable {
    public let accounts: [Address: InMemoryState.Account]
    private let codes: [Bytes32: [UInt8]]
    private let blockHashes: [UInt64: Bytes32]

    init(accounts: [Address: InMemoryState.Account], codes: [Bytes32: [UInt8]], blockHashes: [UInt64: Bytes32]) {
        self.accounts = accounts
        self.codes = codes
        self.blockHashes = blockHashes
    }

    public func account(_ address: Address) -> AccountInfo? { accounts[address]?.info }
    public func storage(_ address: Address, slot: UInt256) -> UInt256 { accounts[address]?.storage[slot] ?? .zero }
    public func code(hash: Bytes32) -> [UInt8] { codes[hash] ?? [] }
    public func blockHash(_ number: UInt64) -> Bytes32? { blockHashes[number] }
    public func hasStorage(_ address: Address) -> Bool { !(accounts[address]?.storage.isEmpty ?? true) }
}

extension InMemoryState {
    /// This state as it is now, unaffected by later changes (see ``StateSnapshot``).
    public func snapshot() -> StateSnapshot {
        StateSnapshot(accounts: accounts, codes: codeTable, blockHashes: blockHashes)
    }
}
