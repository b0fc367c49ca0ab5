import KramaaChain
import KramaaPrimitives
import KramaaState

/// Keys, a genesis and signed transactions shared by the pool and block tests.
enum ChainFixtures {
    static let chainId: UInt64 = 1337
    static let keys = (1...4).map { i in
        try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [UInt8(i)])
    }
    static var addresses: [Address] { keys.map { $0.publicKey.address } }
    static let funds = UInt256(10_000_000_000_000_000_000 as UInt64)  // 10 ether, below UInt64.max wei

    static func genesis(policy: FeePolicy = .eip1559, allowList: Set<Address>? = nil) -> Genesis {
        var config = ChainConfig(chainId: chainId)
        config.feePolicy = policy
        config.allowList = allowList
        var genesis = Genesis(config: config)
        if policy == .zero { genesis.baseFeePerGas = .zero }
        for a in addresses { genesis.alloc[a] = Genesis.Allocation(balance: funds) }
        return genesis
    }

    /// A fresh state holding `genesis` and its block 0.
    static func chain(_ genesis: Genesis = genesis()) -> (InMemoryState, BlockHeader) {
        let state = InMemoryState()
        return (state, genesis.makeBlock(into: state).header)
    }

    /// A signed EIP-1559 transfer.
    static func transfer(from key: Int, nonce: UInt64, to: Address = Address(word: UInt256(0xbeef)), value: UInt64 = 1,
                         tip: UInt64 = 1_000_000_000, feeCap: UInt64 = 10_000_000_000, gas: UInt64 = 21_000,
                         data: [UInt8] = [], chainId: UInt64 = chainId) -> Transaction {
        Transaction(type: .dynamicFee, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(tip),
                    maxFeePerGas: UInt256(feeCap), gasLimit: gas, to: to, value: UInt256(value), data: data)
            .signed(with: keys[key])
    }
}
