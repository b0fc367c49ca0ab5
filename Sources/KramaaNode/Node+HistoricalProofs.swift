import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState

extension Node {
    /// An EIP-1186 proof of `address` and `slots` at block `number`: the head's from the live
    /// tries; an earlier block's, if its state is kept (``historyRetention``), from tries rebuilt
    /// from that block's state and checked against its header's state root. A rebuild passes
    /// over the whole state, so the last one is kept for the next proof at the same block (anchor
    /// receipts ask for one checkpoint block many times).
    public func proof(_ address: Address, slots: [UInt256], at number: UInt64) throws(NodeError) -> (AccountProof, BlockHeader) {
        if number == latest.number { return try proof(address, slots: slots) }
        let (state, header) = try historicalTries(at: number)
        return (state.proof(address, slots: slots), header)
    }

    private func historicalTries(at number: UInt64) throws(NodeError) -> (InMemoryState, BlockHeader) {
        if let cached = proofStates.get(number) { return cached }
        let (view, header) = try stateSnapshot(at: number)
        guard let historical = view as? HistoricalState else {
            throw .busy("the state of block \(number) is the head's; ask for the latest block")
        }
        let rebuilt = historical.materialized()
        guard rebuilt.stateRoot == header.stateRoot else {
            throw .dataDirectory("the state rebuilt for block \(number) has root \(rebuilt.stateRoot), its header says \(header.stateRoot): report this")
        }
        proofStates.put(number, (rebuilt, header))
        return (rebuilt, header)
    }
}

/// The last historical state rebuilt for proofs (one: a state is as large as the chain's).
final class ProofStateCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: (number: UInt64, value: (InMemoryState, BlockHeader))?

    func get(_ number: UInt64) -> (InMemoryState, BlockHeader)? { lock.withLock { entry?.number == number ? entry?.value : nil } }
    func put(_ number: UInt64, _ value: (InMemoryState, BlockHeader)) { lock.withLock { entry = (number, value) } }
}
