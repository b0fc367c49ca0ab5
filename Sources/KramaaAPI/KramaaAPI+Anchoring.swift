import KramaaJSON
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// What anchoring reads from a node (docs/ANCHORING.md): headers and receipts as bytes (geth's
/// debug_getRaw*), each header's commitment, and proofs of a block in an anchored history.
extension EthAPI {
    func registerAnchoring(_ r: inout RPCRouter) {
        // kramaa_anchorStatus(): the node's relayers, one object per parent chain (docs/ANCHORING.md).
        r.register("kramaa_anchorStatus") { [anchorStatus] p, _ in
            try p.expect(atMost: 0)
            guard let anchorStatus else {
                throw RPCError.server("this node runs no relayers: start it with --anchor-config FILE (docs/ANCHORING.md)")
            }
            return anchorStatus()
        }
        // kramaa_getHeaderCommitment(block): what the block's extraData commits to.
        r.register("kramaa_getHeaderCommitment") { [node] p, _ in
            try p.expect(atMost: 1)
            guard let number = try self.existingBlock(p.decode(0, as: BlockSelector.self)),
                  let (commitment, next) = try node.headerCommitment(of: number) else { return .null }
            return .object(["number": .quantity(number), "historyRoot": JSON.hash(commitment.historyRoot),
                            "validatorsHash": JSON.hash(commitment.validatorsHash), "nextValidators": .array(next.map(JSON.address)),
                            "extraData": .data(commitment.extraData)])
        }
        // kramaa_getHistoryProof(block, anchor): block's hash among the blocks before `anchor`.
        r.register("kramaa_getHistoryProof") { [node] p, _ in
            try p.expect(atMost: 2)
            guard let number = try self.existingBlock(p.decode(0, as: BlockSelector.self)),
                  let anchor = try self.existingBlock(p.decode(1, as: BlockSelector.self)) else { return .null }
            guard let (proof, root) = try node.historyProof(of: number, inHistoryOf: anchor) else {
                throw RPCError.invalidParams("block \(number) is not in the history of block \(anchor): the anchor must come after it")
            }
            return .object(["index": .quantity(proof.index), "count": .quantity(proof.count), "siblings": .array(proof.siblings.map(JSON.hash)),
                            "peaks": .array(proof.peaks.map(JSON.hash)), "root": JSON.hash(root)])
        }
        // debug_getRawHeader(block): the header's RLP, as geth answers it.
        r.register("debug_getRawHeader") { [chain] p, _ in
            try p.expect(atMost: 1)
            guard let number = try self.existingBlock(p.decode(0, as: BlockSelector.self)), let header = try chain.header(number: number) else {
                throw RPCError.server("header not found")
            }
            return .data(header.encoded)
        }
        // debug_getRawReceipts(block): the block's receipts in their consensus encoding, as geth answers it.
        r.register("debug_getRawReceipts") { [chain] p, _ in
            try p.expect(atMost: 1)
            guard let number = try self.existingBlock(p.decode(0, as: BlockSelector.self)), let stored = try chain.receipts(number: number) else {
                throw RPCError.server("block not found")
            }
            return .array(stored.receipts.map { .data($0.encoded) })
        }
    }
}
