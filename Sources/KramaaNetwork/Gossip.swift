import KramaaPrimitives
import NIOConcurrencyHelpers

/// Flood gossip over a ``PeerNetwork``, suited to a small, fully or nearly fully connected
/// validator set: a message of a gossiped type is delivered once per node and relayed to every
/// other peer the first time the node sees it.
///
/// Messages are identified by `keccak256(type ‖ payload)`; the identities seen recently are kept
/// in a bounded LRU (``capacity``), so a message that comes back (from another peer, or later
/// than the LRU remembers) is dropped (or, once forgotten, treated as new: capacity must cover
/// the messages in flight). The relay happens before delivery, after the optional `validate`
/// check: a message that fails it is neither relayed nor delivered (nor remembered).
///
/// Install it as the network's handler; events it does not consume (other message types,
/// connections) go on to `next`, and so do gossiped messages seen for the first time:
///
/// ```swift
/// let gossip = Gossip(types: [MessageType.transaction, MessageType.vote], next: node)
/// let network = try await PeerNetwork.start(configuration: c, nodeKey: key, handler: gossip)
/// gossip.publish(type: MessageType.vote, payload: vote, on: network)
/// ```
public final class Gossip: PeerNetworkHandler, Sendable {
    /// The message types gossiped; others pass through to `next` unchanged.
    public let types: Set<UInt8>
    /// Message identities remembered.
    public let capacity: Int
    private let next: any PeerNetworkHandler
    private let validate: (@Sendable (UInt8, [UInt8]) -> Bool)?
    private let seen: NIOLockedValueBox<LRUSet>
    private let counters = NIOLockedValueBox((delivered: 0, duplicates: 0, invalid: 0))

    public init(types: Set<UInt8>, capacity: Int = 65536, next: some PeerNetworkHandler,
                validate: (@Sendable (_ type: UInt8, _ payload: [UInt8]) -> Bool)? = nil) {
        precondition(capacity > 0)
        self.types = types
        self.capacity = capacity
        self.next = next
        self.validate = validate
        self.seen = NIOLockedValueBox(LRUSet(capacity: capacity))
    }

    /// The identity of a message: keccak256(type ‖ payload).
    public static func messageHash(type: UInt8, payload: [UInt8]) -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(CollectionOfOne(type))
        hasher.update(payload)
        return hasher.finalize()
    }

    /// Sends a message of this node to all peers; false (and nothing sent) if it was seen already.
    @discardableResult
    public func publish(type: UInt8, payload: [UInt8], on network: PeerNetwork) -> Bool {
        precondition(types.contains(type), "type \(type) is not gossiped")
        guard seen.withLockedValue({ $0.insert(Self.messageHash(type: type, payload: payload)) }) else { return false }
        network.broadcast(type: type, payload: payload)
        return true
    }

    /// Whether a message was seen recently.
    public func hasSeen(type: UInt8, payload: [UInt8]) -> Bool {
        seen.withLockedValue { $0.contains(Self.messageHash(type: type, payload: payload)) }
    }

    /// Messages from peers delivered to `next`, and dropped as already seen or invalid.
    public var statistics: (delivered: Int, duplicates: Int, invalid: Int) { counters.withLockedValue { $0 } }

    public func network(_ network: PeerNetwork, didReceive event: PeerEvent) {
        guard case .message(let from, let type, let payload) = event, types.contains(type) else {
            next.network(network, didReceive: event)
            return
        }
        let hash = Self.messageHash(type: type, payload: payload)
        if seen.withLockedValue({ $0.touch(hash) }) {
            counters.withLockedValue { $0.duplicates += 1 }
            return
        }
        if let validate, !validate(type, payload) {
            counters.withLockedValue { $0.invalid += 1 }
            return
        }
        // Two peers may deliver the same new message at once: only the first insert relays it.
        guard seen.withLockedValue({ $0.insert(hash) }) else {
            counters.withLockedValue { $0.duplicates += 1 }
            return
        }
        counters.withLockedValue { $0.delivered += 1 }
        network.broadcast(type: type, payload: payload, except: from)
        next.network(network, didReceive: event)
    }
}

/// A set of hashes holding the `capacity` most recently used.
struct LRUSet {
    let capacity: Int
    /// hash → the stamp of its latest use
    private var stamps: [Bytes32: UInt64] = [:]
    /// (hash, stamp) in order of use; entries whose stamp is stale are skipped.
    private var order: [(Bytes32, UInt64)] = []
    private var head = 0
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { stamps.count }

    func contains(_ hash: Bytes32) -> Bool { stamps[hash] != nil }

    /// Marks `hash` used; returns whether it was present.
    mutating func touch(_ hash: Bytes32) -> Bool {
        guard stamps[hash] != nil else { return false }
        use(hash)
        return true
    }

    /// Adds `hash` (marking it used); returns whether it was new.
    mutating func insert(_ hash: Bytes32) -> Bool {
        let new = stamps[hash] == nil
        use(hash)
        while stamps.count > capacity { evictOldest() }
        return new
    }

    private mutating func use(_ hash: Bytes32) {
        clock += 1
        stamps[hash] = clock
        order.append((hash, clock))
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        if order.count - head > 2 * capacity + 1024 {
            // Mostly stale entries (hashes used again): keep the live ones, in order.
            order = stamps.map { ($0.key, $0.value) }.sorted { $0.1 < $1.1 }
            head = 0
        }
    }

    private mutating func evictOldest() {
        while head < order.count {
            let (hash, stamp) = order[head]
            head += 1
            if stamps[hash] == stamp {
                stamps[hash] = nil
                return
            }
        }
    }
}
