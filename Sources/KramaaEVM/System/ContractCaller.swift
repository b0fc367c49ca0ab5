import KramaaPrimitives

/// How typed contract clients reach a contract: read-only calls at the head. A local call on
/// the node, `eth_call` over JSON-RPC from the CLI; the clients do not know which.
public protocol ContractReader: Sendable {
    /// The output of a read-only call of `data` on `contract`; a revert throws `.reverted`.
    func call(_ contract: Address, _ data: [UInt8]) throws(ContractCallError) -> [UInt8]
}

/// A `ContractReader` that can also send: a transaction from the caller's account, answered
/// once included. A call that would revert is refused before anything is sent.
public protocol ContractCaller: ContractReader {
    func send(_ contract: Address, _ data: [UInt8]) async throws(ContractCallError) -> ContractReceipt
}

/// A transaction a contract client sent, once included.
public struct ContractReceipt: Sendable {
    public var transactionHash: Bytes32
    public var blockNumber: UInt64
    /// What the call returned (the contract's return data).
    public var output: [UInt8]

    public init(transactionHash: Bytes32, blockNumber: UInt64, output: [UInt8]) {
        self.transactionHash = transactionHash
        self.blockNumber = blockNumber
        self.output = output
    }
}

/// Why a contract call has no result.
public enum ContractCallError: Error, CustomStringConvertible, Equatable {
    /// The contract refused (its revert reason, when it gave one); nothing changed.
    case reverted(reason: String?)
    /// The answer is not what the function's ABI says it returns.
    case malformedResult(function: String, ABIDecodingError)
    /// The call could not be made (connection, node, account); the text says why.
    case unavailable(String)
    /// The transaction was sent but not included in time.
    case notIncluded(Bytes32, after: Duration)

    public var description: String {
        switch self {
        case .reverted(let reason): return reason ?? "the call reverted"
        case .malformedResult(let function, let error): return "\(function) answered something that does not decode: \(error)"
        case .unavailable(let reason): return reason
        case .notIncluded(let hash, let after): return "transaction \(hash) was not included within \(after)"
        }
    }
}

extension SystemMethod {
    /// Calls this function through `reader` and decodes the answer with `decode`.
    public func read<T>(_ reader: some ContractReader, at contract: Address, _ arguments: [ABIValue] = [],
                        _ decode: (inout ABIDecoder) throws(ABIDecodingError) -> T) throws(ContractCallError) -> T {
        try decodeResult(try reader.call(contract, callData(arguments)), decode)
    }

    /// `output` decoded as this function returns it; a mismatch names the function.
    public func decodeResult<T>(_ output: [UInt8], _ decode: (inout ABIDecoder) throws(ABIDecodingError) -> T) throws(ContractCallError) -> T {
        var decoder = ABIDecoder(output[...])
        do { return try decode(&decoder) } catch { throw .malformedResult(function: signature, error) }
    }

    /// Sends a call of this function through `caller`.
    public func send(_ caller: some ContractCaller, to contract: Address, _ arguments: [ABIValue] = []) async throws(ContractCallError) -> ContractReceipt {
        try await caller.send(contract, callData(arguments))
    }
}

extension ContractReceipt {
    /// The call's return data decoded as `method` says it returns.
    public func decode<T>(_ method: SystemMethod, _ body: (inout ABIDecoder) throws(ABIDecodingError) -> T) throws(ContractCallError) -> T {
        try method.decodeResult(output, body)
    }
}
