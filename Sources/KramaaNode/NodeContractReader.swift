import KramaaChain
import KramaaEVM
import KramaaPrimitives

/// Read-only contract calls on the node's head state, in process: the `ContractReader` the
/// node's own services (REST, tags) give the typed contract clients.
public struct NodeContractReader: ContractReader {
    public let node: Node
    /// The gas a read may use.
    public var gas: UInt64 = 10_000_000

    public init(node: Node) { self.node = node }

    public func call(_ contract: Address, _ data: [UInt8]) throws(ContractCallError) -> [UInt8] {
        let tx = Transaction(type: .dynamicFee, chainId: node.chainId, nonce: 0, maxFeePerGas: .zero, gasLimit: gas, to: contract, data: data)
        let result: TransactionReceiptData
        do { result = try node.call(tx, from: .zero, at: node.latest.number) } catch {
            throw .unavailable(error.description)
        }
        guard result.success else { throw .reverted(reason: Opcodes.revertReason(result.output)) }
        return result.output
    }
}
