import Foundation
import KramaaAnchoring
import KramaaJSON
import KramaaPrimitives
import KramaaRPC

/// The node's own JSON-RPC methods called in process (no HTTP), blocking the calling thread:
/// for code written against ``JSONRPCCalling`` that runs inside the node (anchor receipts).
/// Call it from a thread of its own, never from the concurrency pool it waits on.
struct InProcessRPC: JSONRPCCalling {
    let dispatcher: RPCDispatcher

    func call(_ method: String, _ params: [JSON]) throws -> JSON {
        let request: JSON = ["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": .array(params)]
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        let dispatcher = self.dispatcher
        Task.detached {
            answer.body = await dispatcher.respond(to: String(decoding: request.serialized(), as: UTF8.self))
            done.signal()
        }
        done.wait()
        guard let body = answer.body, let json = try? JSON.parse(Array(body.utf8)) else { throw AnchorReceiptError("\(method): the node gave no answer") }
        if let error = json["error"] { throw AnchorReceiptError("\(method): \(error["message"]?.stringValue ?? error.description)") }
        return json["result"] ?? .null
    }

    private final class Answer: @unchecked Sendable {
        var body: String?
    }
}

extension ParentChainWatch {
    /// The anchor receipt of a transaction (and one of its logs: `log`, or the one naming
    /// `event` among its topics) from the first watched parent chain whose checkpoints cover
    /// its block, built in process; blocks the calling thread on the parents' JSON-RPC.
    func receipt(transaction: Bytes32, log: Int?, event: Bytes32?, rpc: some JSONRPCCalling) throws -> JSONObject {
        var logIndex = log
        if logIndex == nil, let event {
            let receipt = try rpc.call("eth_getTransactionReceipt", [.string(transaction.description)])
            logIndex = receipt["logs"]?.arrayValue?.firstIndex { l in
                l["topics"]?.arrayValue?.contains { $0.stringValue?.lowercased() == event.description.lowercased() } == true
            }
            guard logIndex != nil else { throw AnchorReceiptError("transaction \(transaction) has no log naming event \(event)") }
        }
        var failures: [String] = []
        for parent in parents {
            do {
                let known: @Sendable (UInt64) -> (UInt64, Bytes32, UInt64)? = { number in
                    self.checkpoint(of: parent, atOrAfter: number).map { ($0.number, $0.transaction, $0.parentBlock) }
                }
                return try AnchorReceiptBuilder(kramaa: rpc, parent: parent.client, contract: parent.contract, knownCheckpoint: known)
                    .bundle(transaction: transaction, log: logIndex)
            } catch {
                failures.append("\(parent.label): \(error)")
            }
        }
        throw AnchorReceiptError(failures.isEmpty ? "this node watches no parent chain" : failures.joined(separator: "; "))
    }
}
