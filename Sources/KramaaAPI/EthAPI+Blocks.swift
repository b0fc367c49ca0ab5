import KramaaJSON
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// Blocks, transactions and receipts by number, hash and index.
extension EthAPI {
    /// The number a block argument names, or nil when there is no such block (answered null).
    func existingBlock(_ selector: BlockSelector) throws -> UInt64? {
        if case .hash(let hash, _) = selector { return try chain.number(ofHash: hash) }
        let n = try number(selector)
        return n <= node.latest.number ? n : nil
    }

    /// The block argument at `index`: a tag or number for the *ByNumber methods, a hash for *ByHash.
    func blockArgument(_ p: RPCParams, byHash: Bool) throws -> UInt64? {
        if byHash { return try existingBlock(.hash(p.decode(0, as: Bytes32.self), requireCanonical: false)) }
        return try existingBlock(p.decode(0, as: BlockSelector.self))
    }

    func storedBlock(_ number: UInt64) throws -> (Block, StoredReceipts)? {
        guard let block = try chain.block(number: number), let receipts = try chain.receipts(number: number) else { return nil }
        return (block, receipts)
    }

    /// A transaction by hash: pending or included (with its block), see ``Node/transactionStatus(_:)``.
    func transactionJSON(_ hash: Bytes32) throws -> JSON {
        switch try node.transactionStatus(hash) {
        case .pending(let pooled)?:
            return EthJSON.transaction(pooled.transaction, sender: pooled.sender, location: nil, baseFee: nil)
        case .included(let number, let index)?:
            guard let (block, stored) = try storedBlock(number) else { return .null }
            return EthJSON.transaction(block.transactions[index], sender: stored.senders[index],
                                       location: (block.hash, number, index), baseFee: block.header.baseFeePerGas)
        case nil:
            return .null
        }
    }

    func registerBlocks(_ r: inout RPCRouter) {
        for byHash in [false, true] {
            let suffix = byHash ? "ByHash" : "ByNumber"
            r.register("eth_getBlock" + suffix) { [self] p, _ in
                try p.expect(atMost: 2)
                let full = try p.bool(1)
                guard let n = try blockArgument(p, byHash: byHash), let (block, stored) = try storedBlock(n) else { return .null }
                return EthJSON.block(block, senders: stored.senders, full: full)
            }
            r.register("eth_getBlockTransactionCount" + suffix) { [self] p, _ in
                try p.expect(atMost: 1)
                guard let n = try blockArgument(p, byHash: byHash), let block = try chain.block(number: n) else { return .null }
                return .quantity(block.transactions.count)
            }
            r.register("eth_getTransactionByBlock\(byHash ? "Hash" : "Number")AndIndex") { [self] p, _ in
                try p.expect(atMost: 2)
                let index = try p.decode(1, as: HexIndex.self).value
                guard let n = try blockArgument(p, byHash: byHash), let (block, stored) = try storedBlock(n),
                      index < UInt64(block.transactions.count) else { return .null }
                let i = Int(index)
                return EthJSON.transaction(block.transactions[i], sender: stored.senders[i], location: (block.hash, n, i),
                                           baseFee: block.header.baseFeePerGas)
            }
            r.register(byHash ? "eth_getUncleCountByBlockHash" : "eth_getUncleCountByBlockNumber") { [self] p, _ in
                try p.expect(atMost: 1)
                return try blockArgument(p, byHash: byHash) == nil ? .null : .quantity(UInt64(0))
            }
        }
        r.register("eth_getTransactionByHash") { [self] p, _ in
            try p.expect(atMost: 1)
            return try transactionJSON(p.decode(0, as: Bytes32.self))
        }
        r.register("eth_getRawTransactionByHash") { [self] p, _ in
            try p.expect(atMost: 1)
            switch try node.transactionStatus(p.decode(0, as: Bytes32.self)) {
            case .pending(let pooled)?: return .data(pooled.transaction.encoded)
            case .included(let number, let index)?: return try chain.block(number: number).map { .data($0.transactions[index].encoded) } ?? .null
            case nil: return .null
            }
        }
        r.register("eth_getTransactionReceipt") { [self] p, _ in
            try p.expect(atMost: 1)
            let hash = try p.decode(0, as: Bytes32.self)
            guard let (number, index) = try chain.transactionLocation(hash), let (block, stored) = try storedBlock(number) else {
                return .null
            }
            return EthJSON.receipt(block, stored, index: index)
        }
        r.register("eth_getBlockReceipts") { [self] p, _ in
            try p.expect(atMost: 1)
            guard let n = try existingBlock(p.decode(0, as: BlockSelector.self)), let (block, stored) = try storedBlock(n) else {
                return .null
            }
            return .array(EthJSON.receipts(block, stored))
        }
    }
}
