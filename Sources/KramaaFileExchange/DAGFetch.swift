import KramaaPrimitives

/// How a fetch reads the content addressing it does not own: whether a block matches its CID,
/// the links of a block, and what the local store already holds. The file layer supplies it
/// (CIDs, dag-pb and raw leaves); the fetch only moves bytes.
public protocol DAGCodec {
    /// Whether `data` is the block `cid` names (its multihash over the bytes).
    func matches(_ cid: [UInt8], _ data: [UInt8]) -> Bool
    /// The CIDs `data` links to (none for a raw block); nil if the block cannot be decoded.
    func links(of cid: [UInt8], _ data: [UInt8]) -> [[UInt8]]?
}

/// A local block store as a fetch sees it.
public protocol DAGStoreView {
    /// The block, if held.
    func block(_ cid: [UInt8]) -> [UInt8]?
}

/// Fetches a whole DAG from peers, as a pure state machine (events in, actions out; time is
/// passed in): asks providers for the blocks it lacks, at most `window` at once and
/// `perPeerWindow` from one peer; checks every block against its CID before it is stored
/// (a peer that sends one that does not match is dropped from this fetch and reported);
/// follows links, walking through blocks already held (a fetch resumes where an earlier one
/// stopped); asks another provider when one says it does not have a block or does not answer
/// within `timeout`. It fails when no provider is left for a block.
public struct DAGFetch {
    public enum Action: Equatable {
        /// Send `message` to `peer`.
        case send(Address, ExchangeMessage)
        /// A verified block to store (before anything that depends on it is asked for).
        case store(ExchangeBlock)
        /// `peer` sent a block that does not match its CID, or that could not be decoded.
        case penalize(Address, String)
        /// Every block of the DAG is held.
        case completed
        /// The fetch cannot finish with the providers it has.
        case failed(String)
    }

    public let root: [UInt8]
    public private(set) var providers: [Address]
    public let window: Int
    public let perPeerWindow: Int
    public let timeout: Duration
    /// Blocks stored by this fetch, and their bytes.
    public private(set) var fetchedBlocks = 0
    public private(set) var fetchedBytes = 0
    public private(set) var finished = false

    private var queue: [[UInt8]] = []
    private var queueHead = 0
    private var inFlight: [[UInt8]: (peer: Address, since: Duration)] = [:]
    private var perPeer: [Address: Int] = [:]
    /// Providers that said they do not have a block, or did not answer for it in time.
    private var refused: [[UInt8]: Set<Address>] = [:]
    private var dropped: Set<Address> = []
    private var seen: Set<[UInt8]> = []
    private var nextProvider = 0

    public init(root: [UInt8], providers: [Address], window: Int = 64, perPeerWindow: Int = 32, timeout: Duration = .seconds(10)) {
        self.root = root
        self.providers = providers
        self.window = max(1, window)
        self.perPeerWindow = max(1, perPeerWindow)
        self.timeout = timeout
    }

    /// Starts: walks what the store holds from the root, asks for the rest.
    public mutating func start(now: Duration, codec: some DAGCodec, store: some DAGStoreView) -> [Action] {
        var actions: [Action] = []
        enqueue(root, codec: codec, store: store, actions: &actions)
        return actions + request(now: now)
    }

    /// A blocks message from `peer`.
    public mutating func received(_ blocks: [ExchangeBlock], from peer: Address, now: Duration,
                                  codec: some DAGCodec, store: some DAGStoreView) -> [Action] {
        guard !finished else { return [] }
        var actions: [Action] = []
        for block in blocks {
            guard let asked = inFlight[block.cid], asked.peer == peer else { continue }  // unasked, or asked elsewhere since
            release(block.cid, from: peer)
            guard codec.matches(block.cid, block.data), let children = codec.links(of: block.cid, block.data) else {
                drop(peer, because: "sent a block that does not match its CID", actions: &actions)
                queue.append(block.cid)
                continue
            }
            actions.append(.store(block))
            fetchedBlocks += 1
            fetchedBytes += block.data.count
            for child in children { enqueue(child, codec: codec, store: store, actions: &actions) }
        }
        return actions + request(now: now)
    }

    /// A don't-have message from `peer`.
    public mutating func notHeld(_ cids: [[UInt8]], by peer: Address, now: Duration) -> [Action] {
        guard !finished else { return [] }
        for cid in cids {
            guard let asked = inFlight[cid], asked.peer == peer else { continue }
            release(cid, from: peer)
            refused[cid, default: []].insert(peer)
            queue.append(cid)
        }
        return request(now: now)
    }

