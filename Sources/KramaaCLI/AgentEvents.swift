import Foundation
import KramaaAgent
import KramaaJSON
import KramaaPrimitives

extension AgentRuntime {
    /// Polls `eth_getLogs` about once a second for the events the rules wait for, from the block
    /// after the one the agent started at (no history), and acts on each log once. The head
    /// block is read again at the next poll (a node may report a block before its logs), the
    /// logs seen deduplicated by position; a failed poll is retried at the next.
    func watchEvents() async {
        var filters: [EventFilter] = []
        for rule in config.rules {
            guard case .event(let filter) = rule.when else { continue }
            let query = EventFilter(contract: filter.contract, signature: filter.signature)
            if !filters.contains(query) { filters.append(query) }
        }
        guard !filters.isEmpty else { return }
        var next: UInt64?  // the first block whose logs were not all read
        var seen: Set<ChainLog.Position> = []
        var lastError: String?
        while !Task.isCancelled {
            do {
                let head = try await headBlock()
                if let from = next, head >= from {
                    var logs: [ChainLog] = []
                    for filter in filters { logs += try await self.logs(filter.query(from: from, to: head)) }
                    for log in logs.sorted(by: { ($0.blockNumber, $0.logIndex) < ($1.blockNumber, $1.logIndex) }) where seen.insert(log.position).inserted {
                        report("event", ["contract": .string(log.address.checksummed), "block": .number(JSONNumber(log.blockNumber)),
                                         "logIndex": .number(JSONNumber(log.logIndex)), "transactionHash": .string(log.transactionHash.description)])
                        await act(engine.observe(.log(log)))
                    }
                    seen = seen.filter { $0.block >= head }
                    next = head
                } else if next == nil {
                    next = head + 1
                    report("watching", ["events": .array(filters.map { .string("\($0.contract.checksummed) \($0.signature)") }), "fromBlock": .number(JSONNumber(head + 1))])
                }
                lastError = nil
            } catch {
                // Said once per run of failures; the next poll tries again.
                if lastError != error.description { report("error", ["while": "polling the chain's events", "error": .string(error.description)]) }
                lastError = error.description
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func headBlock() async throws(CLIFailure) -> UInt64 {
        let answer = try await chain.query("eth_blockNumber").get()
        guard let text = answer.stringValue, let head = try? RPCHex.decodeQuantity(text) else { throw CLIFailure("eth_blockNumber answered \(answer)") }
        return head
    }

    private func logs(_ filter: JSON) async throws(CLIFailure) -> [ChainLog] {
        let answer = try await chain.query("eth_getLogs", [filter]).get()
        guard let items = answer.arrayValue else { throw CLIFailure("eth_getLogs answered \(answer)") }
        do { return try items.map { item throws(AgentError) in try ChainLog(rpc: item) } } catch { throw CLIFailure("eth_getLogs: \(error)") }
    }
}
