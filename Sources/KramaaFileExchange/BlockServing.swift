import KramaaPrimitives

/// Answers a peer's want from the local store: the blocks held, in messages of at most
/// ``ExchangeMessage/maximumBlocksBytes`` each (a larger block alone), and one don't-have for
/// the rest. At most ``maximumAnswerBytes`` of blocks answer one want (what a fetch's window
/// asks of one peer); wanted blocks beyond it are left unanswered, and the asker asks again
/// once its wait runs out, so a want cannot make a node hold more than that in memory. `allowed` decides per CID whether this peer may have it (a node serves the
/// consortium's nodes; private files travel as ciphertext, so the rule is about quotas and
/// pins, not secrecy).
public enum BlockServing {
    public static let maximumAnswerBytes = 32 * 1024 * 1024

    public static func answer(_ wanted: [[UInt8]], store: some DAGStoreView,
                              allowed: ([UInt8]) -> Bool = { _ in true }) -> [ExchangeMessage] {
        var messages: [ExchangeMessage] = []
        var batch: [ExchangeBlock] = []
        var batchBytes = 0
        var missing: [[UInt8]] = []
        var answered = 0
        for cid in wanted.prefix(ExchangeMessage.maximumWants) {
            guard allowed(cid), let data = store.block(cid) else {
                missing.append(cid)
                continue
            }
            answered += data.count
            if answered > maximumAnswerBytes && answered != data.count { break }
            if !batch.isEmpty && batchBytes + data.count > ExchangeMessage.maximumBlocksBytes {
                messages.append(.blocks(batch))
                batch.removeAll()
                batchBytes = 0
            }
            batch.append(ExchangeBlock(cid: cid, data: data))
            batchBytes += data.count
        }
        if !batch.isEmpty { messages.append(.blocks(batch)) }
        if !missing.isEmpty { messages.append(.dontHave(missing)) }
        return messages
    }
}
