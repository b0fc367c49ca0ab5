import KramaaEVM
import KramaaPrimitives

/// The state as it was some blocks ago: the live state seen through the undo records of the
/// blocks after it. Reads only; it serves `eth_call`, balances and tracing at older blocks.
/// It reads a snapshot of the live state, so the live state may change while it is in use.
public final class HistoricalState: StateBackend, @unchecked Sendable {
    private let live: StateSnapshot
    /// Undo records of the blocks after the viewed one, oldest first.
    private let undos: [StateUndo]

    /// - Parameter undos: the undo records of blocks B+1 … head, in that order, to view block B.
    public init(live: StateSnapshot, undos: [StateUndo]) {
        self.live = live
        self.undos = undos
    }

    /// A view over a snapshot of `live` taken now.
    public convenience init(live: InMemoryState, undos: [StateUndo]) {
        self.init(live: live.snapshot(), undos: undos)
    }

    public func account(_ address: Address) -> AccountInfo? {
        for undo in undos {
            if let previous = undo.accounts[address] { return previous }
        }
        return live.account(address)
    }

    public func storage(_ address: Address, slot: UInt256) -> UInt256 {
        for undo in undos {
            if let cleared = undo.clearedStorage[address] { return cleared[slot] ?? .zero }
            if let previous = undo.storage[address]?[slot] { return previous }
        }
        return live.storage(address, slot: slot)
    }

    public func code(hash: Bytes32) -> [UInt8] { live.code(hash: hash) }

    public func blockHash(_ number: UInt64) -> Bytes32? { live.blockHash(number) }

    public func hasStorage(_ address: Address) -> Bool {
        !storageSnapshot(address).isEmpty
    }

    /// Every non-zero slot of `address` as of the viewed block.
    public func storageSnapshot(_ address: Address) -> [UInt256: UInt256] {
        var storage = live.accounts[address]?.storage ?? [:]
        for undo in undos.reversed() {
            if let cleared = undo.clearedStorage[address] {
                storage = cleared
            } else {
                for (slot, value) in undo.storage[address] ?? [:] { storage[slot] = value.isZero ? nil : value }
            }
        }
        return storage
    }
}
