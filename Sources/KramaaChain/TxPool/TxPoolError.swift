import KramaaEVM
import KramaaPrimitives

/// Why the pool refused a transaction. Messages are geth's, so that wallets and scripts that
/// match on them keep working.
public enum TxPoolError: Error, Equatable, CustomStringConvertible {
    case invalid(TransactionError)
    case alreadyKnown
    case unprotected
    case oversizedData(size: Int, limit: Int)
    case senderNotAllowed(Address)
    /// The sender may send, but not deploy contracts (the deployers list).
    case deployerNotAllowed(Address)
    case nonceTooLow(next: UInt64, got: UInt64)
    case insufficientFunds(have: UInt256, want: UInt256)
    /// A device transaction's sponsor cannot pay gasLimit × fee cap.
    case sponsorInsufficientFunds(sponsor: Address, have: UInt256, want: UInt256)
    case exceedsBlockGasLimit(gas: UInt64, limit: UInt64)
    case underpriced(tip: UInt256, minimum: UInt256)
    case feeCapBelowBaseFee(feeCap: UInt256, baseFee: UInt256)
    case replacementUnderpriced
    case accountLimitExceeded(Address)
    case full
    case typeNotSupported(TransactionType)
    /// The platform's rule on the sender refuses it (a device's spending policy, a revoked key).
    case refused(GateRefusal)
    /// A system transaction (type 0x4c): validators make them in each block, nobody sends them.
    case systemTransaction

    public var description: String {
        switch self {
        case .invalid(let e): return e.description
        case .alreadyKnown: return "already known"
        case .unprotected: return "only replay-protected (EIP-155) transactions allowed over RPC"
        case .oversizedData(let size, let limit): return "oversized data: transaction size \(size), limit \(limit)"
        case .senderNotAllowed(let a): return "sender not allowed: \(a) is not on the chain's senders list (docs/PERMISSIONING.md)"
        case .deployerNotAllowed(let a): return "deployment not allowed: \(a) is not on the chain's deployers list (docs/PERMISSIONING.md)"
        case .nonceTooLow(let next, let got): return "nonce too low: next nonce \(next), tx nonce \(got)"
        case .insufficientFunds(let have, let want): return "insufficient funds for gas * price + value: balance \(have), tx cost \(want), overshot \(want &- have)"
        case .sponsorInsufficientFunds(let sponsor, let have, let want):
            return "insufficient funds of sponsor \(sponsor) for gas * price: balance \(have), gas cost \(want), overshot \(want &- have)"
        case .exceedsBlockGasLimit(let gas, let limit): return "exceeds block gas limit: gas \(gas), limit \(limit)"
        case .underpriced(let tip, let minimum): return "transaction underpriced: tip needed \(minimum), tip permitted \(tip)"
        case .feeCapBelowBaseFee(let cap, let base): return "transaction underpriced: max fee per gas \(cap) less than block base fee \(base)"
        case .replacementUnderpriced: return "replacement transaction underpriced"
        case .accountLimitExceeded(let a): return "account limit exceeded: \(a) has too many queued transactions"
        case .full: return "txpool is full"
        case .typeNotSupported(let t): return "transaction type not supported: \(t)"
        case .refused(let refusal): return refusal.reason
        case .systemTransaction: return "system transactions (type 0x4c) are made by the validators at the start of each block; they cannot be sent"
        }
    }
}
