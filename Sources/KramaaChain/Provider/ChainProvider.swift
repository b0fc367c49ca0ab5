import Foundation
import KramaaEVM
import KramaaPrimitives

/// Reads of a chain: what the JSON-RPC, REST, EPCIS index, block sync and tag service need,
/// and nothing that writes. The node implements it over its database; `InMemoryChain` gives
/// tests a chain without one. Consumers take this protocol, never the database (as reth's
/// storage-api providers stand between its RPC and its database).
public protocol ChainProvider: AnyObject, Sendable {
    var chainId: UInt64 { get }
    /// The head: the latest block stored (durably) on this chain.
    var latest: BlockHeader { get }
    /// The header of block `number`; nil beyond the head.
    func header(number: UInt64) throws(ChainReadError) -> BlockHeader?
    func number(ofHash hash: Bytes32) throws(ChainReadError) -> UInt64?
    func block(number: UInt64) throws(ChainReadError) -> Block?
    func receipts(number: UInt64) throws(ChainReadError) -> StoredReceipts?
    /// Where a transaction was included: its block and index there.
    func transactionLocation(_ hash: Bytes32) throws(ChainReadError) -> (number: UInt64, index: Int)?
    /// Logs matching `filter` in chain order; more than `limit` is refused with `tooManyResults`.
    func logs(_ filter: LogFilter, limit: Int) throws(ChainReadError) -> [LocatedLog]
    /// The commit certificate of block `number` (nil for genesis and single-node blocks).
    func certificate(number: UInt64) throws(ChainReadError) -> [UInt8]?
    /// Runs `body` with the state as of block `number` and its header.
    func withState<T>(at number: UInt64, _ body: (StateBackend, BlockHeader) -> T) throws(ChainReadError) -> T
    /// Calls `body` with each block that becomes the head, once stored, in chain order, on the
    /// thread that stored it. Returns a token for `removeBlockObserver`.
    func addBlockObserver(_ body: @escaping @Sendable (ExecutedBlock) -> Void) -> Int
    func removeBlockObserver(_ token: Int)
}

/// Why a chain read has no answer, in words that say what to do.
public enum ChainReadError: Error, CustomStringConvertible, Equatable {
    /// The chain's storage could not be read; the text is the storage's own.
    case storage(String)
    /// No block with this number (yet).
    case unknownBlock(UInt64)
    /// The state of an older block than the chain keeps was asked for; `kept` is how many recent
    /// blocks' states the node keeps (nil: every one, an archive node that pruned before it was one).
    case historicalStateUnavailable(UInt64, oldest: UInt64, kept: Int?)
    /// A log query matched more than `limit` logs (nothing is returned).
    case tooManyResults(limit: Int)

    public var description: String {
        switch self {
        case .storage(let reason): return reason
        case .unknownBlock: return "header not found"
        case .historicalStateUnavailable(let n, let oldest, let kept?):
            return "historical state not available: block \(n) is older than the \(kept) recent blocks this node keeps (oldest \(oldest))"
        case .historicalStateUnavailable(let n, let oldest, nil):
            return "historical state not available: block \(n) is older than the oldest state this archive node holds (block \(oldest)); "
                + "it pruned older states before it kept them all"
        case .tooManyResults(let limit): return "query returned more than \(limit) results: narrow the block range or the filter"
        }
    }
}

extension ChainProvider {
    /// The block and its receipts, when both are stored.
    public func executedBlock(number: UInt64) throws(ChainReadError) -> (block: Block, receipts: StoredReceipts)? {
        guard let block = try block(number: number), let receipts = try receipts(number: number) else { return nil }
        return (block, receipts)
    }

    /// The receipt and outcome of an included transaction with where it is, or nil while it is
    /// not on chain.
    public func includedReceipt(_ hash: Bytes32) throws(ChainReadError) -> (number: UInt64, index: Int, receipt: Receipt, outcome: TransactionOutcome)? {
        guard let (number, index) = try transactionLocation(hash), number <= latest.number,
              let stored = try receipts(number: number), index < stored.receipts.count, index < stored.outcomes.count else { return nil }
        return (number, index, stored.receipts[index], stored.outcomes[index])
    }

    /// Waits until the head is past `number` or `timeout` has passed on `clock`, woken by the
    /// chain's new blocks (no polling). Returns the head then.
    @discardableResult
    /// The receipt of transaction `hash` once it is in a block at the head, woken by each new
    /// block rather than polling; nil when it is not included within `timeout`.
    public func waitForReceipt(_ hash: Bytes32, timeout: Duration, clock: TimeSource) async
        -> (number: UInt64, index: Int, receipt: Receipt, outcome: TransactionOutcome)? {
        let deadline = clock.uptime + timeout
        while true {
            let head = latest.number
            if let found = try? includedReceipt(hash) { return found }
            let remaining = deadline - clock.uptime
            guard remaining > .zero else { return nil }
            _ = await waitForHead(after: head, timeout: remaining, clock: clock)
        }
    }

    public func waitForHead(after number: UInt64, timeout: Duration, clock: TimeSource) async -> BlockHeader {
        if latest.number > number { return latest }
        let once = ResumeOnce()
        let token = addBlockObserver { block in
            if block.block.number > number { once.resume() }
        }
        defer { removeBlockObserver(token) }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            once.set(done)
            clock.schedule(after: timeout) { once.resume() }
            if latest.number > number { once.resume() }  // a block stored while registering
        }
        return latest
    }
}

/// A continuation resumed by whichever of several events comes first, exactly once.
final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var resumed = false

    func set(_ continuation: CheckedContinuation<Void, Never>) {
        let already = lock.withLock { () -> Bool in
            if resumed { return true }
            self.continuation = continuation
            return false
        }
        if already { continuation.resume() }
    }

    func resume() {
        let waiting = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            guard !resumed else { return nil }
            resumed = true
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume()
    }
}
