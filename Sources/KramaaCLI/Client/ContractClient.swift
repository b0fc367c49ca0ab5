import Foundation
import KramaaChain
import KramaaPrimitives
import KramaaRPC

/// Calls contracts (system contracts included) through a node's JSON-RPC: reads with
/// `eth_call`, writes as EIP-1559 transactions signed with the caller's key, waiting for the
/// receipt. A call that would revert is refused before it is sent, with the contract's reason.
struct ContractClient {
    let node: NodeClient

    /// The ABI-encoded result of a read-only call.
    func read(_ contract: Address, _ data: [UInt8], from: Address? = nil) throws -> [UInt8] {
        var call: JSONObject = ["to": .string(contract.checksummed), "data": .data(data)]
        if let from { call["from"] = .string(from.checksummed) }
        let result = try node.call("eth_call", [.object(call), "latest"])
        return try RPCHex.decodeData(result.stringValue ?? "")
    }

    /// Sends `data` to `contract` signed with `key`, waits for it to be included, and returns
    /// the receipt; throws with the revert reason when the call would fail.
    func send(_ contract: Address, _ data: [UInt8], key: Secp256k1.PrivateKey, value: UInt256 = .zero,
              wait: TimeInterval = 30) throws -> JSON {
        let sender = key.publicKey.address
        let call: JSON = ["from": .string(sender.checksummed), "to": .string(contract.checksummed), "data": .data(data)]
        let estimate = try RPCHex.decodeQuantity(try node.call("eth_estimateGas", [call]).stringValue ?? "")
        let chainId = try RPCHex.decodeQuantity(try node.call("eth_chainId").stringValue ?? "")
        let nonce = try RPCHex.decodeQuantity(try node.call("eth_getTransactionCount", [.string(sender.checksummed), "pending"]).stringValue ?? "")
        let latest = try node.call("eth_getBlockByNumber", ["latest", false])
        let baseFee = try UInt256(hex: latest["baseFeePerGas"]?.stringValue ?? "0x0")
        let tip = try UInt256(hex: try node.call("eth_maxPriorityFeePerGas").stringValue ?? "0x0")
        let tx = Transaction(type: .dynamicFee, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: tip,
                             maxFeePerGas: baseFee &* UInt256(2) &+ tip, gasLimit: estimate + estimate / 5 + 10_000,
                             to: contract, value: value, data: data).signed(with: key)
        let hash = try node.call("eth_sendRawTransaction", [.data(tx.encoded)])
        let deadline = Date().addingTimeInterval(wait)
        while Date() < deadline {
            let receipt = try node.call("eth_getTransactionReceipt", [hash])
            if !receipt.isNull {
                guard receipt["status"]?.stringValue == "0x1" else {
                    throw ClientError("transaction \(hash.stringValue ?? "") was included but failed (status \(receipt["status"]?.stringValue ?? "?"))")
                }
                return receipt
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ClientError("transaction \(hash.stringValue ?? "") was not included within \(Int(wait)) s")
    }
}
