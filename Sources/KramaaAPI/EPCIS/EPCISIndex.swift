import Foundation
import KramaaChain
import KramaaEPCIS
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaStorage

/// The node's index of captured EPCIS events, read from the chain: every successful
/// `captureEvents` transaction's document (its input, replicated with the chain), each event
/// with its hash, recorder and where it is on the chain. Queries and asset histories read it.
///
/// Held in memory and brought up to the head before each read (catching up block by block);
/// a node keeps every event of its chain, so memory grows with the chain's EPCIS history.
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

    let node: Node
    private let lock = NSLock()
    private var entries: [Entry] = []
    private var indexedThrough: UInt64 = 0
    /// The parent of each child key, from aggregation events in chain order.
    private var parents: [UInt256: UInt256] = [:]
    static let capture = ABI.selectorValue("captureEvents(uint256,bytes)")

    public init(node: Node) { self.node = node }

    /// Every recorded event, in chain order, after catching up with the head.
    public func all() -> [Entry] {
        catchUp()
        return lock.withLock { entries }
    }

    /// Events that name `key` or anything it is aggregated in (a pallet's events reach its items).
    public func history(of key: UInt256) -> [Entry] {
        catchUp()
        return lock.withLock {
            var lineage: Set<UInt256> = [key]
            var current = key
            while let parent = parents[current], lineage.insert(parent).inserted { current = parent }
            return entries.filter { !lineage.isDisjoint(with: $0.keys) }
        }
    }

    private func catchUp() {
        lock.lock()
        defer { lock.unlock() }
        let head = node.latest.number
        while indexedThrough < head {
            let number = indexedThrough + 1
            guard let block = try? node.store.block(number: number), let stored = try? node.store.receipts(number: number) else { return }
            index(block, stored)
            indexedThrough = number
        }
    }

    private func index(_ block: Block, _ stored: StoredReceipts) {
        for (i, tx) in block.transactions.enumerated()
        where tx.to == ProvenanceRegistry.address && stored.receipts[i].success && tx.data.count >= 4 {
            guard tx.data.prefix(4).reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == Self.capture else { continue }
            var decoder = ABIDecoder(calldata: tx.data)
            guard let org = try? decoder.nextUInt64(), let bytes = try? decoder.nextBytes(),
                  let document = try? EPCISDocument(bytes: bytes) else { continue }
            let recorded = stored.receipts[i].logs.filter {
                $0.address == ProvenanceRegistry.address && $0.topics.first == ProvenanceRegistry.Event.recorded
            }
            let recordTime = EPCISTimestamp(secondsSinceEpoch: Int64(block.header.timestamp))
            for (captured, log) in zip(document.events, recorded) where log.topics.count == 4 {
                let event = captured.recorded(at: recordTime)
                var data = ABIDecoder(log.data[...])
                let device = (try? data.nextAddress()) ?? .zero
                let entry = Entry(event: event, hash: log.topics[1], organization: org, recorder: Address(word: UInt256(log.topics[3])),
                                  device: device, blockNumber: block.header.number, blockHash: block.hash,
                                  transactionHash: tx.hash, transactionIndex: i, keys: ProvenanceRegistry.keys(of: event))
                if case .aggregation = event.type, let parentID = event.parentID, let parent = ProvenanceRegistry.key(ofEPC: parentID) {
                    for child in event.childEPCs.compactMap(ProvenanceRegistry.key(ofEPC:)) {
                        if event.action == .add { parents[child] = parent } else if event.action == .delete, parents[child] == parent {
                            parents[child] = nil
                        }
                    }
                }
                entries.append(entry)
            }
        }
    }
}
