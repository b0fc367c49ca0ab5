import Foundation
import KramaaChain
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The EPCIS index over a chain held in memory (`InMemoryChain` behind `ChainProvider`).
@Suite struct EPCISIndexTests {
    static let pallet = "urn:epc:id:sscc:0614141.1234567890"
    static let item = "urn:epc:id:sgtin:0614141.107346.2018"

    static func document(_ events: [String]) -> [UInt8] {
        Array("""
        {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
         "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [\(events.joined(separator: ","))]}}
        """.utf8)
    }

    static func observe(_ epc: String, minute: Int) -> String {
        """
        {"type": "ObjectEvent", "eventTime": "2026-11-25T09:\(String(format: "%02d", minute)):00.000Z", "eventTimeZoneOffset": "+01:00",
         "epcList": ["\(epc)"], "action": "OBSERVE", "bizStep": "inspecting"}
        """
    }

    static func pack(_ parent: String, _ child: String) -> String {
        """
        {"type": "AggregationEvent", "eventTime": "2026-11-25T09:30:00.000Z", "eventTimeZoneOffset": "+01:00",
         "parentID": "\(parent)", "childEPCs": ["\(child)"], "action": "ADD", "bizStep": "packing"}
        """
    }

    /// A chain with organisation 1 (key 0 its admin), and the block that registered it.
    static func chainAndFirstBlock() -> (ContractChain, ExecutedBlock) {
        let chain = ContractChain(contracts: .platform)
        let block = chain.mine([(0, OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string("Acme")]))])
        #expect(block.receipts[0].success)
        return (chain, block)
    }

    static func chain() -> ContractChain { chainAndFirstBlock().0 }

    static func capture(_ chain: ContractChain, _ events: [String]) -> ExecutedBlock {
        let block = chain.mine([(0, ProvenanceRegistry.address, ProvenanceRegistry.Method.capture.callData([.uint(UInt256(1)), .bytes(document(events))]))])
        #expect(block.receipts[0].success)
        return block
    }

    /// Waits (without querying the index) until new-block events have brought it to `height`.
    static func indexed(_ index: EPCISIndex, through height: UInt64) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while index.indexedHeight < height && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        return index.indexedHeight >= height
    }

    @Test func newBlocksFeedTheIndexWithoutAQuery() throws {
        let chain = Self.chain()
        let index = EPCISIndex(chain: chain.provider)
        Self.capture(chain, [Self.observe(Self.item, minute: 1), Self.observe(Self.item, minute: 2)])
        #expect(Self.indexed(index, through: chain.head.number), "the block event indexed the capture")
        let entries = try index.all()
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { $0.blockNumber == chain.head.number && $0.organization == 1 && $0.recorder == chain.addresses[0] })
        let first = try #require(entries.first)
        #expect(first.hash == EPCISEventHash.digest(of: try EPCISDocument(bytes: Self.document([Self.observe(Self.item, minute: 1)])).events[0]))
    }

    @Test func anIndexStartedLateCatchesUpFromTheProvider() throws {
        let chain = Self.chain()
        Self.capture(chain, [Self.observe(Self.item, minute: 1)])
        chain.mine()
        Self.capture(chain, [Self.observe(Self.item, minute: 3)])
        let index = EPCISIndex(chain: chain.provider)
        #expect(index.indexedHeight == 0)
        #expect(try index.all().map(\.blockNumber) == [2, 4])
        #expect(index.indexedHeight == chain.head.number)
    }

    @Test func historyFollowsAggregationToTheItemsInAPallet() throws {
        let chain = Self.chain()
        let index = EPCISIndex(chain: chain.provider)
        Self.capture(chain, [Self.pack(Self.pallet, Self.item)])
        Self.capture(chain, [Self.observe(Self.pallet, minute: 40)])
        Self.capture(chain, [Self.observe("urn:epc:id:sscc:0614141.9999999999", minute: 41)])
        let item = try #require(ProvenanceRegistry.key(ofEPC: Self.item))
        let history = try index.history(of: item)
        #expect(history.map(\.event.type.name) == ["AggregationEvent", "ObjectEvent"])
        #expect(history.last?.event.epcList == [Self.pallet])
    }

    @Test func aCaptureWhoseLogsDoNotPairWithItsEventsStopsTheIndexLoudly() throws {
        let (source, first) = Self.chainAndFirstBlock()
        var executed = Self.capture(source, [Self.observe(Self.item, minute: 1), Self.observe(Self.item, minute: 2)])
        // The same blocks on a second chain, the capture's receipt missing one EPCISEventRecorded log.
        let genesis = try #require(source.provider.block(number: 0))
        let copy = InMemoryChain(chainId: ContractChain.chainId, genesis: genesis, state: source.state.snapshot())
        copy.append(first, state: source.state.snapshot())
        let index = EPCISIndex(chain: copy)
        var receipt = executed.receipts[0]
        let recorded = try #require(receipt.logs.firstIndex { $0.topics.first == ProvenanceRegistry.Event.recorded })
        receipt.logs.remove(at: recorded)
        executed.receipts[0] = receipt
        copy.append(executed, state: source.state.snapshot())
        #expect(throws: EPCISIndexError.mismatch(block: 2, transaction: executed.block.transactions[0].hash,
                                                detail: "2 events in the document, 1 EPCISEventRecorded logs")) {
            try index.all()
        }
        let item = try #require(ProvenanceRegistry.key(ofEPC: Self.item))
        #expect(throws: EPCISIndexError.self) { try index.history(of: item) }
        #expect(index.indexedHeight == 1, "the index stopped before the block it cannot index")
    }
}
