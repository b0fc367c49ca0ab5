import KramaaChain
import KramaaJSON
import KramaaPrimitives

/// A JSON-RPC endpoint to ask: a node over HTTP (``NodeClient``) or one in the same process.
public protocol JSONRPCCalling: Sendable {
    func call(_ method: String, _ params: [JSON]) throws -> JSON
}

extension NodeClient: JSONRPCCalling {}

extension JSONRPCCalling {
    /// A method without parameters.
    public func call(_ method: String) throws -> JSON { try call(method, []) }
}

/// Why an anchor receipt cannot be made.
public struct AnchorReceiptError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Builds anchor receipts (docs/ANCHORING.md): a self-contained bundle proving that a transaction
/// (and one of its logs) is in a block of this chain that an anchored checkpoint commits to.
/// `kramaa anchor receipt` builds one over the node's JSON-RPC; a node watching its parent chains
/// builds one in process for the dashboard's download. `kramaa anchor verify` checks it.
public struct AnchorReceiptBuilder: Sendable {
    /// The bundle's `format`.
    public static let format = "kramaa-anchor-receipt/1"
    let kramaa: any JSONRPCCalling
    let parent: NodeClient
    let contract: Address

    /// The first checkpoint at or after a block, when the caller already knows it (a node
    /// watching the parent): its number, parent transaction and parent block. nil or a nil
    /// answer: found in the contract's logs on the parent.
    var knownCheckpoint: (@Sendable (UInt64) throws -> (UInt64, Bytes32, UInt64)?)?

    public init(kramaa: any JSONRPCCalling, parent: NodeClient, contract: Address,
                knownCheckpoint: (@Sendable (UInt64) throws -> (UInt64, Bytes32, UInt64)?)? = nil) {
        (self.kramaa, self.parent, self.contract, self.knownCheckpoint) = (kramaa, parent, contract, knownCheckpoint)
    }

    /// The first `CheckpointAnchored` at or after block `number`, from every such log of the
    /// contract on the parent chain.
    func firstCheckpoint(atOrAfter number: UInt64) throws -> (UInt64, Bytes32, UInt64)? {
        let logs = try parent.call("eth_getLogs", [["address": .string(contract.checksummed), "fromBlock": "0x0", "toBlock": "latest",
                                                    "topics": [.string(Self.anchoredEvent.description)]]])
        return (logs.arrayValue ?? []).compactMap { l -> (UInt64, Bytes32, UInt64)? in
            guard let topic = l["topics"]?.arrayValue?.dropFirst().first?.stringValue, let n = try? UInt256(hex: topic).uint64Value, n >= number,
                  let tx = l["transactionHash"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }) else { return nil }
            return (n, tx, Relayer.quantity(l["blockNumber"]))
        }.min { $0.0 < $1.0 }
    }
    public static let anchoredEvent = Keccak256.hash(Array("CheckpointAnchored(uint256,bytes32,bytes32,uint256)".utf8))

    public func bundle(transaction: Bytes32, log: Int?) throws -> JSONObject {
        let receipt = try kramaa.call("eth_getTransactionReceipt", [.string(transaction.description)])
        guard !receipt.isNull else { throw AnchorReceiptError("no transaction \(transaction) on this chain") }
        let number = Relayer.quantity(receipt["blockNumber"]), index = Relayer.quantity(receipt["transactionIndex"])
        // The first checkpoint at or after the block (its history holds every block before it):
        // as a watching node already knows it, else from the contract's logs on the parent.
        let known = try knownCheckpoint?(number)
        guard let (checkpoint, parentTransaction, parentBlock) = try known ?? firstCheckpoint(atOrAfter: number) else {
            throw AnchorReceiptError("block \(number) is not anchored yet in \(contract.checksummed): no checkpoint at or after it (run kramaa anchor run)")
        }
        let block = JSON.string(RPCHex.encodeQuantity(number)), at = JSON.string(RPCHex.encodeQuantity(checkpoint))
        let hashes = try kramaa.call("eth_getBlockByNumber", [block, false])["transactions"]?.arrayValue ?? []
        let raws: [JSON] = try hashes.map { try kramaa.call("eth_getRawTransactionByHash", [$0]) }
        // For verification without the parent's RPC: its block header and the receipt's trie proof.
        let proof = try ParentProof.fetch(transaction: .string(parentTransaction.description), from: parent)
        var out: JSONObject = [
            "format": .string(Self.format),
            "chainId": .number(JSONNumber(Relayer.quantity(try kramaa.call("eth_chainId")))),
            "transaction": ["hash": .string(transaction.description), "index": .number(JSONNumber(index))],
            "block": ["number": .number(JSONNumber(number)), "header": try kramaa.call("debug_getRawHeader", [block]),
                      "transactions": .array(raws), "receipts": try kramaa.call("debug_getRawReceipts", [block])],
            "checkpoint": ["number": .number(JSONNumber(checkpoint)), "header": try kramaa.call("debug_getRawHeader", [at]),
                           "validatorsHash": try kramaa.call("kramaa_getHeaderCommitment", [at])["validatorsHash"] ?? .null],
            "parent": ["chainId": .number(JSONNumber(Relayer.quantity(try parent.call("eth_chainId")))), "contract": .string(contract.checksummed),
                       "transaction": .string(parentTransaction.description), "block": .number(JSONNumber(parentBlock)),
                       "header": .data(proof.header), "transactionIndex": .number(JSONNumber(proof.transactionIndex)),
                       "receiptProof": .array(proof.receiptProof.map { .data($0) })],
        ]
        if let log { out["log"] = .number(JSONNumber(log)) }
        if number < checkpoint { out["history"] = try kramaa.call("kramaa_getHistoryProof", [block, at]) }
        return out
    }
}
