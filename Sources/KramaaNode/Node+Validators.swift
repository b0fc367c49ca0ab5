import KramaaChain
import KramaaEVM
import KramaaPrimitives

extension Node {
    /// The validators of `height`, from the validator set contract in the head's state (which
    /// must be `height - 1` or later and not yet past `height`); the genesis validators when the
    /// contract holds no set.
    public func validators(forHeight height: UInt64) -> [Address] {
        let fromContract = (try? withState(at: latest.number) { state, _ in
            try? ValidatorSetContract.validators(forHeight: height, in: SlotReader {
                state.storage(ValidatorSetContract.address, slot: $0)
            })
        }) ?? nil
        guard let fromContract, !fromContract.isEmpty else { return config.validators }
        return fromContract
    }
}