    /// Time passed: wants unanswered for `timeout` go to another provider.
    public mutating func tick(now: Duration) -> [Action] {
        guard !finished else { return [] }
        let late = inFlight.filter { now - $0.value.since >= timeout }
        for (cid, asked) in late {
            release(cid, from: asked.peer)
            refused[cid, default: []].insert(asked.peer)
            queue.append(cid)
        }
        return request(now: now)
    }

    /// `peer` is gone; what was asked of it is asked elsewhere.
    public mutating func peerGone(_ peer: Address, now: Duration) -> [Action] {
        guard !finished else { return [] }
        providers.removeAll { $0 == peer }
        for (cid, asked) in inFlight where asked.peer == peer {
            release(cid, from: peer)
            queue.append(cid)
        }
        return request(now: now)
    }

    /// More providers (a holder learnt from the registry, a peer that connected).
    public mutating func add(providers more: [Address], now: Duration) -> [Action] {
        for p in more where !providers.contains(p) && !dropped.contains(p) { providers.append(p) }
        refused.removeAll()  // a new provider may hold what the others did not
        return finished ? [] : request(now: now)
    }

    // MARK: -

    private mutating func enqueue(_ cid: [UInt8], codec: some DAGCodec, store: some DAGStoreView, actions: inout [Action]) {
        // Depth-first through what the store holds; what it lacks is asked for.
        var stack = [cid]
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            if let held = store.block(next), let children = codec.links(of: next, held) {
                stack.append(contentsOf: children.reversed())
            } else {
                queue.append(next)
            }
        }
    }

    private mutating func release(_ cid: [UInt8], from peer: Address) {
        inFlight[cid] = nil
        perPeer[peer, default: 1] -= 1
    }

    private mutating func drop(_ peer: Address, because reason: String, actions: inout [Action]) {
        guard dropped.insert(peer).inserted else { return }
        providers.removeAll { $0 == peer }
        actions.append(.penalize(peer, reason))
        for (cid, asked) in inFlight where asked.peer == peer {
            release(cid, from: peer)
            queue.append(cid)
        }
    }

    /// Sends wants for queued blocks within the windows, grouped per peer.
    private mutating func request(now: Duration) -> [Action] {
        var wants: [Address: [[UInt8]]] = [:]
        var order: [Address] = []
        var deferred: [[UInt8]] = []
        var failure: String?
        while queueHead < queue.count, inFlight.count < window {
            let cid = queue[queueHead]
            queueHead += 1
            guard inFlight[cid] == nil else { continue }
            let excluded = refused[cid] ?? []
            let candidates = providers.filter { !excluded.contains($0) }
            if candidates.isEmpty {
                failure = "no provider has block \(Hex.encode(cid)) of \(Hex.encode(root)) (asked: \(excluded.count), providers left: \(providers.count))"
                break
            }
            guard let peer = pick(from: candidates) else {
                deferred.append(cid)  // every candidate is at its window: when answers come
                break
            }
            inFlight[cid] = (peer, now)
            perPeer[peer, default: 0] += 1
            if wants[peer] == nil { order.append(peer) }
            wants[peer, default: []].append(cid)
        }
        compactQueue(putting: deferred)
        var actions: [Action] = []
        for peer in order {
            let cids = wants[peer]!
            for start in stride(from: 0, to: cids.count, by: ExchangeMessage.maximumWants) {
                actions.append(.send(peer, .want(Array(cids[start..<min(cids.count, start + ExchangeMessage.maximumWants)]))))
            }
        }
        if let failure {
            finished = true
            actions.append(.failed(failure))
        } else if inFlight.isEmpty && queueHead >= queue.count {
            finished = true
            actions.append(.completed)
        }
        return actions
    }

    /// Round-robin over the candidates with room in their window.
    private mutating func pick(from candidates: [Address]) -> Address? {
        for offset in 0..<candidates.count {
            let peer = candidates[(nextProvider + offset) % candidates.count]
            if perPeer[peer, default: 0] < perPeerWindow {
                nextProvider = (nextProvider + offset + 1) % max(1, candidates.count)
                return peer
            }
        }
        return nil
    }

    private mutating func compactQueue(putting deferred: [[UInt8]]) {
        if queueHead > 0 {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        queue.insert(contentsOf: deferred, at: 0)
    }
}
