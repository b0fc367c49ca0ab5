import Foundation
import KramaaChain
import KramaaEVM
import KramaaPrimitives

extension Node {
    /// Signs `data` to `contract` as a dynamic-fee transaction from `key` and pools it: nonce the
    /// account's next (counting pooled ones) unless given, a tip of 1 gwei and a fee cap of
    /// twice the head's base fee plus the tip. What the node's own services send (delivery
    /// roots, file-store reports) goes through here.
    public func submit(_ data: [UInt8], to contract: Address, gasLimit: UInt64, key: Secp256k1.PrivateKey,
                       nonce: UInt64? = nil) throws(NodeError) -> Accepted {
        let tip = UInt256(1_000_000_000)
        let tx = Transaction(chainId: chainId, nonce: nonce ?? pendingNonce(key.publicKey.address), maxPriorityFeePerGas: tip,
                             maxFeePerGas: latest.baseFeePerGas &* UInt256(2) &+ tip, gasLimit: gasLimit, to: contract, data: data)
        return try accept(raw: tx.signed(with: key).encoded)
    }
}

/// Contract calls on the node in process, and transactions from an account whose key the node
/// holds (its node key): the `ContractCaller` the node's own services give the typed contract
/// clients. A send is simulated first (a call that would revert is refused with its reason,
/// nothing sent), given a quarter more gas than the simulation used, and answered once included.
public struct NodeContractCaller: ContractCaller, @unchecked Sendable {
    public let node: Node
    public let key: Secp256k1.PrivateKey
    public var clock: TimeSource = SystemTime.shared
    public var inclusionTimeout: Duration = .seconds(30)
    /// One account's nonces in order: give one key one caller.
    private let lock = NSLock()

    public init(node: Node, key: Secp256k1.PrivateKey) {
        self.node = node
        self.key = key
    }

    public func call(_ contract: Address, _ data: [UInt8]) throws(ContractCallError) -> [UInt8] {
        try NodeContractReader(node: node).call(contract, data)
    }

    private func submit(_ data: [UInt8], to contract: Address, gas: UInt64) throws(ContractCallError) -> Node.Accepted {
        lock.lock()
        defer { lock.unlock() }
        do { return try node.submit(data, to: contract, gasLimit: gas, key: key) } catch { throw .unavailable("\(error)") }
    }

    public func send(_ contract: Address, _ data: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        let from = key.publicKey.address
        let probe = Transaction(type: .dynamicFee, chainId: node.chainId, nonce: 0, maxFeePerGas: .zero, gasLimit: 30_000_000, to: contract, data: data)
        let simulated: TransactionReceiptData
        do { simulated = try node.call(probe, from: from, at: node.latest.number) } catch { throw .unavailable(error.description) }
        guard simulated.success else { throw .reverted(reason: Opcodes.revertReason(simulated.output)) }
        let gas = (simulated.gasUsed + simulated.refunded) * 5 / 4 + 10_000
        let accepted = try submit(data, to: contract, gas: gas)
        guard let (number, _, receipt, outcome) = await node.waitForReceipt(accepted.hash, timeout: inclusionTimeout, clock: clock) else {
            throw .notIncluded(accepted.hash, after: inclusionTimeout)
        }
        guard receipt.success else { throw .reverted(reason: Opcodes.revertReason(outcome.output)) }
        return ContractReceipt(transactionHash: accepted.hash, blockNumber: number, output: outcome.output)
    }
}
