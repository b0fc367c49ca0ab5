import KramaaJSON
import KramaaConsensus
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// Kramaa's own methods about consensus: who validates a height and the certificate that
/// finalised a block, so anyone can check finality without trusting the node.
extension EthAPI {
    func registerConsensus(_ r: inout RPCRouter) {
        // kramaa_validators(block?): the validator set of that height (default: the next one).
        r.register("kramaa_validators") { [node] p, _ in
            try p.expect(atMost: 1)
            let height = try p.decodeIfPresent(0, as: BlockSelector.self).map { try self.number($0) } ?? node.latest.number + 1
            guard height >= 1 else { throw RPCError.invalidParams("block 0 (genesis) has no validators' votes") }
            return .array(node.validators(forHeight: height).map(JSON.address))
        }
        // kramaa_getCommitCertificate(block): the precommits that finalised the block, null on a
        // single-node chain (its blocks carry none) or for an unknown block.
        r.register("kramaa_getCommitCertificate") { [chain] p, _ in
            try p.expect(atMost: 1)
            guard let number = try self.existingBlock(p.decode(0, as: BlockSelector.self)),
                  let bytes = try chain.certificate(number: number) else { return .null }
            let certificate: CommitCertificate
            do { certificate = try CommitCertificate(rlp: bytes) } catch {
                throw RPCError.server("the stored certificate of block \(number) does not decode: \(error)")
            }
            let signers: [JSON] = certificate.precommits.map { .object(["validator": JSON.address($0.validator), "signature": .data($0.signature.rawRepresentation)]) }
            return .object([
                "height": .quantity(certificate.height), "round": .quantity(UInt64(certificate.round)),
                "blockHash": JSON.hash(certificate.blockHash), "precommits": .array(signers),
                "rlp": .data(bytes),
            ])
        }
    }
}
