import Foundation
import KramaaChain
import KramaaEPCIS
import KramaaGS1
import KramaaPlatform
import KramaaPrimitives

/// The node's index of captured EPCIS events: every successful `captureEvents` transaction's
/// document (its input, replicated with the chain), each event with its hash, recorder and
/// where it is on the chain. Queries and asset histories read it.
///
/// Kept in SQLite (``EPCISIndexStore``: `epcis-index.sqlite` in the data directory, or in
/// memory), with the indexes the EPCIS query parameters narrow on, so start time and memory do
/// not grow with the number of events, and a query by EPC, location and time window or parent
/// reads only its candidates. Fed by the chain's new-block events (indexed on a queue of its
/// own, off the thread that stored the block); blocks it has not seen (those since it last
/// ran, or one whose event is still on its way when a query comes) are read from the provider,
/// in order.
///
/// A successful capture whose recorded logs do not pair up one to one with its document's
/// events means the index and the contract disagree: the index stops there (and stays stopped
/// across restarts) and every query answers `EPCISIndexError.mismatch` rather than a history
/// with holes.
public final class EPCISIndex: @unchecked Sendable {
    /// One recorded event and the facts that prove it.
    public struct Entry: Sendable {
        public var event: EPCISEvent
        public var hash: Bytes32
        public var organization: UInt64
        public var recorder: Address
        public var device: Address
        public var blockNumber: UInt64
        public var blockHash: Bytes32
        public var transactionHash: Bytes32
        public var transactionIndex: Int
        /// The identifiers the event names, as asset/aggregation keys.
        public var keys: [UInt256]

        public init(event: EPCISEvent, hash: Bytes32, organization: UInt64, recorder: Address, device: Address, blockNumber: UInt64,
                    blockHash: Bytes32, transactionHash: Bytes32, transactionIndex: Int, keys: [UInt256]) {
            (self.event, self.hash, self.organization, self.recorder, self.device) = (event, hash, organization, recorder, device)
            (self.blockNumber, self.blockHash, self.transactionHash, self.transactionIndex, self.keys) = (blockNumber, blockHash, transactionHash, transactionIndex, keys)
        }
    }

    /// The file name of the index in a data directory.
    public static let fileName = "epcis-index.sqlite"

