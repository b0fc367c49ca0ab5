import KramaaJSON
import Foundation
// The JSON-RPC and contract clients (NodeClient, ContractClient) live in KramaaAnchoring, shared with the node's relayers.
@_exported import KramaaAnchoring
import KramaaChain
import KramaaEVM
import KramaaPrimitives

/// The CLI's side of the typed contract clients: `eth_call` over JSON-RPC for reads, and
/// transactions signed with the command's key for writes.
struct RPCContractCaller: ContractCaller, @unchecked Sendable {
    let client: ContractClient
    /// Who sends; reads are made as this account too (what a call returns may depend on it).
    let signer: ContractClient.Signer?

    func call(_ contract: Address, _ data: [UInt8]) throws(ContractCallError) -> [UInt8] {
        do { return try client.read(contract, data, from: signer?.sender) } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Sends and waits for the receipt. The output is what the same call returned just before
    /// (a receipt carries no return data).
    func send(_ contract: Address, _ data: [UInt8]) async throws(ContractCallError) -> ContractReceipt {
        guard let signer else { throw .unavailable("this command has no key to send with") }
        let output = try call(contract, data)
        do {
            let receipt = try client.send(contract, data, signer: signer)
            let hash = try Bytes32(hex: receipt["transactionHash"]?.stringValue ?? "")
            let block = try RPCHex.decodeQuantity(receipt["blockNumber"]?.stringValue ?? "")
            return ContractReceipt(transactionHash: hash, blockNumber: block, output: output)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}

extension NodeConnection {
    /// Typed contract clients' caller through this node, sending as `signer` when given.
    func caller(signer: ContractClient.Signer? = nil) throws -> RPCContractCaller {
        RPCContractCaller(client: try contracts(), signer: signer)
    }
}
