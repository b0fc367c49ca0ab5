import KramaaChain
import KramaaPrimitives

/// What anchoring reads from the chain (docs/ANCHORING.md): each header's commitment rebuilt
/// from the store, and the validator set of any height, however old.
extension Node {
    /// The validators of `height`: the genesis set, then each `ValidatorSetScheduled` log of the
    /// validator set contract in order (the contract itself keeps only the current and pending
    /// sets, and recent states only the last 128 blocks).
    public func validatorSetHistory(upTo height: UInt64) throws(ChainReadError) -> [Address] {
        let filter = LogFilter(fromBlock: 0, toBlock: min(height, latest.number), addresses: [ValidatorSetContract.address],
                               topics: [[ValidatorSetContract.Event.scheduled]])
        var set = genesis.config.validators
        for located in try logs(filter, limit: 100_000) {
            var d = ABIDecoder(located.log.data[...])
            guard let effective = try? d.nextUInt64(), let next = try? d.nextArray({ d throws(ABIDecodingError) in try d.nextAddress() }) else { continue }
            if effective <= height { set = next }
        }
        return set
    }

    /// The commitment block `number` (1 or later) carries: the history root of blocks
    /// `0..<number` and the validators of `number + 1`; nil for genesis or a block beyond the head.
    public func headerCommitment(of number: UInt64) throws(ChainReadError) -> (commitment: HeaderCommitment, nextValidators: [Address])? {
        guard number >= 1, number <= latest.number else { return nil }
        let hashes = try blockHashes(0..<number)
        let next = try validatorSetHistory(upTo: number + 1)
        return (HeaderCommitment(historyRoot: HistoryAccumulator(leaves: hashes).root, nextValidators: next), next)
    }

    /// The proof that block `number`'s hash is in the history block `anchor` commits to
    /// (blocks `0..<anchor`); nil unless `number < anchor <= head`.
    public func historyProof(of number: UInt64, inHistoryOf anchor: UInt64) throws(ChainReadError) -> (proof: HistoryAccumulator.Proof, root: Bytes32)? {
        guard number < anchor, anchor <= latest.number else { return nil }
        let hashes = try blockHashes(0..<anchor)
        let accumulator = HistoryAccumulator(leaves: hashes)
        guard let proof = accumulator.proof(of: number, leaves: { Array(hashes[Int($0.lowerBound)..<Int($0.upperBound)]) }) else { return nil }
        return (proof, accumulator.root)
    }
}
