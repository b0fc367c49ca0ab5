import Foundation
import KramaaChain
import KramaaEVM
import KramaaNetwork
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import Logging

/// The node's part in private data collections (docs/PRIVATE-DATA.md), over the collections
/// contract and the validators' peer network:
///
/// - `share` keeps an item here and sends it to the connected nodes that hold the `node` role in
///   a member organisation, returning once the collection's required number acknowledged it;
/// - an item arriving from a peer is kept only when both ends are member nodes and, once it is
///   recorded, only when its salted hash is the recorded one; a request is answered only to a
///   member node;
/// - when a `PrivateDataRecorded` log names an item this member node lacks, it asks the member
///   nodes it is connected to (and again on each tick and each new peer until it has it);
/// - a `PrivateDataPurged` log, the end of an item's retention (block time), or an item never
///   recorded within `pendingTimeout` erases it here. At start it does the same for what the
///   chain says happened while it was down.
///
/// Its state lives on one serial queue; chain reads are at the node's head.
public final class PrivateDataService: PeerService, PrivateDataHolder, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// How long `share` waits for the required acknowledgements.
        public var shareTimeout: Duration = .seconds(10)
        /// How long an item received but not recorded on chain is kept.
        public var pendingTimeout: Duration = .seconds(120)
        /// How often missing items are asked for again.
        public var retryInterval: Duration = .seconds(2)
        /// Items received from peers and not yet recorded that a node keeps at once; more are
        /// refused until some are recorded or expire (a member node cannot fill the disk).
        public var maximumPending = 10_000
        public init() {}
    }

    struct ItemID: Hashable {
        let collection: UInt64
        let key: Bytes32
    }

    /// A `share` waiting for acknowledgements.
    struct Waiter {
        var needed: Int
        var acknowledged: Set<Address> = []
        let continuation: CheckedContinuation<Void, any Error>
    }

    public let messageTypes: Set<UInt8> = [MessageType.privateItem, MessageType.privateHeld, MessageType.privateWant]
    public let configuration: Configuration
    public let nodeAccount: Address?
    let node: Node
    public let store: PrivateDataStore
    let clock: TimeSource
    let logger: Logger
    private let queue = DispatchQueue(label: "kramaa.private-data")
    private var sender: PeerSender?
    private var observer: Int?
    private var stopped = false
    /// Items received or shared, not yet recorded on chain, with when they arrived.
    private var pending: [ItemID: Duration] = [:]
    /// Recorded items this member node lacks.
    private var missing: Set<ItemID> = []
    /// Held items with a retention end (block time, seconds).
    private var expiries: [ItemID: UInt64] = [:]
    private var waiters: [ItemID: Waiter] = [:]

    public init(node: Node, account: Address?, store: PrivateDataStore, configuration: Configuration = Configuration(),
                clock: TimeSource = SystemTime.shared, logger: Logger = Logger(label: "kramaa.private-data")) {
        self.node = node
        self.nodeAccount = account
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    var collections: PrivateDataClient<NodeContractReader> { PrivateDataClient(NodeContractReader(node: node)) }

    /// Reconciles what is held with the chain, then follows new blocks and starts the timer.
    public func start() {
        queue.sync {
            reconcile()
            observer = node.addObserver { [weak self] event in
                guard case .newBlock(let executed) = event, let self else { return }
                let logs = executed.receipts.flatMap(\.logs).filter { $0.address == PrivateDataCollections.address }
                let time = executed.block.header.timestamp
                self.queue.async { self.follow(logs, blockTime: time) }
            }
        }
        schedule(after: configuration.retryInterval) { $0.tick() }
    }

    public func stop() {
        queue.sync {
            stopped = true
            if let observer { node.removeObserver(observer) }
            for (_, w) in waiters { w.continuation.resume(throwing: PrivateDataError.stopped) }
            waiters.removeAll()
        }
    }

    // MARK: PrivateDataHolder

    public func share(_ item: PrivateDataItem, requiredPeers: Int) async throws {
        guard let me = nodeAccount else { throw PrivateDataError.noNodeKey }
        guard try collections.isMemberNode(item.collection, me) else { throw PrivateDataError.notMemberNode(node: me, collection: item.collection) }
        let id = ItemID(collection: item.collection, key: item.key)
        do { try store.put(item) } catch { throw PrivateDataError.storage("\(error)") }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            queue.async {
                guard !self.stopped else { return done.resume(throwing: PrivateDataError.stopped) }
                self.pending[id] = self.clock.uptime
                let sent = self.send(.item(item), toMemberNodesOf: item.collection)
                guard requiredPeers > 0 else { return done.resume() }
                self.waiters[id] = Waiter(needed: requiredPeers, continuation: done)
                self.logger.info("private data: shared \(item.key) of collection \(item.collection) with \(sent) member node(s); \(requiredPeers) required")
                self.schedule(after: self.configuration.shareTimeout) { $0.expireWaiter(id) }
            }
        }
    }

    public func discard(collection: UInt64, key: Bytes32) {
        queue.sync { erase(ItemID(collection: collection, key: key), why: "not recorded") }
    }

    public func item(collection: UInt64, key: Bytes32) -> PrivateDataItem? {
        guard let item = store.get(collection, key) else { return nil }
        if let record = try? collections.item(collection, key) {
            guard !record.erased(at: node.latest.timestamp), record.hash == item.hash else {
                queue.async { self.erase(ItemID(collection: collection, key: key), why: "purged or expired") }
                return nil
            }
        }
        return item
    }

    // MARK: PeerService

    public func attach(_ sender: PeerSender) { queue.async { self.sender = sender } }

    public func peerConnected(_ peer: Address) {
        queue.async { for id in self.missing where self.isMemberNode(peer, id.collection) { self.sender?.send(to: peer, type: MessageType.privateWant, payload: PrivateDataMessage.want(collection: id.collection, key: id.key).payload) } }
    }

    public func peerDisconnected(_ peer: Address) {}

    public func received(type: UInt8, payload: [UInt8], from peer: Address) {
        queue.async {
            let message: PrivateDataMessage
            do { message = try PrivateDataMessage(type: type, payload: payload) } catch {
                self.logger.warning("private data: \(peer): \(error)")
                return
            }
            switch message {
            case .item(let item): self.receive(item, from: peer)
            case .held(let collection, let key): self.acknowledged(ItemID(collection: collection, key: key), by: peer)
            case .want(let collection, let key): self.serve(ItemID(collection: collection, key: key), to: peer)
            }
        }
    }

    // MARK: On the queue

    private func isMemberNode(_ account: Address, _ collection: UInt64) -> Bool {
        (try? collections.isMemberNode(collection, account)) ?? false
    }

    private var iAmMember: (UInt64) -> Bool { { [unowned self] c in nodeAccount.map { isMemberNode($0, c) } ?? false } }

    @discardableResult
    private func send(_ message: PrivateDataMessage, toMemberNodesOf collection: UInt64) -> Int {
        var sent = 0
        for peer in sender?.connectedPeerAddresses ?? [] where isMemberNode(peer, collection) {
            if sender?.send(to: peer, type: message.type, payload: message.payload) == true { sent += 1 }
        }
        return sent
    }

    private func receive(_ item: PrivateDataItem, from peer: Address) {
        let id = ItemID(collection: item.collection, key: item.key)
        guard isMemberNode(peer, item.collection), iAmMember(item.collection) else {
            logger.warning("private data: refused \(item.key) of collection \(item.collection) from \(peer): both must be member nodes")
            return
        }
        let record: PrivateItemRecord?
        do { record = try collections.item(item.collection, item.key) } catch {
            logger.warning("private data: cannot read the record of \(item.key): \(error)")
            return
        }
        if let record {
            guard record.hash == item.hash else {
                logger.warning("private data: \(peer) sent \(item.key) of collection \(item.collection) whose salted hash is not the recorded one; dropped")
                return
            }
            guard !record.erased(at: node.latest.timestamp) else { return }
            if record.expiresAt != 0 { expiries[id] = record.expiresAt }
        } else {
            guard pending[id] != nil || pending.count < configuration.maximumPending else {
                logger.warning("private data: refused \(item.key) from \(peer): \(pending.count) unrecorded items held already")
                return
            }
            pending[id] = clock.uptime
        }
        do { try store.put(item) } catch {
            logger.warning("private data: cannot store \(item.key): \(error)")
            return
        }
        missing.remove(id)
        sender?.send(to: peer, type: MessageType.privateHeld, payload: PrivateDataMessage.held(collection: item.collection, key: item.key).payload)
    }

    private func acknowledged(_ id: ItemID, by peer: Address) {
        guard var waiter = waiters[id], isMemberNode(peer, id.collection) else { return }
        waiter.acknowledged.insert(peer)
        if waiter.acknowledged.count >= waiter.needed {
            waiters[id] = nil
            waiter.continuation.resume()
        } else {
            waiters[id] = waiter
        }
    }

    private func expireWaiter(_ id: ItemID) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        erase(id, why: "too few member nodes acknowledged it")
        waiter.continuation.resume(throwing: PrivateDataError.tooFewPeers(collection: id.collection, required: waiter.needed, acknowledged: waiter.acknowledged.count))
    }

    private func serve(_ id: ItemID, to peer: Address) {
        guard isMemberNode(peer, id.collection) else {
            logger.warning("private data: \(peer) asked for \(id.key) of collection \(id.collection) and is not a member node; refused")
            return
        }
        guard let item = item(collection: id.collection, key: id.key) else { return }
        sender?.send(to: peer, type: MessageType.privateItem, payload: PrivateDataMessage.item(item).payload)
    }

    /// A new block's collection logs, and the retention ends it reaches.
    private func follow(_ logs: [Log], blockTime: UInt64) {
        for log in logs where log.topics.count >= 3 {
            guard let collection = UInt256(log.topics[1]).uint64Value else { continue }
            let id = ItemID(collection: collection, key: log.topics[2])
            switch log.topics[0] {
            case PrivateDataCollections.Event.recorded: recorded(id)
            case PrivateDataCollections.Event.purged: erase(id, why: "purged on request")
            default: break
            }
        }
        for (id, end) in expiries where blockTime >= end { erase(id, why: "its retention ended") }
    }

    private func recorded(_ id: ItemID) {
        pending[id] = nil
        guard let record = try? collections.item(id.collection, id.key) else { return }
        if record.expiresAt != 0 { expiries[id] = record.expiresAt }
        guard let held = store.get(id.collection, id.key) else {
            if iAmMember(id.collection) { ask(id) }
            return
        }
        if held.hash != record.hash { erase(id, why: "its salted hash is not the recorded one") }
    }

    private func ask(_ id: ItemID) {
        missing.insert(id)
        send(.want(collection: id.collection, key: id.key), toMemberNodesOf: id.collection)
    }

    private func erase(_ id: ItemID, why: String) {
        pending[id] = nil
        expiries[id] = nil
        missing.remove(id)
        if store.erase(id.collection, id.key) { logger.info("private data: erased \(id.key) of collection \(id.collection): \(why)") }
    }

    /// At start: erase what was purged, expired or never recorded while the node was down, and
    /// ask for what was recorded for a collection this node is a member node of and it lacks.
    private func reconcile() {
        let now = node.latest.timestamp
        for (collection, key) in store.all() {
            let id = ItemID(collection: collection, key: key)
            guard let record = try? collections.item(collection, key) else {
                erase(id, why: "not recorded before the node stopped")
                continue
            }
            if record.erased(at: now) { erase(id, why: "purged or expired while the node was down") } else if record.expiresAt != 0 { expiries[id] = record.expiresAt }
        }
        guard nodeAccount != nil else { return }
        let filter = LogFilter(fromBlock: 0, toBlock: node.latest.number, addresses: [PrivateDataCollections.address],
                               topics: [[PrivateDataCollections.Event.recorded]])
        for located in (try? node.logs(filter, limit: 1_000_000)) ?? [] where located.log.topics.count >= 3 {
            guard let collection = UInt256(located.log.topics[1]).uint64Value else { continue }
            let id = ItemID(collection: collection, key: located.log.topics[2])
            guard store.get(collection, id.key) == nil, iAmMember(collection),
                  let record = try? collections.item(collection, id.key), !record.erased(at: now) else { continue }
            missing.insert(id)
        }
    }

    private func tick() {
        let now = clock.uptime
        for (id, since) in pending where now - since >= configuration.pendingTimeout && waiters[id] == nil { erase(id, why: "never recorded on chain") }
        let blockTime = node.latest.timestamp
        for (id, end) in expiries where blockTime >= end { erase(id, why: "its retention ended") }
        for id in missing { send(.want(collection: id.collection, key: id.key), toMemberNodesOf: id.collection) }
        schedule(after: configuration.retryInterval) { $0.tick() }
    }

    private func schedule(after delay: Duration, _ work: @escaping @Sendable (PrivateDataService) -> Void) {
        clock.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.queue.async { if !self.stopped { work(self) } }
        }
    }
}
