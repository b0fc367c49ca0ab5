import Foundation
import KramaaChain
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The index on disk and its queries: it resumes where it stopped, keeps a failure across
/// restarts, and its narrowed, paged answers are exactly what the full matcher gives on every
/// event (a differential test over many queries), page after page.
@Suite struct EPCISIndexQueryTests {
    typealias T = EPCISIndexTests
    static let epcs = (0..<6).map { "urn:epc:id:sgtin:0614141.107346.\($0)" }
    static let locations = ["urn:epc:id:sgln:0614141.00001.0", "urn:epc:id:sgln:0614141.00002.0"]

    static func event(_ i: Int) -> String {
        let step = ["shipping", "receiving", "inspecting"][i % 3]
        return """
        {"type": "ObjectEvent", "eventTime": "2026-11-25T\(String(format: "%02d", 8 + i / 60)):\(String(format: "%02d", i % 60)):00.000Z",
         "eventTimeZoneOffset": "+00:00", "epcList": ["\(epcs[i % epcs.count])", "\(epcs[(i * 7 + 1) % epcs.count])"], "action": "OBSERVE",
         "bizStep": "\(step)", "bizLocation": {"id": "\(locations[i % 2])"}, "readPoint": {"id": "\(locations[(i / 2) % 2])"}}
        """
    }

    /// A chain with 90 events in 9 captures (minute i of the morning, rotating EPCs, steps and places).
    static func populated() -> ContractChain {
        let chain = T.chain()
        for block in 0..<9 { _ = T.capture(chain, (0..<10).map { event(block * 10 + $0) }) }
        return chain
    }

    static func temporaryPath() -> String { NSTemporaryDirectory() + "epcis-index-\(UUID().uuidString).sqlite" }

    /// Every page of `query`, following the tokens.
    static func allPages(_ index: EPCISIndex, _ items: [(String, String?)]) throws -> (events: [EPCISEvent], pages: Int) {
        var events: [EPCISEvent] = [], token: String?, pages = 0
        repeat {
            var query = try EPCISQuery(queryItems: items)
            query.nextPageToken = token
            let page = try index.query(query)
            events += page.events
            token = page.nextPageToken
            pages += 1
        } while token != nil && pages < 1000
        return (events, pages)
    }

    @Test func narrowedPagedAnswersAreWhatTheFullMatcherGives() throws {
        let chain = Self.populated()
        let index = try EPCISIndex(chain: chain.provider, path: Self.temporaryPath())
        let all = try index.all().map(\.event)
        #expect(all.count == 90)
        let queries: [[(String, String?)]] = [
            [], [("perPage", "7")], [("MATCH_epc", Self.epcs[2])], [("MATCH_epc", Self.epcs[2]), ("perPage", "4")],
            [("MATCH_anyEPC", "urn:epc:idpat:sgtin:0614141.107346.*")], [("EQ_bizLocation", Self.locations[1]), ("GE_eventTime", "2026-11-25T08:20:00Z"),
            ("LT_eventTime", "2026-11-25T08:50:00Z")], [("EQ_readPoint", Self.locations[0]), ("EQ_bizStep", "receiving")],
            [("EQ_bizStep", "shipping"), ("orderBy", "eventTime"), ("orderDirection", "DESC"), ("perPage", "6")],
            [("eventType", "AggregationEvent")], [("GE_eventTime", "2026-11-25T09:00:00Z"), ("orderBy", "eventTime"), ("eventCountLimit", "5")],
            [("GE_eventTime", "2026-11-25T08:10:00.000Z"), ("LT_eventTime", "2026-11-25T08:10:00.001Z")],
            [("MATCH_epc", Self.epcs[0] + "|" + Self.epcs[5])], [("LT_recordTime", "2001-01-01T00:00:00Z")],
        ]
        for items in queries {
            let expected = try EPCISQuery(queryItems: items.filter { $0.0 != "perPage" }).execute(all)
            let (paged, pages) = try Self.allPages(index, items)
            #expect(paged.map(\.json) == expected.map(\.json), "\(items)")
            let perPage = items.first { $0.0 == "perPage" }?.1.flatMap(Int.init) ?? EPCISQuery.defaultPerPage
            #expect(pages == max(1, (expected.count + perPage - 1) / perPage), "\(items): \(pages) pages for \(expected.count)")
        }
        #expect(throws: QueryParameterException.self) { try index.query(try EPCISQuery(queryItems: [("nextPageToken", "bogus")])) }
        #expect(try index.distinctValues("biz_step") == ["shipping", "receiving", "inspecting"].map { "https://ref.gs1.org/cbv/BizStep-\($0)" })
        #expect(try index.distinctValues("epc").count == Self.epcs.count && index.count() == 90)
    }

    @Test func aReopenedIndexResumesWhereItStopped() throws {
        let chain = Self.populated()
        let path = Self.temporaryPath()
        do {
            let index = try EPCISIndex(chain: chain.provider, path: path)
            #expect(try index.count() == 90)
        }
        _ = T.capture(chain, [Self.event(90)])
        let reopened = try EPCISIndex(chain: chain.provider, path: path)
        #expect(reopened.indexedHeight == chain.head.number - 1, "the blocks indexed before are not read again")
        #expect(try reopened.count() == 91 && reopened.indexedHeight == chain.head.number)
        // A file that is not an index is replaced, and the index rebuilt from the chain.
        let damaged = Self.temporaryPath()
        FileManager.default.createFile(atPath: damaged, contents: Data("not a database".utf8))
        #expect(try EPCISIndex(chain: chain.provider, path: damaged).count() == 91)
    }

    @Test func anIndexAheadOfItsChainIsRebuiltFromIt() throws {
        let path = Self.temporaryPath()
        do { #expect(try EPCISIndex(chain: Self.populated().provider, path: path).count() == 90) }
        // A shorter chain under the same file (a backup whose index was copied after its chain, say).
        let shorter = T.chain()
        _ = T.capture(shorter, [Self.event(0)])
        let reopened = try EPCISIndex(chain: shorter.provider, path: path)
        #expect(reopened.indexedHeight == 0)
        #expect(try reopened.count() == 1)
    }

    @Test func aMismatchStopsTheIndexAcrossRestarts() throws {
        let (source, first) = T.chainAndFirstBlock()
        var executed = T.capture(source, [T.observe(T.item, minute: 1), T.observe(T.item, minute: 2)])
        let genesis = try #require(source.provider.block(number: 0))
        let copy = InMemoryChain(chainId: ContractChain.chainId, genesis: genesis, state: source.state.snapshot())
        copy.append(first, state: source.state.snapshot())
        var receipt = executed.receipts[0]
        receipt.logs.removeAll { $0.topics.first == ProvenanceRegistry.Event.recorded }
        executed.receipts[0] = receipt
        copy.append(executed, state: source.state.snapshot())
        let path = Self.temporaryPath()
        do {
            let index = try EPCISIndex(chain: copy, path: path)
            #expect(throws: EPCISIndexError.self) { try index.count() }
        }
        let reopened = try EPCISIndex(chain: copy, path: path)
        #expect(throws: EPCISIndexError.mismatch(block: 2, transaction: executed.block.transactions[0].hash,
                                                detail: "2 events in the document, 0 EPCISEventRecorded logs")) { try reopened.count() }
    }
}
