import Foundation
import KramaaChain
import KramaaEPCIS
import KramaaPlatform
import KramaaPrimitives

/// The node's index of captured EPCIS events: every successful `captureEvents` transaction's
/// document (its input, replicated with the chain), each event with its hash, recorder and
/// where it is on the chain. Queries and asset histories read it.
///
/// Fed by the chain's new-block events (indexed on a queue of its own, off the thread that
/// stored the block); blocks it has not seen (those before it started, or one whose event is
/// still on its way when a query comes) are read from the provider, in order. Held in memory:
/// a node keeps every event of its chain, so memory grows with the chain's EPCIS history.
///
/// A successful capture whose recorded logs do not pair up one to one with its document's
/// events means the index and the contract disagree: the index stops there and every query
/// answers `EPCISIndexError.mismatch` rather than a history with holes.
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
    }

    let chain: any ChainProvider
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "kramaa.epcis-index")
    private var entries: [Entry] = []
    private var indexedThrough: UInt64 = 0
    private var failure: EPCISIndexError?
    /// The parent of each child key, from aggregation events in chain order.
    private var parents: [UInt256: UInt256] = [:]
    private var observer: Int?
    static let capture = ProvenanceRegistry.Method.capture.selector

    /// Starts indexing `chain`: what is stored now on the first query, new blocks as they come.
    public init(chain: any ChainProvider) {
        self.chain = chain
        observer = chain.addBlockObserver { [weak self] executed in
            guard let self else { return }
            let stored = StoredReceipts(receipts: executed.receipts, senders: executed.senders, outcomes: executed.outcomes)
            queue.async { self.lock.withLock { self.advance(with: (executed.block, stored)) } }
        }
    }

    deinit { if let observer { chain.removeBlockObserver(observer) } }

    /// Blocks indexed so far (through this number).
    public var indexedHeight: UInt64 { lock.withLock { indexedThrough } }

    /// Every recorded event, in chain order, up to the head.
    public func all() throws(EPCISIndexError) -> [Entry] {
        try read { $0.entries }
    }

    /// Events that name `key` or anything it is aggregated in (a pallet's events reach its items).
    public func history(of key: UInt256) throws(EPCISIndexError) -> [Entry] {
        try read { index in
            var lineage: Set<UInt256> = [key]
            var current = key
            while let parent = index.parents[current], lineage.insert(parent).inserted { current = parent }
            return index.entries.filter { !lineage.isDisjoint(with: $0.keys) }
        }
    }

    /// Runs `body` on the index brought up to the head (reading from the provider only the
    /// blocks whose events have not arrived yet).
    private func read<T>(_ body: (EPCISIndex) -> T) throws(EPCISIndexError) -> T {
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
        return body(self)
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

    private func index(_ block: Block, _ stored: StoredReceipts) {
        defer { if failure == nil { indexedThrough = block.number } }
        for (i, tx) in block.transactions.enumerated()
        where tx.to == ProvenanceRegistry.address && stored.receipts[i].success && tx.data.count >= 4 {
            guard tx.data.prefix(4).reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == Self.capture else { continue }
            var arguments = ABIDecoder(calldata: tx.data)
            guard let org = try? arguments.nextUInt64(), let document = try? arguments.nextBytes(),
                  let parsed = try? EPCISDocument(bytes: document) else {
                failure = .mismatch(block: block.number, transaction: tx.hash, detail: "a successful capture whose document does not parse")
                return
            }
            let recorded = stored.receipts[i].logs.filter {
                $0.address == ProvenanceRegistry.address && $0.topics.first == ProvenanceRegistry.Event.recorded
            }
            guard recorded.count == parsed.events.count, recorded.allSatisfy({ $0.topics.count == 4 }) else {
                failure = .mismatch(block: block.number, transaction: tx.hash,
                                    detail: "\(parsed.events.count) events in the document, \(recorded.count) EPCISEventRecorded logs")
                return
            }
            let recordTime = EPCISTimestamp(secondsSinceEpoch: Int64(block.header.timestamp))
            for (captured, log) in zip(parsed.events, recorded) {
                let event = captured.recorded(at: recordTime)
                var data = ABIDecoder(log.data[...])
                let device = (try? data.nextAddress()) ?? .zero
                entries.append(Entry(event: event, hash: log.topics[1], organization: org, recorder: Address(word: UInt256(log.topics[3])),
                                     device: device, blockNumber: block.header.number, blockHash: block.hash,
                                     transactionHash: tx.hash, transactionIndex: i, keys: ProvenanceRegistry.keys(of: event)))
                if case .aggregation = event.type, let parentID = event.parentID, let parent = ProvenanceRegistry.key(ofEPC: parentID) {
                    for child in event.childEPCs.compactMap(ProvenanceRegistry.key(ofEPC:)) {
                        if event.action == .add { parents[child] = parent } else if event.action == .delete, parents[child] == parent {
                            parents[child] = nil
                        }
                    }
                }
            }
        }
    }
}

/// Why the EPCIS index cannot answer.
public enum EPCISIndexError: Error, CustomStringConvertible, Equatable {
    /// A capture on chain and the index disagree; the index stopped at that block.
    case mismatch(block: UInt64, transaction: Bytes32, detail: String)
    /// A block could not be read from the chain.
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
