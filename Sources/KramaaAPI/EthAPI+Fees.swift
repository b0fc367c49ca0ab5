import KramaaJSON
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// Fee suggestions and history: eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory.
extension EthAPI {
    /// The base fee of the next block.
    func nextBaseFee() -> UInt256 {
        FeeMarket.nextBaseFee(parent: node.latest, policy: node.config.feePolicy)
    }

    /// geth's oracle: the 60th percentile of the three lowest tips paid in each of the last
    /// 20 blocks; the pool's minimum tip when they hold no transactions.
    func suggestedTip() -> UInt256 {
        guard node.config.feePolicy == .eip1559 else { return .zero }
        let head = node.latest.number
        var tips: [UInt256] = []
        for n in stride(from: head, through: head >= 19 ? head - 19 : 0, by: -1) {
            guard let block = try? chain.block(number: n) else { continue }
            let base = block.header.baseFeePerGas
            let paid = block.transactions.compactMap { tx in tx.effectiveGasPrice(baseFee: base).map { $0 &- base } }
            tips += paid.sorted().prefix(3)
        }
        guard !tips.isEmpty else { return node.poolMinimumTip }
        tips.sort()
        return max(tips[(tips.count - 1) * 60 / 100], node.poolMinimumTip)
    }

    func registerFees(_ r: inout RPCRouter) {
        // geth: the tip plus the head's base fee, so the price passes a simulation on the head.
        r.register("eth_gasPrice") { [self] _, _ in .quantity(suggestedTip() &+ node.latest.baseFeePerGas) }
        r.register("eth_maxPriorityFeePerGas") { [self] _, _ in .quantity(suggestedTip()) }
        r.register("eth_blobBaseFee") { _, _ in .quantity(BlobRules.blobBaseFee(excessBlobGas: 0)) }
        r.register("eth_feeHistory") { [self] p, _ in
            try p.expect(atMost: 3)
            let count: UInt64
            switch p[0] {
            case .number(let n)?: guard let v = n.uint64 else { throw RPCError.invalidParams("invalid argument 0: invalid block count") }; count = v
            default: count = try p.quantity(0)
            }
            let newest = try number(p.decode(1, as: BlockSelector.self))
            let list = try p.decodeIfPresent(2, as: [JSON].self) ?? []
            // Checked before any is read, so a long list costs nothing (it made a 275 MB answer).
            guard list.count <= Self.maxRewardPercentiles else {
                throw RPCError.invalidParams("invalid argument 2: at most \(Self.maxRewardPercentiles) reward percentiles (got \(list.count))")
            }
            let percentiles = try list.map { v -> Double in
                guard let n = v.numberValue?.double else { throw RPCError.invalidParams("invalid argument 2: reward percentiles must be numbers") }
                return n
            }
            return try feeHistory(count: min(count, Self.maxFeeHistoryBlocks), newest: newest, percentiles: percentiles)
        }
    }

    /// geth's bounds on eth_feeHistory: blocks per answer (more are cut to this many, as geth
    /// does) and reward percentiles per request (more are refused).
    static let maxFeeHistoryBlocks: UInt64 = 1024
    static let maxRewardPercentiles = 100

    private func feeHistory(count: UInt64, newest: UInt64, percentiles: [Double]) throws -> JSON {
        for (i, p) in percentiles.enumerated() {
            if p < 0 || p > 100 { throw RPCError.invalidParams("invalid reward percentile: \(p) is not within 0 to 100") }
            if i > 0 && p <= percentiles[i - 1] {
                throw RPCError.invalidParams("invalid reward percentile: #\(i - 1):\(percentiles[i - 1]) >= #\(i):\(p); percentiles must increase")
            }
        }
        let head = node.latest
        guard newest <= head.number else { throw RPCError.server("request beyond head block: requested \(newest), head \(head.number)") }
        guard count > 0 else {
            return .object(["oldestBlock": .quantity(UInt64(0)), "baseFeePerGas": .array([]), "gasUsedRatio": .array([])])
        }
        let oldest = newest + 1 >= count ? newest + 1 - count : 0
        var baseFees: [JSON] = [], ratios: [JSON] = [], rewards: [JSON] = [], blobFees: [JSON] = [], blobRatios: [JSON] = []
        var last: BlockHeader?
        for n in oldest...newest {
            guard let block = try chain.block(number: n), let stored = try chain.receipts(number: n) else { continue }
            let h = block.header
            baseFees.append(.quantity(h.baseFeePerGas))
            ratios.append(.number(JSONNumber(Double(h.gasUsed) / Double(max(h.gasLimit, 1)))!))
            blobFees.append(.quantity(BlobRules.blobBaseFee(excessBlobGas: h.excessBlobGas)))
            blobRatios.append(.number(JSONNumber(0)))
            if !percentiles.isEmpty {
                // Tips weighted by the gas each transaction used, as geth's processBlock.
                var tipped = block.transactions.enumerated().map { i, tx in
                    ((tx.effectiveGasPrice(baseFee: h.baseFeePerGas) ?? h.baseFeePerGas) &- h.baseFeePerGas, stored.outcomes[i].gasUsed)
                }
                tipped.sort { $0.0 < $1.0 }
                var row: [JSON] = []
                for p in percentiles {
                    guard !tipped.isEmpty else { row.append(.quantity(UInt64(0))); continue }
                    let threshold = UInt64(Double(h.gasUsed) * p / 100)
                    var sum: UInt64 = 0, pick = tipped.last!.0
                    for (tip, gas) in tipped {
                        sum += gas
                        if sum >= threshold { pick = tip; break }
                    }
                    row.append(.quantity(pick))
                }
                rewards.append(.array(row))
            }
            last = h
        }
        if let last {
            baseFees.append(.quantity(FeeMarket.nextBaseFee(parent: last, policy: node.config.feePolicy)))
            blobFees.append(.quantity(BlobRules.blobBaseFee(excessBlobGas: 0)))
        }
        var o: JSONObject = [
            "oldestBlock": .quantity(oldest), "baseFeePerGas": .array(baseFees), "gasUsedRatio": .array(ratios),
            "baseFeePerBlobGas": .array(blobFees), "blobGasUsedRatio": .array(blobRatios),
        ]
        if !percentiles.isEmpty { o["reward"] = .array(rewards) }
        return .object(o)
    }
}
