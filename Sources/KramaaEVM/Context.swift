import KramaaPrimitives

/// What the block gives the EVM (COINBASE, NUMBER, TIMESTAMP, ...).
public struct BlockContext: Sendable {
    public var coinbase: Address
    public var number: UInt64
    public var timestamp: UInt64
    public var gasLimit: UInt64
    public var baseFee: UInt256
    /// PREVRANDAO (the beacon randomness; a constant on a BFT chain).
    public var prevRandao: Bytes32
    public var chainId: UInt64
    public var blobBaseFee: UInt256

    public init(coinbase: Address, number: UInt64, timestamp: UInt64, gasLimit: UInt64, baseFee: UInt256,
                prevRandao: Bytes32, chainId: UInt64, blobBaseFee: UInt256 = 1) {
        self.coinbase = coinbase
        self.number = number
        self.timestamp = timestamp
        self.gasLimit = gasLimit
        self.baseFee = baseFee
        self.prevRandao = prevRandao
        self.chainId = chainId
        self.blobBaseFee = blobBaseFee
    }
}

/// What the transaction gives every frame (ORIGIN, GASPRICE, BLOBHASH).
public struct TransactionContext: Sendable {
    public var origin: Address
    public var gasPrice: UInt256
    public var blobHashes: [Bytes32]
    /// What the called system contract worked out from this transaction's input ahead of time
    /// (``SystemContract/prepare(_:)``, on another thread), for its top-level call only.
    public var prepared: (any Sendable)?

    public init(origin: Address, gasPrice: UInt256, blobHashes: [Bytes32] = [], prepared: (any Sendable)? = nil) {
        self.origin = origin
        self.gasPrice = gasPrice
        self.blobHashes = blobHashes
        self.prepared = prepared
    }
}

/// How a frame was entered.
public enum CallKind: Sendable {
    case call, callCode, delegateCall, staticCall, create, create2
}

/// A request to run a frame: a call into an account's code, or contract creation.
public struct Message {
    public var kind: CallKind
    public var caller: Address
    /// The account whose storage and balance the frame acts on (the new address for a create).
    public var recipient: Address
    /// The account whose code runs (differs from `recipient` for CALLCODE and DELEGATECALL).
    public var codeAddress: Address
    public var value: UInt256
    public var input: [UInt8]
    public var gas: Int64
    public var isStatic: Bool
    public var depth: Int
    /// Whether `value` moves between accounts (false for DELEGATECALL, which only reports it).
    public var transfersValue: Bool

    public init(kind: CallKind, caller: Address, recipient: Address, codeAddress: Address, value: UInt256,
                input: [UInt8], gas: Int64, isStatic: Bool = false, depth: Int = 0, transfersValue: Bool = true) {
        self.kind = kind
        self.caller = caller
        self.recipient = recipient
        self.codeAddress = codeAddress
        self.value = value
        self.input = input
        self.gas = gas
        self.isStatic = isStatic
        self.depth = depth
        self.transfersValue = transfersValue
    }
}

/// Why a frame halted exceptionally (all its gas is consumed, its changes reverted).
public enum EVMError: Error, Equatable, Sendable {
    case outOfGas
    case stackUnderflow
    case stackOverflow
    case invalidJump
    case invalidOpcode(UInt8)
    case writeInStaticContext
    case returnDataOutOfBounds
    case callDepthExceeded
    case insufficientBalance
    case contractAddressCollision
    case codeSizeExceeded
    case initCodeSizeExceeded
    case invalidCodePrefix
    case nonceOverflow
    case precompileFailure
}

/// How a frame ended.
public enum ExecutionStatus: Equatable, Sendable {
    case success
    case revert
    case failure(EVMError)
}

/// The outcome of a frame: status, gas left, return data, and the new address for a create.
public struct ExecutionResult {
    public var status: ExecutionStatus
    public var gasLeft: Int64
    public var output: [UInt8]
    public var createdAddress: Address?

    public init(status: ExecutionStatus, gasLeft: Int64, output: [UInt8] = [], createdAddress: Address? = nil) {
        self.status = status
        self.gasLeft = gasLeft
        self.output = output
        self.createdAddress = createdAddress
    }
}

/// A precompiled contract: input and gas available in, gas used and output out; nil for failure.
public typealias PrecompileFunction = @Sendable (_ input: [UInt8], _ gas: Int64) -> (gasUsed: Int64, output: [UInt8])?
