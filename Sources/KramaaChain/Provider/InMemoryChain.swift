import Foundation
import KramaaEVM
import KramaaPrimitives

/// A `ChainProvider` held in memory, for tests of what reads a chain (indexers, interfaces,
/// typed contract clients) without a node or a database: blocks are appended as executed,
/// each with the state after it.
public final class InMemoryChain: ChainProvider, @unchecked Sendable {
    public let chainId: UInt64
    private let lock = NSLock()
    private var blocks: [Block] = []
    private var stored: [StoredReceipts] = []
    private var states: [StateBackend] = []
    private var certificates: [UInt64: [UInt8]] = [:]
    private var locations: [Bytes32: (number: UInt64, index: Int)] = [:]
    private var observers: [Int: @Sendable (ExecutedBlock) -> Void] = [:]
    private var nextObserver = 0

    /// - Parameters:
    ///   - genesis: block 0, with `state` its state (kept as given: pass a snapshot).
    public init(chainId: UInt64, genesis: Block, state: StateBackend) {
        self.chainId = chainId
        blocks = [genesis]
        stored = [StoredReceipts(receipts: [], senders: [], outcomes: [])]
        states = [state]
    }

    /// Makes `executed` the head, with `state` the state after it, and tells the observers.
    public func append(_ executed: ExecutedBlock, state: StateBackend, certificate: [UInt8]? = nil) {
        let observers: [@Sendable (ExecutedBlock) -> Void] = lock.withLock {
            precondition(executed.block.number == UInt64(blocks.count), "block \(executed.block.number) does not follow \(blocks.count - 1)")
            blocks.append(executed.block)
            stored.append(StoredReceipts(receipts: executed.receipts, senders: executed.senders, outcomes: executed.outcomes))
            states.append(state)
            certificates[executed.block.number] = certificate
            for (i, tx) in executed.block.transactions.enumerated() { locations[tx.hash] = (executed.block.number, i) }
            return self.observers.keys.sorted().map { self.observers[$0]! }
        }
        for body in observers { body(executed) }
    }

    public var latest: BlockHeader { lock.withLock { blocks[blocks.count - 1].header } }

    public func header(number: UInt64) -> BlockHeader? { block(number: number)?.header }

    public func number(ofHash hash: Bytes32) -> UInt64? {
        lock.withLock { blocks.first { $0.hash == hash }?.number }
    }

    public func block(number: UInt64) -> Block? {
        lock.withLock { number < UInt64(blocks.count) ? blocks[Int(number)] : nil }
    }

    public func receipts(number: UInt64) -> StoredReceipts? {
        lock.withLock { number < UInt64(stored.count) ? stored[Int(number)] : nil }
    }

    public func transactionLocation(_ hash: Bytes32) -> (number: UInt64, index: Int)? {
        lock.withLock { locations[hash] }
    }

    public func logs(_ filter: LogFilter, limit: Int) throws(ChainReadError) -> [LocatedLog] {
        let head = latest.number
        guard filter.fromBlock <= min(filter.toBlock, head) else { return [] }
        var out: [LocatedLog] = []
        for n in filter.fromBlock...min(filter.toBlock, head) {
            guard let block = block(number: n), let stored = receipts(number: n) else { continue }
            out += LocatedLog.locate(block: block, receipts: stored.receipts).filter { filter.matches($0.log) }
            if out.count > limit { throw .tooManyResults(limit: limit) }
        }
        return out
    }

    public func certificate(number: UInt64) -> [UInt8]? { lock.withLock { certificates[number] } }

    public func withState<T>(at number: UInt64, _ body: (StateBackend, BlockHeader) -> T) throws(ChainReadError) -> T {
        let found: (StateBackend, BlockHeader)? = lock.withLock {
            number < UInt64(blocks.count) ? (states[Int(number)], blocks[Int(number)].header) : nil
        }
        guard let (state, header) = found else { throw .unknownBlock(number) }
        return body(state, header)
    }

    public func addBlockObserver(_ body: @escaping @Sendable (ExecutedBlock) -> Void) -> Int {
        lock.withLock {
            nextObserver += 1
            observers[nextObserver] = body
            return nextObserver
        }
    }

    public func removeBlockObserver(_ token: Int) { lock.withLock { observers[token] = nil } }
}
