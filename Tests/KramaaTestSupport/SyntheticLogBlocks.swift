import KramaaChain
import KramaaEVM
import KramaaPrimitives

/// Blocks of made-up logs, cheap to build by the hundred thousand: the input of the log query
/// tests and benchmarks (the index against a brute-force scan, range queries over many
/// blocks). Nothing is executed: there is no state, the roots are not computed, and the
/// transactions are a few signed ones reused (so transaction hashes repeat across blocks).
/// Everything is drawn from a seed, so a failing property test replays exactly.
public struct SyntheticLogBlocks {
    /// The contracts logs come from; the first is the "token" most logs come from.
    public let contracts: [Address]
    /// The values topics are drawn from (position 0 mostly from the first few: event kinds).
    public let topicValues: [Bytes32]
    /// Largest number of logs in one block (a block gets 0...maxLogs, a few get none).
    public let maxLogs: Int
    private var random: SplitMix64
    private var parent = Bytes32.zero

    /// - Parameters:
    ///   - contracts: how many distinct log addresses.
    ///   - topicValues: how many distinct topic values (fewer: more blocks match each).
    ///   - maxLogs: at most this many logs per block.
    public init(seed: UInt64, contracts: Int = 8, topicValues: Int = 64, maxLogs: Int = 6) {
        random = SplitMix64(seed: seed)
        self.contracts = (0..<contracts).map { Address(word: UInt256(UInt64(0xc0de_0000 + $0))) }
        self.topicValues = (0..<topicValues).map { UInt256(UInt64(0x70_0000 + $0)).bytes32 }
        self.maxLogs = maxLogs
    }

    /// The signed transactions blocks are made of (signed once: signing is the slow part).
    public static let transactions: [Transaction] = {
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [9])
        return (0..<4).map { nonce in
            Transaction(type: .dynamicFee, chainId: 5, nonce: UInt64(nonce), maxPriorityFeePerGas: .one,
                        maxFeePerGas: UInt256(10_000_000_000), gasLimit: 100_000, to: Address(word: UInt256(0xc0de)), data: [])
                .signed(with: key)
        }
    }()

    /// A random log: one of the contracts, 0 to 4 topics, a little data.
    public mutating func log() -> Log {
        let address = contracts[Int(random.next() % UInt64(contracts.count))]
        let count = Int(random.next() % 5)
        let topics = (0..<count).map { position -> Bytes32 in
            // Position 0 is an event signature: a handful of them, so it matches many logs.
            let range = position == 0 ? min(4, topicValues.count) : topicValues.count
            return topicValues[Int(random.next() % UInt64(range))]
        }
        return Log(address: address, topics: topics, data: (0..<Int(random.next() % 40)).map { UInt8(truncatingIfNeeded: $0) })
    }

    /// The next block (numbered `number`, after the previous one built): up to 4 transactions,
    /// their receipts holding random logs.
    public mutating func block(number: UInt64) -> ExecutedBlock {
        let logCount = Int(random.next() % UInt64(maxLogs + 1))
        let txCount = logCount == 0 ? Int(random.next() % 2) : 1 + Int(random.next() % UInt64(min(4, logCount)))
        var logs: [[Log]] = Array(repeating: [], count: txCount)
        for _ in 0..<logCount { logs[Int(random.next() % UInt64(txCount))].append(log()) }
        return Self.block(number: number, parent: &parent, transactions: Array(Self.transactions.prefix(txCount)), logs: logs)
    }

    /// A block holding `transactions` whose receipts carry `logs` (one list per transaction).
    public static func block(number: UInt64, parent: inout Bytes32, transactions: [Transaction], logs: [[Log]]) -> ExecutedBlock {
        var header = BlockHeader(parentHash: parent, coinbase: .zero, stateRoot: .zero, number: number, gasLimit: 30_000_000,
                                 timestamp: number, baseFeePerGas: UInt256(7))
        header.gasUsed = 21_000 * UInt64(transactions.count)
        let block = Block(header: header, transactions: transactions)
        parent = block.hash
        let receipts = logs.enumerated().map { i, logs in
            Receipt(type: .dynamicFee, success: true, cumulativeGasUsed: 21_000 * UInt64(i + 1), logs: logs)
        }
        let outcomes = transactions.map { _ in TransactionOutcome(gasUsed: 21_000, effectiveGasPrice: UInt256(8), createdAddress: nil, output: []) }
        return ExecutedBlock(block: block, senders: transactions.map { _ in .zero }, receipts: receipts, outcomes: outcomes)
    }
}
