import KramaaChain
import KramaaEVM
import KramaaPrimitives

extension Node {
    /// The validators of `height`, from the validator set contract in the state after block
    /// `height - 1` (or the committed head's, for later heights: the block consensus committed
    /// last counts, stored yet or not); the genesis validators when the contract holds no set.
    /// For a height whose state is no longer kept (only the last 128 are), from the genesis set
    /// and the contract's set-change logs (``validatorSetHistory(upTo:)``).
    public func validators(forHeight height: UInt64) -> [Address] {
        let fromContract: [Address]?
        do {
            fromContract = try withCommittedState(at: height > 0 ? height - 1 : 0) { state in
                try? ValidatorSetContract.validators(forHeight: height, in: SlotReader {
                    state.storage(ValidatorSetContract.address, slot: $0)
                })
            }
        } catch {
            return (try? validatorSetHistory(upTo: height)).flatMap { $0.isEmpty ? nil : $0 } ?? config.validators
        }
        guard let fromContract, !fromContract.isEmpty else { return config.validators }
        return fromContract
    }
}

extension Node {
    /// Whether the node `peer` may connect (docs/PERMISSIONING.md): a validator of the next
    /// height, or allowed by the nodes list as the head's state has it.
    public func mayConnect(_ peer: Address) -> Bool {
        if validators(forHeight: latest.number + 1).contains(peer) { return true }
        return (try? withState(at: latest.number) { state, _ in
            PermissionsContract.allows(.nodes, peer, in: SlotReader { state.storage(PermissionsContract.address, slot: $0) },
                                       configured: config.nodeAllowList)
        }) ?? false
    }
}
