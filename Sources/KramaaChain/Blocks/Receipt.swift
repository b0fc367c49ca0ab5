import KramaaEVM
import KramaaPrimitives
import KramaaTrie

/// A transaction receipt as consensus encodes it (EIP-658 status, EIP-2718 typed envelope):
/// what the receipts root commits to.
public struct Receipt: Equatable, Sendable {
    public var type: TransactionType
    public var success: Bool
    public var cumulativeGasUsed: UInt64
    public var logs: [Log]
    public var bloom: Bloom

    public init(type: TransactionType, success: Bool, cumulativeGasUsed: UInt64, logs: [Log]) {
        self.init(type: type, success: success, cumulativeGasUsed: cumulativeGasUsed, logs: logs, bloom: Bloom(logs: logs))
    }

    /// A receipt whose bloom is known (decoded, or made with a block's ``Bloom/Memo``).
    public init(type: TransactionType, success: Bool, cumulativeGasUsed: UInt64, logs: [Log], bloom: Bloom) {
        self.type = type
        self.success = success
        self.cumulativeGasUsed = cumulativeGasUsed
        self.logs = logs
        self.bloom = bloom
    }

    /// The consensus encoding: `rlp([status, cumulativeGasUsed, bloom, logs])`, prefixed with
    /// the type byte for typed transactions.
    public var encoded: [UInt8] {
        var w = RLPWriter(reservingCapacity: 320 + logs.count * 128)
        if type != .legacy { w.append(encoded: [type.rawValue]) }
        w.appendList { w in
            w.append(uint: success ? UInt64(1) : 0)
            w.append(uint: cumulativeGasUsed)
            w.append(bytes: bloom.bytes)
            w.appendList { w in
                for log in logs { log.appendRLP(to: &w) }
            }
        }
        return w.bytes
    }

    public static func decode(_ raw: [UInt8]) throws(RLPError) -> Receipt {
        guard let first = raw.first else { throw .emptyInput }
        var type = TransactionType.legacy
        var outer: RLPReader
        if first < 0xc0 {
            guard let t = TransactionType(rawValue: first) else { throw .expectedList(at: 0) }
            type = t
            outer = RLPReader(Array(raw.dropFirst()))
        } else {
            outer = RLPReader(raw)
        }
        var r = try outer.readList()
        try outer.finish()
        let status = try r.readUInt64()
        let cumulative = try r.readUInt64()
        let bloom = try Bloom(bytes: try r.readBytes(length: Bloom.byteCount))
        var list = try r.readList()
        var logs: [Log] = []
        while !list.isAtEnd {
            var l = try list.readList()
            let address = try l.readAddress()
            var topicReader = try l.readList()
            var topics: [Bytes32] = []
            while !topicReader.isAtEnd { topics.append(try topicReader.readBytes32()) }
            logs.append(Log(address: address, topics: topics, data: Array(try l.readBytes())))
            try l.finish()
        }
        try r.finish()
        // The stored bloom, not one hashed again from the logs (four hashes per Transfer log).
        return Receipt(type: type, success: status == 1, cumulativeGasUsed: cumulative, logs: logs, bloom: bloom)
    }

    /// The receipts root of a block: an ordered trie of the encoded receipts.
    public static func root(_ receipts: [Receipt]) -> Bytes32 {
        MerklePatriciaTrie.orderedRoot(receipts.map(\.encoded))
    }
}
