import Foundation
import KramaaBroker
@testable import KramaaMessagingService
import KramaaNode
import KramaaPrimitives
import Logging
import Testing

@Suite struct DeliveryLogTests {
    static func node() throws -> Node {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-deliveries-\(UUID().uuidString)")
        try Node.initialize(dataDirectory: dir, genesisDocument: Data(#"{"config":{"chainId":77,"kramaa":{"blockPeriodSeconds":0}},"gasLimit":"0x1c9c380","alloc":{}}"#.utf8))
        return try Node(dataDirectory: dir)
    }

    /// One acknowledged envelope on `recipient`'s inbox, made into a batch of its own.
    static func deliver(_ log: DeliveryLog, _ payload: [UInt8], to recipient: Address) {
        log.delivered(BrokerMessage(topic: "devices/\(recipient.lowercased)/inbox", payload: payload, qos: 1), to: Principal(name: recipient.lowercased))
        log.commitPending()
    }

    @Test func proofsAreKeptForTheMostRecentDeliveriesOnlyAndSurviveAReopen() throws {
        let node = try Self.node()
        defer { node.close() }
        let recipient = try Address(hex: "0x" + String(repeating: "ab", count: 20))
        let payloads = (0..<5).map { [UInt8]("envelope \($0)".utf8) }
        do {
            let log = try DeliveryLog(node: node, key: nil, logger: Logger(label: "test"), retention: 3)
            for p in payloads { Self.deliver(log, p, to: recipient) }
            #expect(log.proofs(of: Keccak256.hash(payloads[0])).isEmpty)  // beyond the retention
            #expect(log.proofs(of: Keccak256.hash(payloads[1])).isEmpty)
            #expect(log.proofs(of: Keccak256.hash(payloads[4])).map(\.recipient) == [recipient])
            // Not a device's own inbox: no leaf.
            log.delivered(BrokerMessage(topic: "devices/\(recipient.lowercased)/inbox", payload: [9], qos: 1), to: Principal(name: "0xother"))
            log.commitPending()
            #expect(log.proofs(of: Keccak256.hash([9])).isEmpty)
        }
        let reopened = try DeliveryLog(node: node, key: nil, logger: Logger(label: "test"), retention: 3)
        #expect(reopened.proofs(of: Keccak256.hash(payloads[1])).isEmpty)
        for p in payloads[2...] {
            let proof = try #require(reopened.proofs(of: Keccak256.hash(p)).first)
            #expect(proof.committed == nil)  // no key: recorded, never committed
        }
    }
}
