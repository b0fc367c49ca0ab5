import KramaaEVM
import KramaaPrimitives

extension SystemContracts {
    /// The chain's own governance contracts (the validator set, the permission lists).
    public static let governance = SystemContracts([ValidatorSetContract.address: ValidatorSetContract(),
                                                    PermissionsContract.address: PermissionsContract()])

    /// The union of two sets of contracts (`other` wins where both have an address, and with
    /// its gate and block hook if it has them).
    public func merging(_ other: SystemContracts) -> SystemContracts {
        SystemContracts(byAddress.merging(other.byAddress) { _, new in new }, gate: other.gate ?? gate, blockHook: other.blockHook ?? blockHook)
    }
}

extension Genesis {
    /// This genesis with `contracts` installed: each address gets the marker code (unless the
    /// document gives it code; storage it presets is kept), and the validator set contract starts with the
    /// configured validators.
    public func installing(_ contracts: SystemContracts) -> Genesis {
        var genesis = self
        for address in contracts.byAddress.keys {
            // A genesis may preset a system contract's storage (a consortium setting): its code
            // is still the marker.
            if genesis.alloc[address] == nil {
                genesis.alloc[address] = Allocation(code: SystemContracts.marker)
            } else if genesis.alloc[address]?.code.isEmpty == true {
                genesis.alloc[address]?.code = SystemContracts.marker
            }
        }
        if contracts.byAddress[ValidatorSetContract.address] != nil, !config.validators.isEmpty {
            genesis.alloc[ValidatorSetContract.address]?.storage
                .merge(ValidatorSetContract.genesisStorage(validators: config.validators)) { old, _ in old }
        }
        if contracts.byAddress[PermissionsContract.address] != nil {
            genesis.alloc[PermissionsContract.address]?.storage
                .merge(PermissionsContract.genesisStorage(senders: config.allowList, deployers: config.deployerAllowList, nodes: config.nodeAllowList)) { old, _ in old }
        }
        return genesis
    }
}
