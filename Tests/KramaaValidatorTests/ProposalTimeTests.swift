import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives
import Logging
import Testing

@testable import KramaaValidator

/// A validator refuses a proposal whose time runs ahead of its clock: the chain's time is what
/// heartbeat liveness, expiries and spending periods read, so a proposer must not move it on.
@Suite struct ProposalTimeTests {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7])

    static func node() throws -> Node {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-validator-\(UUID().uuidString)")
        let genesis = """
            {"config":{"chainId":78,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x1c9c380",
             "alloc":{"\(key.publicKey.address)":{"balance":"0x3635c9adc5dea00000"}}}
            """
        try Node.initialize(dataDirectory: dir, genesisDocument: Data(genesis.utf8))
        return try Node(dataDirectory: dir)
    }

    func verdict(_ application: NodeApplication, _ block: Block) -> Bool {
        var valid: Bool?
        application.validateBlock(height: block.header.number, hash: block.hash, block: block.encoded) { valid = $0 }
        return valid!
    }

    @Test func aProposalMoreThanFifteenSecondsAheadIsRefusedAndOneWithinIsAccepted() throws {
        let clock = ManualTime(unixSeconds: 1_800_000_000)
        let proposer = try Self.node(), validator = try Self.node()
        let application = NodeApplication(node: validator, coinbase: .zero, clock: clock, logger: Logger(label: "test"))
        let ahead = try #require(proposer.propose(timestamp: clock.unixSeconds + 16, coinbase: .zero, allowEmpty: true))
        #expect(!verdict(application, ahead))
        let within = try #require(proposer.propose(timestamp: clock.unixSeconds + 15, coinbase: .zero, allowEmpty: true))
        #expect(verdict(application, within))
        #expect(validator.latest.number == 0, "validating commits nothing")
    }
}
