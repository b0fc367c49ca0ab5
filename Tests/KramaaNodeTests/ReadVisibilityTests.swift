import Foundation
import KramaaChain
@testable import KramaaNode
import KramaaPrimitives
import Testing

/// A block is written to the database before it becomes ``Node/latest``. In that moment no
/// read may show any of it: a client that found its transaction's receipt would ask for the
/// state at `latest` next and get the state before the transaction (a gas estimate on it fails
/// or comes out too low).
@Suite struct ReadVisibilityTests {
    /// Emits an empty LOG0 when called (PUSH0 PUSH0 LOG0 STOP).
    static let logger = "0x000000000000000000000000000000000000106e"

    static func freshNode() throws -> Node {
        let dir = NodeTests.freshDirectory()
        let genesis = Data("""
            {"config":{"chainId":77,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x1c9c380",
             "alloc":{"\(NodeTests.key.publicKey.address)":{"balance":"0x3635c9adc5dea00000"},
                      "\(logger)":{"code":"0x5f5fa000"}}}
            """.utf8)
        try Node.initialize(dataDirectory: dir, genesisDocument: genesis)
        return try Node(dataDirectory: dir)
    }

    /// What the chain reads show of block `number` (holding transaction `transaction`).
    struct Sight: Equatable {
        var latest: UInt64
        var location: UInt64?
        var byHash: UInt64?
        var block: Bool
        var receipts: Bool
        var logs: Int
        var hashes: Int
        var certificate: Bool

        init(_ node: Node, block: Block) throws {
            latest = node.latest.number
            location = try node.transactionLocation(block.transactions[0].hash)?.number
            byHash = try node.number(ofHash: block.hash)
            self.block = try node.block(number: block.number) != nil
            receipts = try node.receipts(number: block.number) != nil
            logs = try node.logs(LogFilter(fromBlock: 0, toBlock: .max), limit: 100).count
            hashes = try node.blockHashes(0..<block.number + 1).count
            certificate = try node.certificate(number: block.number) != nil
        }
    }

    final class Seen: @unchecked Sendable {
        let lock = NSLock()
        var sights: [Result<Sight, Error>] = []
        func record(_ sight: () throws -> Sight) { lock.withLock { sights.append(Result(catching: sight)) } }
        var all: [Sight] { get throws { try lock.withLock { try sights.map { try $0.get() } } } }
    }

    @Test(arguments: [false, true])
    func aWrittenBlockIsNotReadBeforeItIsTheLatest(writtenBehind: Bool) throws {
        let node = try Self.freshNode()
        let seen = Seen()
        node.afterWrite = { [unowned node] executed in seen.record { try Sight(node, block: executed.block) } }
        var blocks: [Block] = []
        for nonce in 0..<3 as Range<UInt64> {
            _ = try node.accept(raw: NodeTests().tx(nonce, to: Self.logger, gas: 30_000))
            if writtenBehind {
                let block = try #require(node.propose(timestamp: 10 + nonce, coinbase: .zero, allowEmpty: false))
                try node.commit(block, certificate: [0xc0], waitForStorage: false)
                blocks.append(block)
            } else {
                blocks.append(try #require(try node.produceBlock(timestamp: 10 + nonce, allowEmpty: false)).block)
            }
        }
        try node.waitUntilStored()

        // Written, not yet the latest: nothing of it shows; the blocks before it all do.
        #expect(try seen.all == blocks.map { Sight.hidden(below: $0.number) })
        // Once the latest, everything shows.
        for block in blocks {
            let sight = try Sight(node, block: block)
            #expect(sight.location == block.number && sight.byHash == block.number)
            #expect(sight.block && sight.receipts && sight.certificate == writtenBehind)
            #expect(sight.hashes == Int(block.number) + 1)
        }
        #expect(try node.logs(LogFilter(fromBlock: 0, toBlock: .max), limit: 100).count == blocks.count)
        #expect(node.latest == blocks.last?.header)
    }
}

extension ReadVisibilityTests.Sight {
    /// How block `number` is seen while the one before it is the latest.
    static func hidden(below number: UInt64) -> Self {
        Self(latest: number - 1, location: nil, byHash: nil, block: false, receipts: false,
             logs: Int(number - 1), hashes: Int(number), certificate: false)
    }

    init(latest: UInt64, location: UInt64?, byHash: UInt64?, block: Bool, receipts: Bool, logs: Int, hashes: Int, certificate: Bool) {
        self.latest = latest
        self.location = location
        self.byHash = byHash
        self.block = block
        self.receipts = receipts
        self.logs = logs
        self.hashes = hashes
        self.certificate = certificate
    }
}
