import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaStorage

/// Why the node cannot start or take a request.
public enum NodeError: Error, CustomStringConvertible {
    case store(StoreError)
    case genesis(Genesis.FormatError)
    case dataDirectory(String)
    case decode(TransactionError)
    case pool(TxPoolError)
    /// The transaction journal cannot make an accepted transaction durable.
    case journal(JournalError)
    /// A read of the chain has no answer (unknown block, state no longer kept, storage).
    case read(ChainReadError)
    /// A simulated call could not run at all (fee cap, balance, intrinsic gas, ...).
    case invalidCall(InvalidTransactionError)
    /// A simulated call reverted; `output` is the revert data.
    case reverted(output: [UInt8])
    /// A simulated call halted exceptionally.
    case executionFailed(EVMError)
    /// The node cannot answer this now; the text says why.
    case busy(String)
    /// A block from another validator does not check out.
    case invalidBlock(BlockValidationError)
    /// eth_estimateGas: the call fails even with all the gas allowed.
    case gasRequiredExceedsAllowance(UInt64)
    /// A state snapshot cannot be written or was refused.
    case snapshot(SnapshotError)

    public var description: String {
        switch self {
        case .store(let e): return e.description
        case .genesis(let e): return e.description
        case .dataDirectory(let reason): return "data directory: \(reason)"
        case .decode(let e): return e.description
        case .pool(let e): return e.description
        case .journal(let e): return e.description
        case .read(let e): return e.description
        case .invalidCall(let e): return e.description
        case .reverted: return "execution reverted"
        case .executionFailed(let e): return e.gethMessage
        case .invalidBlock(let e): return "invalid block: \(e)"
        case .busy(let reason): return reason
        case .gasRequiredExceedsAllowance(let cap): return "gas required exceeds allowance (\(cap))"
        case .snapshot(let e): return e.description
        }
    }
}
