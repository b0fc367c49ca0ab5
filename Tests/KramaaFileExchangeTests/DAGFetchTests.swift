import KramaaFileExchange
import KramaaNetwork
import KramaaPrimitives
import Testing

/// A toy content addressing for the exchange: a block is `[link count] ‖ 32-byte CIDs ‖ payload`
/// and its CID is the SHA-256 of its bytes (the file layer plugs in real CIDs and dag-pb).
struct ToyCodec: DAGCodec {
    static func block(links: [[UInt8]], payload: [UInt8]) -> ExchangeBlock {
        let data = [UInt8(links.count)] + links.flatMap { $0 } + payload
        return ExchangeBlock(cid: SHA256Digest.hash(data).bytes, data: data)
    }

    func matches(_ cid: [UInt8], _ data: [UInt8]) -> Bool { SHA256Digest.hash(data).bytes == cid }

    func links(of cid: [UInt8], _ data: [UInt8]) -> [[UInt8]]? {
        guard let n = data.first, data.count >= 1 + Int(n) * 32 else { return nil }
        return (0..<Int(n)).map { Array(data[1 + $0 * 32 ..< 1 + ($0 + 1) * 32]) }
    }
}

final class ToyStore: DAGStoreView {
    var blocks: [[UInt8]: [UInt8]] = [:]
    init(_ blocks: [ExchangeBlock] = []) { for b in blocks { self.blocks[b.cid] = b.data } }
    func block(_ cid: [UInt8]) -> [UInt8]? { blocks[cid] }
}

/// A balanced tree of `leaves` leaves under parents of `fanout` links: (root, every block).
func toyDAG(leaves: Int, fanout: Int = 8, leafSize: Int = 100) -> (root: [UInt8], blocks: [ExchangeBlock]) {
    var all: [ExchangeBlock] = []
    var level = (0..<leaves).map { i in ToyCodec.block(links: [], payload: [UInt8(i & 0xff), UInt8(i >> 8)] + (0..<leafSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }) }
    all += level
    while level.count > 1 {
        level = stride(from: 0, to: level.count, by: fanout).map { start in
            ToyCodec.block(links: level[start..<min(level.count, start + fanout)].map(\.cid), payload: [])
        }
        all += level
    }
    return (level[0].cid, all)
}

/// Peers answering wants from their stores; `lying` peers corrupt every block, `silent` ones never answer.
struct ToyNetwork {
    var stores: [Address: ToyStore]
    var lying: Set<Address> = []
    var silent: Set<Address> = []
    var wantsSent = 0
    var maximumInFlight = 0

    /// Runs the fetch's actions until none are left; the local store keeps what it is told to.
    mutating func run(_ fetch: inout DAGFetch, _ actions: [DAGFetch.Action], local: ToyStore, now: Duration) -> [DAGFetch.Action] {
        var pending = actions, outcome: [DAGFetch.Action] = [], inFlight = 0
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .send(let peer, .want(let cids)):
                wantsSent += cids.count
                inFlight += cids.count
                maximumInFlight = max(maximumInFlight, inFlight)
                guard !silent.contains(peer) else { continue }
                for answer in BlockServing.answer(cids, store: stores[peer]!) {
                    switch answer {
                    case .blocks(var blocks):
                        inFlight -= blocks.count
                        if lying.contains(peer) { for i in blocks.indices { blocks[i].data[blocks[i].data.count - 1] ^= 0xff } }
                        pending += fetch.received(blocks, from: peer, now: now, codec: ToyCodec(), store: local)
                    case .dontHave(let missing):
                        inFlight -= missing.count
                        pending += fetch.notHeld(missing, by: peer, now: now)
                    case .want: break
                    }
                }
            case .store(let block):
                local.blocks[block.cid] = block.data
            default:
                outcome.append(action)
            }
        }
        return outcome
    }
}

func peer(_ n: UInt8) -> Address { try! Address([UInt8](repeating: 0, count: 19) + [n]) }

@Suite struct DAGFetchTests {
    let a = peer(0xa), b = peer(0xb), c = peer(0xc)

