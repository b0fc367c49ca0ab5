import Foundation
import KramaaChain
import KramaaConsensus
@testable import KramaaNode
import KramaaPrimitives
import Logging
import Testing

@testable import KramaaValidator

/// A proposer lets transactions gather for `blockGather` after a commit before it builds (larger
/// blocks under load), unless a full block waits; time is the test's clock.
@Suite struct BlockGatherTests {
    static let recipient = try! Address(hex: "0x00000000000000000000000000000000000000aa")

    static func transfer(_ nonce: UInt64) -> [UInt8] {
        Transaction(type: .dynamicFee, chainId: 78, nonce: nonce, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(5_000_000_000),
                    gasLimit: 21_000, to: recipient, value: .one).signed(with: ProposalTimeTests.key).encoded
    }

    /// A node whose blocks hold `transfers` transfers, and its application gathering for 20 ms.
    static func setUp(transfers: Int = 1_000) throws -> (Node, NodeApplication, ManualTime) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-validator-\(UUID().uuidString)")
        try Node.initialize(dataDirectory: dir, genesisDocument: Data("""
            {"config":{"chainId":78,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x\(String(transfers * 21_000, radix: 16))",
             "alloc":{"\(ProposalTimeTests.key.publicKey.address)":{"balance":"0x3635c9adc5dea00000"}}}
            """.utf8))
        let node = try Node(dataDirectory: dir)
        let clock = ManualTime(unixSeconds: 1_800_000_000)
        let application = NodeApplication(node: node, coinbase: .zero, clock: clock, logger: Logger(label: "test"), gather: .milliseconds(20))
        return (node, application, clock)
    }

    /// Builds and commits the block of `height` (the first is built at once: nothing was committed).
    static func commit(_ height: UInt64, _ application: NodeApplication, _ clock: ManualTime) throws {
        var built: (bytes: [UInt8], hash: Bytes32)?
        application.buildBlock(height: height, round: 0) { built = ($0, $1) }
        if built == nil { clock.advance(by: .milliseconds(20)) }
        let block = try #require(built)
        try application.commit(height: height, block: block.bytes, hash: block.hash,
                               certificate: CommitCertificate(height: height, round: 0, blockHash: block.hash, precommits: []))
    }

    @Test func theNextBlockWaitsForTheGatherAndTakesWhatCameMeanwhile() throws {
        let (node, application, clock) = try Self.setUp()
        var first: Bytes32?
        application.buildBlock(height: 1, round: 0) { first = $1 }
        #expect(first != nil, "the first block of a run is built at once")
        try Self.commit(1, application, clock)
        _ = try node.accept(raw: Self.transfer(0))
        var built: (bytes: [UInt8], hash: Bytes32)?
        application.buildBlock(height: 2, round: 0) { built = ($0, $1) }
        #expect(built == nil, "built before the gather")
        clock.advance(by: .milliseconds(19))
        #expect(built == nil)
        _ = try node.accept(raw: Self.transfer(1))
        clock.advance(by: .milliseconds(1))
        let block = try Block.decode(try #require(built, "not built once the gather passed").bytes)
        #expect(block.number == 2 && block.transactions.count == 2, "both transfers, the one sent during the gather too")
    }

    @Test func aFullBlockWaitingIsBuiltAtOnce() throws {
        let (node, application, clock) = try Self.setUp(transfers: 10)
        try Self.commit(1, application, clock)
        for nonce in 0..<10 as Range<UInt64> { _ = try node.accept(raw: Self.transfer(nonce)) }
        #expect(node.poolFillsBlock)
        var built: (bytes: [UInt8], hash: Bytes32)?
        application.buildBlock(height: 2, round: 0) { built = ($0, $1) }
        #expect(try Block.decode(try #require(built, "a full block waited for the gather").bytes).transactions.count == 10)
    }

    @Test func aHeightCommittedDuringTheGatherGetsNoBlock() throws {
        let (node, application, clock) = try Self.setUp()
        try Self.commit(1, application, clock)
        var built: (bytes: [UInt8], hash: Bytes32)?
        application.buildBlock(height: 2, round: 0) { built = ($0, $1) }
        // Height 2 is decided meanwhile (a peer's block, through sync).
        let other = try #require(node.propose(timestamp: clock.unixSeconds, coinbase: .zero, allowEmpty: true))
        try node.commit(other, certificate: [])
        clock.advance(by: .milliseconds(20))
        #expect(built == nil, "a block for a height already committed")
        #expect(node.latest.number == 2)
    }
}
