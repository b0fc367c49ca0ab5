import Foundation
import KramaaEPCIS
import KramaaGS1
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// A capture normalises each identifier its document names once (`CanonicalDigitalLink.Memo`),
/// for the event hash and the asset keys both: what the chain computes must not change by it.
@Suite struct AssetKeyMemoTests {
    /// Every EPC URN of the Digital Link vectors (valid and invalid) and of the hash examples.
    static func urns() throws -> [String] {
        let url = try Vectors.folder("digitallink").appendingPathComponent("dl-vectors.json")
        let vectors = (try Vectors.json(url) as? [String: Any])?["vectors"] as? [[String: Any]] ?? []
        var urns = vectors.compactMap { $0["epc_urn"] as? String }
        return urns + (try exampleEvents()).flatMap(\.allEPCs)
    }

    static func exampleEvents() throws -> [EPCISEvent] {
        try Vectors.files(in: "epcis-hash/examples", ext: "jsonld").flatMap { file -> [EPCISEvent] in
            guard let data = FileManager.default.contents(atPath: file.path), let document = try? EPCISDocument(bytes: Array(data)) else { return [] }
            return document.events
        }
    }

    @Test func aKeyThroughASharedMemoIsTheTokenIdTheAssetRegistryMints() throws {
        let memo = CanonicalDigitalLink.Memo()
        var minted = 0, refused = 0
        // Twice through one memo: the second answer comes from the memo and must be the same.
        for urn in try Self.urns() + Self.urns() where urn.hasPrefix("urn:epc:id:") {
            let expected = try? AssetRegistry.tokenId(epc: urn).0
            #expect(ProvenanceRegistry.key(ofEPC: urn, links: memo) == expected, "\(urn)")
            #expect(ProvenanceRegistry.key(ofEPC: urn) == expected, "\(urn)")
            if expected == nil { refused += 1 } else { minted += 1 }
        }
        #expect(minted > 0 && refused > 0, "the vectors hold valid and invalid pure-identity EPCs")
    }

    @Test func eventHashesAndKeysAreTheSameWithOneMemoForEveryEvent() throws {
        let events = try Self.exampleEvents()
        #expect(!events.isEmpty)
        let memo = CanonicalDigitalLink.Memo()
        for event in events + events {
            #expect(EPCISEventHash.digest(of: event, links: memo) == EPCISEventHash.digest(of: event))
            #expect(ProvenanceRegistry.keys(of: event, links: memo) == ProvenanceRegistry.keys(of: event))
        }
    }
}
