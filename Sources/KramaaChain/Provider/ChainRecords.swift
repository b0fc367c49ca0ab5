import KramaaEVM
import KramaaPrimitives

/// A block's receipts with what RPC needs beyond consensus: senders and per-transaction
/// outcomes (gas used, created contract, effective price).
public struct StoredReceipts: Sendable {
    public var receipts: [Receipt]
    public var senders: [Address]
    public var outcomes: [TransactionOutcome]

    public init(receipts: [Receipt], senders: [Address], outcomes: [TransactionOutcome]) {
        self.receipts = receipts
        self.senders = senders
        self.outcomes = outcomes
    }
}

/// Which logs `eth_getLogs` and log filters want: a block range, addresses (any of), and
/// topics by position (each position any of its values; nil or empty matches anything). As in
/// geth, a log must have at least as many topics as the filter has positions, wildcards
/// included: `[A, nil]` matches only logs with two topics or more.
public struct LogFilter: Sendable, Equatable {
    public var fromBlock: UInt64
    public var toBlock: UInt64
    public var addresses: [Address]
    public var topics: [[Bytes32]?]

    public init(fromBlock: UInt64, toBlock: UInt64, addresses: [Address] = [], topics: [[Bytes32]?] = []) {
        self.fromBlock = fromBlock
        self.toBlock = toBlock
        self.addresses = addresses
        self.topics = topics
    }

    /// Whether `log` matches the address and topic conditions (geth's `filterLogs`).
    public func matches(_ log: Log) -> Bool {
        if !addresses.isEmpty && !addresses.contains(log.address) { return false }
        if topics.count > log.topics.count { return false }
        for (i, wanted) in topics.enumerated() {
            guard let wanted, !wanted.isEmpty else { continue }
            guard wanted.contains(log.topics[i]) else { return false }
        }
        return true
    }
}

/// A log with where it sits on chain, as `eth_getLogs` reports it.
public struct LocatedLog: Sendable, Equatable {
    public var log: Log
    public var blockNumber: UInt64
    public var blockHash: Bytes32
    public var transactionHash: Bytes32
    public var transactionIndex: Int
    /// Index of the log in its block.
    public var logIndex: Int

    public init(log: Log, blockNumber: UInt64, blockHash: Bytes32, transactionHash: Bytes32, transactionIndex: Int, logIndex: Int) {
        self.log = log
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.transactionHash = transactionHash
        self.transactionIndex = transactionIndex
        self.logIndex = logIndex
    }
}

extension LocatedLog {
    /// Every log of a block with its position.
    public static func locate(block: Block, receipts: [Receipt]) -> [LocatedLog] {
        locate(number: block.number, blockHash: block.hash, receipts: receipts) { block.transactions[$0].hash }
    }

    /// Every log of block `number` (hash `blockHash`) with its position; `transactionHash`
    /// gives the hash of the transaction at an index (asked only for those with logs).
    public static func locate(number: UInt64, blockHash: Bytes32, receipts: [Receipt],
                              transactionHash: (Int) -> Bytes32) -> [LocatedLog] {
        var out: [LocatedLog] = []
        out.reserveCapacity(receipts.reduce(0) { $0 + $1.logs.count })
        var index = 0
        for (i, receipt) in receipts.enumerated() where !receipt.logs.isEmpty {
            let txHash = transactionHash(i)
            for log in receipt.logs {
                out.append(LocatedLog(log: log, blockNumber: number, blockHash: blockHash, transactionHash: txHash,
                                      transactionIndex: i, logIndex: index))
                index += 1
            }
        }
        return out
    }
}