    @Test func aWholeDAGIsFetchedFromSeveralProvidersWithinTheWindow() {
        let dag = toyDAG(leaves: 300)
        var network = ToyNetwork(stores: [a: ToyStore(dag.blocks), b: ToyStore(dag.blocks), c: ToyStore(dag.blocks)])
        let local = ToyStore()
        var fetch = DAGFetch(root: dag.root, providers: [a, b, c], window: 16, perPeerWindow: 8)
        let outcome = network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero)
        #expect(outcome == [.completed])
        #expect(local.blocks.count == dag.blocks.count)
        #expect(fetch.fetchedBlocks == dag.blocks.count && network.wantsSent == dag.blocks.count)
        #expect(network.maximumInFlight <= 16)
    }

    @Test func aBlockThatDoesNotMatchItsCIDIsDroppedAndItsSenderPenalised() {
        let dag = toyDAG(leaves: 40)
        var network = ToyNetwork(stores: [a: ToyStore(dag.blocks), b: ToyStore(dag.blocks)], lying: [a])
        let local = ToyStore()
        var fetch = DAGFetch(root: dag.root, providers: [a, b])
        let outcome = network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero)
        #expect(outcome == [.penalize(a, "sent a block that does not match its CID"), .completed])
        #expect(local.blocks.count == dag.blocks.count)
        #expect(local.blocks.allSatisfy { ToyCodec().matches($0.key, $0.value) })
        #expect(!fetch.providers.contains(a))
    }

    @Test func whatOneProviderLacksIsAskedOfAnotherAndWhatNoneHasFailsTheFetch() {
        let dag = toyDAG(leaves: 20)
        let partial = ToyStore(dag.blocks)
        let missingLeaf = dag.blocks[5].cid
        partial.blocks[missingLeaf] = nil
        var network = ToyNetwork(stores: [a: partial, b: ToyStore(dag.blocks)])
        let local = ToyStore()
        var fetch = DAGFetch(root: dag.root, providers: [a, b])
        #expect(network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero) == [.completed])

        var poorer = ToyNetwork(stores: [a: partial])
        let other = ToyStore()
        var failing = DAGFetch(root: dag.root, providers: [a])
        let outcome = poorer.run(&failing, failing.start(now: .zero, codec: ToyCodec(), store: other), local: other, now: .zero)
        guard case .failed(let why)? = outcome.last else { Issue.record("expected a failure, got \(outcome)"); return }
        #expect(why.contains(Hex.encode(missingLeaf)))
        #expect(other.blocks[missingLeaf] == nil && other.blocks.count == dag.blocks.count - 1)
    }

    @Test func aSilentProviderIsPassedOverAfterTheTimeout() {
        let dag = toyDAG(leaves: 10)
        var network = ToyNetwork(stores: [a: ToyStore(dag.blocks), b: ToyStore(dag.blocks)], silent: [a])
        let local = ToyStore()
        var fetch = DAGFetch(root: dag.root, providers: [a, b], timeout: .seconds(5))
        var outcome = network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero)
        #expect(outcome.isEmpty || outcome == [.completed])
        var now = Duration.zero
        while !fetch.finished && now < .seconds(60) {
            now += .seconds(1)
            outcome += network.run(&fetch, fetch.tick(now: now), local: local, now: now)
        }
        #expect(outcome.last == .completed)
        #expect(local.blocks.count == dag.blocks.count)
        #expect(now <= .seconds(20))
    }

    @Test func aFetchResumesWithOnlyTheBlocksTheStoreLacks() {
        let dag = toyDAG(leaves: 64)
        let local = ToyStore(Array(dag.blocks.prefix(50)))  // 50 leaves already here
        var network = ToyNetwork(stores: [a: ToyStore(dag.blocks)])
        var fetch = DAGFetch(root: dag.root, providers: [a])
        #expect(network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero) == [.completed])
        #expect(network.wantsSent == dag.blocks.count - 50)
        #expect(local.blocks.count == dag.blocks.count)
    }

    @Test func aProviderThatGoesAwayHasItsWantsAskedElsewhere() {
        let dag = toyDAG(leaves: 30)
        var network = ToyNetwork(stores: [a: ToyStore(dag.blocks), b: ToyStore(dag.blocks)], silent: [a])
        let local = ToyStore()
        var fetch = DAGFetch(root: dag.root, providers: [a, b], timeout: .seconds(3600))
        _ = network.run(&fetch, fetch.start(now: .zero, codec: ToyCodec(), store: local), local: local, now: .zero)
        network.silent = []
        #expect(network.run(&fetch, fetch.peerGone(a, now: .seconds(1)), local: local, now: .seconds(1)).last == .completed)
        #expect(local.blocks.count == dag.blocks.count)
    }
}

@Suite struct ExchangeMessageTests {
    @Test func everyMessageRoundTripsThroughItsFrame() throws {
        let block = ExchangeBlock(cid: [0x01, 0x55, 0x12, 0x20] + [UInt8](repeating: 7, count: 32), data: Array(0..<200).map(UInt8.init))
        for message in [ExchangeMessage.want([block.cid, [1, 2]]), .blocks([block, block]), .dontHave([block.cid]), .want([])] {
            #expect(try ExchangeMessage(type: message.type, payload: message.payload) == message)
        }
    }

    @Test func malformedMessagesAreRefused() {
        #expect(throws: ExchangeError.self) { try ExchangeMessage(type: MessageType.fileWant, payload: [0xc1]) }  // list runs past the end
        #expect(throws: ExchangeError.self) { try ExchangeMessage(type: MessageType.fileBlocks, payload: ExchangeMessage.want([[1]]).payload) }
        #expect(throws: ExchangeError.self) { try ExchangeMessage(type: 0x30, payload: ExchangeMessage.want([[1]]).payload) }
        let tooMany = ExchangeMessage.want(Array(repeating: [1], count: ExchangeMessage.maximumWants + 1)).payload
        #expect(throws: ExchangeError.self) { try ExchangeMessage(type: MessageType.fileWant, payload: tooMany) }
    }

    @Test func servingBatchesBlocksBySizeAndListsWhatIsMissing() {
        let big = ExchangeBlock(cid: [1], data: [UInt8](repeating: 1, count: 3 * 1024 * 1024))
        let other = ExchangeBlock(cid: [2], data: [UInt8](repeating: 2, count: 2 * 1024 * 1024))
        let store = ToyStore([big, other])
        let answer = BlockServing.answer([[1], [2], [3]], store: store)
        #expect(answer == [.blocks([big]), .blocks([other]), .dontHave([[3]])])
        #expect(BlockServing.answer([[1]], store: store, allowed: { _ in false }) == [.dontHave([[1]])])
        // One want answers at most 32 MiB of blocks; the rest stays unanswered (not "don't have").
        let many = (0..<20).map { i in ExchangeBlock(cid: [UInt8(10 + i)], data: [UInt8](repeating: UInt8(i), count: 3 * 1024 * 1024)) }
        let answered = BlockServing.answer(many.map(\.cid) + [[3]], store: ToyStore(many)).flatMap { message -> [ExchangeBlock] in
            if case .blocks(let b) = message { return b } else { return [] }
        }
        #expect(answered.count == 10 && answered.map(\.cid) == many.prefix(10).map(\.cid))
    }
}
