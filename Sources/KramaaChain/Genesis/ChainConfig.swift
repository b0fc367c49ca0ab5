import KramaaPrimitives

/// Who pays for gas on the chain.
public enum FeePolicy: String, Sendable, Codable {
    /// EIP-1559: a base fee that follows demand, burnt; tips to the block's coinbase.
    case eip1559
    /// Permissioned mode: base fee zero and gas price zero accepted; gas still limits work.
    case zero
}

/// The rules of a chain, fixed at genesis: identity, block production and admission.
public struct ChainConfig: Equatable, Sendable {
    public var chainId: UInt64
    /// Seconds between blocks; 0 builds a block as soon as transactions are waiting.
    public var blockPeriodSeconds: UInt64 = 1
    /// Whether a block is built every period even with no transactions.
    public var emptyBlocks = false
    /// Whether each block's `extraData` is its ``HeaderCommitment`` (the history root and the
    /// next validator set), checked on import: what anchoring on a parent chain verifies
    /// (genesis `config.kramaa.historyCommitment`; new devnets set it).
    public var commitsHistory = false
    /// The validators that seal blocks (the single node's key on a one-node chain).
    public var validators: [Address] = []
    public var feePolicy: FeePolicy = .eip1559
    /// Accounts that may send transactions; nil lets anyone send. Genesis seeds the permissions
    /// contract with it (which governs from then on; docs/PERMISSIONING.md).
    public var allowList: Set<Address>?
    /// Accounts that may deploy contracts; nil lets any sender deploy.
    public var deployerAllowList: Set<Address>?
    /// Nodes (peer addresses) that may connect besides the validators; nil lets any node follow.
    public var nodeAllowList: Set<Address>?

    public init(chainId: UInt64) { self.chainId = chainId }

}

/// EIP-1559 base fee rules (London), unless the fee policy is zero.
public enum FeeMarket {
    public static let elasticityMultiplier: UInt64 = 2
    public static let baseFeeChangeDenominator: UInt64 = 8
    /// The base fee of the first block (1 gwei, as on Ethereum at London).
    public static let initialBaseFee = UInt256(1_000_000_000)

    /// The base fee of the block after `parent`.
    public static func nextBaseFee(parent: BlockHeader, policy: FeePolicy) -> UInt256 {
        guard policy == .eip1559 else { return .zero }
        let target = parent.gasLimit / elasticityMultiplier
        let base = parent.baseFeePerGas
        if parent.gasUsed == target || target == 0 { return base }
        if parent.gasUsed > target {
            let delta = base &* UInt256(parent.gasUsed - target) / UInt256(target) / UInt256(baseFeeChangeDenominator)
            return base &+ Swift.max(delta, .one)
        }
        let delta = base &* UInt256(target - parent.gasUsed) / UInt256(target) / UInt256(baseFeeChangeDenominator)
        return base &- delta
    }
}
