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
    /// No block with this number (yet).
    case unknownBlock(UInt64)
    /// The state of an older block than the node keeps was asked for.
    case historicalStateUnavailable(UInt64, oldest: UInt64)
    /// A simulated call could not run at all (fee cap, balance, intrinsic gas, ...).
    case invalidCall(InvalidTransactionError)
    /// A simulated call reverted; `output` is the revert data.
    case reverted(output: [UInt8])
    /// A simulated call halted exceptionally.
    case executionFailed(EVMError)
    /// eth_estimateGas: the call fails even with all the gas allowed.
    case gasRequiredExceedsAllowance(UInt64)

    public var description: String {
        switch self {
        case .store(let e): return e.description
        case .genesis(let e): return e.description
        case .dataDirectory(let reason): return "data directory: \(reason)"
        case .decode(let e): return e.description
        case .pool(let e): return e.description
        case .unknownBlock: return "header not found"
        case .historicalStateUnavailable(let n, let oldest):
            return "historical state not available: block \(n) is older than the \(Node.historyDepth) recent blocks this node keeps (oldest \(oldest))"
        case .invalidCall(let e): return e.description
        case .reverted: return "execution reverted"
        case .executionFailed(let e): return e.gethMessage
        case .gasRequiredExceedsAllowance(let cap): return "gas required exceeds allowance (\(cap))"
        }
    }
}

extension EVMError {
    /// The text geth gives for this halt (core/vm/errors.go).
    public var gethMessage: String {
        switch self {
        case .outOfGas: "out of gas"
        case .stackUnderflow: "stack underflow"
        case .stackOverflow: "stack limit reached 1024 (1023)"
        case .invalidJump: "invalid jump destination"
        case .invalidOpcode(let op): op == 0xfe ? "invalid opcode: INVALID" : "invalid opcode: opcode 0x\(String(op, radix: 16)) not defined"
        case .writeInStaticContext: "write protection"
        case .returnDataOutOfBounds: "return data out of bounds"
        case .callDepthExceeded: "max call depth exceeded"
        case .insufficientBalance: "insufficient balance for transfer"
        case .contractAddressCollision: "contract address collision"
        case .codeSizeExceeded: "max code size exceeded"
        case .initCodeSizeExceeded: "max initcode size exceeded"
        case .invalidCodePrefix: "invalid code: must not begin with 0xef"
        case .nonceOverflow: "nonce uint64 overflow"
        case .precompileFailure: "precompile failed"
        }
    }
}