    let chain: any ChainProvider
    let store: EPCISIndexStore
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "kramaa.epcis-index")
    private var indexedThrough: UInt64
    private var failure: EPCISIndexError?
    private var observer: Int?
    static let capture = ProvenanceRegistry.Method.capture.selector

    /// Starts indexing `chain` into the index at `path` (nil: in memory), from where it last
    /// stopped: the blocks since, on the first query; new blocks as they come. A file that does
    /// not open as an index is replaced (the index is rebuilt from the chain).
    public init(chain: any ChainProvider, path: String? = nil) throws {
        self.chain = chain
        var opened = try Self.open(path)
        if opened.indexedThrough > chain.latest.number, let path {
            // Ahead of the chain (an index copied after its chain, a chain rolled back): the index
            // is derived from the chain, so it is rebuilt from it.
            try? opened.db.close()
            opened = try Self.open(path, fresh: true)
        }
        store = opened
        indexedThrough = opened.indexedThrough
        failure = opened.failure
        observer = chain.addBlockObserver { [weak self] executed in
            guard let self else { return }
            let stored = StoredReceipts(receipts: executed.receipts, senders: executed.senders, outcomes: executed.outcomes)
            queue.async { self.lock.withLock { self.advance(with: (executed.block, stored)) } }
        }
    }

    /// The index at `path` (in memory without one); a file that does not open as an index, or
    /// `fresh`, is replaced by an empty one.
    static func open(_ path: String?, fresh: Bool = false) throws -> EPCISIndexStore {
        guard let path else { return try EPCISIndexStore(path: nil) }
        if !fresh, let store = try? EPCISIndexStore(path: path) { return store }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return try EPCISIndexStore(path: path)
    }

    /// An in-memory index of `chain` (tests, tools).
    public convenience init(chain: any ChainProvider) {
        try! self.init(chain: chain, path: nil)
    }

    deinit { if let observer { chain.removeBlockObserver(observer) } }

    /// Blocks indexed so far (through this number).
    public var indexedHeight: UInt64 { lock.withLock { indexedThrough } }

    func setIndexedThrough(_ block: UInt64) { lock.withLock { indexedThrough = max(indexedThrough, block) } }

    /// Every recorded event, in chain order, up to the head (reads the whole index: for tests
    /// and small chains; queries use ``query(_:)``).
    public func all() throws(EPCISIndexError) -> [Entry] {
        try read { store in
            var out: [Entry] = []
            try store.scan(EPCISIndexNarrowing(EPCISQuery()), after: nil) { batch in
                out += batch.map(\.entry)
                return true
            }
            return out
        }
    }

    /// The event with this event hash, if recorded.
    public func entry(hash: Bytes32) throws(EPCISIndexError) -> Entry? {
        try read { store in try store.event(hash: hash) }
    }

    /// Events that name `key` or anything it is aggregated in (a pallet's events reach its items).
    public func history(of key: UInt256) throws(EPCISIndexError) -> [Entry] {
        try read { store in
            var lineage: Set<UInt256> = [key]
            var current = key
            while let parent = try store.parent(of: current), lineage.insert(parent).inserted { current = parent }
            return try store.events(withKeys: lineage)
        }
    }

    /// The distinct values of an event member among the recorded events, in first-seen order:
    /// `type`, `epc`, `biz_step`, `biz_location`, `read_point`, `disposition`.
    public func distinctValues(_ column: String) throws(EPCISIndexError) -> [String] {
        guard ["type", "epc", "biz_step", "biz_location", "read_point", "disposition"].contains(column) else { return [] }
        return try read { store in try store.distinct(column) }
    }

    /// Events recorded so far.
    public func count() throws(EPCISIndexError) -> Int { try read { store in try store.count() } }

    /// Events indexed so far, without catching up or counting rows (rows are never deleted, so
    /// the last row number is the count): what a metrics scrape reads.
    public var indexedEvents: Int { Int((try? store.lastSequence()) ?? 0) }

    /// The position after every event recorded so far, as a `nextPageToken` (`s` and the last
    /// row): where a subscription made now starts.
    public func endPosition() throws(EPCISIndexError) -> String { try read { store in "s\(try store.lastSequence())" } }

    /// Runs `body` on the store brought up to the head (reading from the provider only the
    /// blocks whose events have not arrived yet).
    func read<T>(_ body: (EPCISIndexStore) throws -> T) throws(EPCISIndexError) -> T {
        lock.lock()
        defer { lock.unlock() }
        let head = chain.latest.number
        while failure == nil && indexedThrough < head {
            let next = indexedThrough + 1
            let found: (Block, StoredReceipts)?
            do { found = try chain.executedBlock(number: next) } catch {
                throw .unreadable(block: next, reason: error.description)
            }
            guard let found else { throw .unreadable(block: next, reason: "the block is not stored") }
            advance(with: found)
        }
        if let failure { throw failure }
        do { return try body(store) } catch let error as EPCISIndexError { throw error } catch {
            throw .unreadable(block: indexedThrough, reason: "the index's database: \(error)")
        }
    }

    /// Indexes `block` if it is the next one, after any blocks before it it has not seen.
    /// Call with the lock held.
    private func advance(with block: (Block, StoredReceipts)) {
        let number = block.0.number
        guard failure == nil, number > indexedThrough else { return }
        while indexedThrough + 1 < number {
            guard let earlier = try? chain.executedBlock(number: indexedThrough + 1) else { return }
            index(earlier.block, earlier.receipts)
            guard failure == nil else { return }
        }
        index(block.0, block.1)
    }

    private func fail(_ error: EPCISIndexError) {
        failure = error
        try? store.recordFailure(error)
    }

    private func index(_ block: Block, _ stored: StoredReceipts) {
        var entries: [Entry] = [], parents: [(child: UInt256, parent: UInt256?)] = []
        for (i, tx) in block.transactions.enumerated()
        where tx.to == ProvenanceRegistry.address && stored.receipts[i].success && tx.data.count >= 4 {
            guard tx.data.prefix(4).reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == Self.capture else { continue }
            var arguments = ABIDecoder(calldata: tx.data)
            guard let org = try? arguments.nextUInt64(), let document = try? arguments.nextBytes(),
                  let parsed = try? EPCISDocument(bytes: document) else {
                return fail(.mismatch(block: block.number, transaction: tx.hash, detail: "a successful capture whose document does not parse"))
            }
            let recorded = stored.receipts[i].logs.filter {
                $0.address == ProvenanceRegistry.address && $0.topics.first == ProvenanceRegistry.Event.recorded
            }
            guard recorded.count == parsed.events.count, recorded.allSatisfy({ $0.topics.count == 4 }) else {
                return fail(.mismatch(block: block.number, transaction: tx.hash,
                                      detail: "\(parsed.events.count) events in the document, \(recorded.count) EPCISEventRecorded logs"))
            }
            let recordTime = EPCISTimestamp(secondsSinceEpoch: Int64(block.header.timestamp))
            let links = CanonicalDigitalLink.Memo()  // identifiers the document's events share, normalised once
            for (captured, log) in zip(parsed.events, recorded) {
                let event = captured.recorded(at: recordTime)
                var data = ABIDecoder(log.data[...])
                let device = (try? data.nextAddress()) ?? .zero
                entries.append(Entry(event: event, hash: log.topics[1], organization: org, recorder: Address(word: UInt256(log.topics[3])),
                                     device: device, blockNumber: block.header.number, blockHash: block.hash,
                                     transactionHash: tx.hash, transactionIndex: i, keys: ProvenanceRegistry.keys(of: event, links: links)))
                if case .aggregation = event.type, let parentID = event.parentID, let parent = ProvenanceRegistry.key(ofEPC: parentID, links: links) {
                    for child in event.childEPCs.compactMap({ ProvenanceRegistry.key(ofEPC: $0, links: links) }) {
                        if event.action == .add {
                            parents.append((child, parent))
                        } else if event.action == .delete, (currentParent(of: child, pending: parents)) == parent {
                            parents.append((child, nil))
                        }
                    }
                }
            }
        }
        do {
            try store.append(entries, parents: parents, through: block.number)
            indexedThrough = block.number
        } catch {
            // The database refused the write: retried from this block on the next query.
            return
        }
    }

    /// A child's parent as the block being indexed leaves it (its earlier changes first).
    private func currentParent(of child: UInt256, pending: [(child: UInt256, parent: UInt256?)]) -> UInt256? {
        if let change = pending.last(where: { $0.child == child }) { return change.parent }
        return (try? store.parent(of: child)) ?? nil
    }
}

/// Why the EPCIS index cannot answer.
public enum EPCISIndexError: Error, CustomStringConvertible, Equatable {
    /// A capture on chain and the index disagree; the index stopped at that block.
    case mismatch(block: UInt64, transaction: Bytes32, detail: String)
    /// A block could not be read from the chain (or the index's database failed).
    case unreadable(block: UInt64, reason: String)

    public var description: String {
        switch self {
        case .mismatch(let block, let tx, let detail):
            return "the EPCIS index stopped at block \(block): transaction \(tx) was recorded on chain but does not index (\(detail)); report this, the node's index and the provenance contract disagree"
        case .unreadable(let block, let reason):
            return "the EPCIS index cannot read block \(block): \(reason)"
        }
    }
}
