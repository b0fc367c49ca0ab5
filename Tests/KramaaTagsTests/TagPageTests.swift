import Foundation
import KramaaJSON
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
@testable import KramaaTags
import KramaaTestSupport
import Testing

/// What the consumer's page says: the item's fate before the tag's authenticity, names rather
/// than ids, a copyable code never presented as proof of the original, and a page for every
/// answer a browser gets.
@Suite(.serialized) struct TagPageTests {
    static let browser = "text/html,application/xhtml+xml,*/*;q=0.8"
    static let epc = "urn:epc:id:sgtin:0614141.107346.2017"

    static func server(status: String) async throws -> TagServer {
        var asset = try FixedAssets.summary(epc: epc)
        asset = AssetSummary(tokenId: asset.tokenId, epc: asset.epc, organisation: 1, owner: asset.owner, custodian: asset.custodian,
                             metadataHash: asset.metadataHash, status: status, mintedAt: 7, organisationName: "Acme Dairy",
                             productName: "Organic whole milk 1 l")
        var assets = FixedAssets()
        assets.byTag[try TagUID(hex: TagEndpointTests.an12196.uid)] = asset
        let server = try await TagServer(assets: assets)
        try server.store.register(TagEndpointTests.an12196Registration())
        return server
    }

    @Test(arguments: [("recalled", "Genuine tag — this item was recalled", "bad"),
                      ("destroyed", "Genuine tag — this item was reported destroyed", "bad"),
                      ("consumed", "Genuine tag — this item was already consumed", "caution")])
    func aGenuineTapOnAnItemThatIsNoLongerGoodSaysSoFirst(status: String, headline: String, tone: String) async throws {
        let server = try await Self.server(status: status)
        let page = try await server.get(TagEndpointTests.an12196.target, accept: Self.browser)
        #expect(page.status == 200)
        #expect(page.text.contains(#"data-verdict="genuine" data-tone="\#(tone)""#), "\(page.text)")
        #expect(page.text.contains(">\(headline)</div>"), "\(page.text)")
        #expect(!page.text.contains(#"data-tone="good""#))
        await server.stop()
        // The JSON answer carries the same message for apps.
        let again = try await Self.server(status: status)
        let json = try await again.get(TagEndpointTests.an12196.target)
        #expect(json.verdict == "genuine")
        #expect(json.json?["message"]?["headline"]?.stringValue == headline)
        #expect(json.json?["message"]?["tone"]?.stringValue == tone)
        await again.stop()
    }

    @Test func theItemIsNamedByItsBrandAndProductNotByRawIds() async throws {
        let server = try await Self.server(status: "active")
        let page = try await server.get(TagEndpointTests.an12196.target, accept: Self.browser)
        #expect(page.text.contains(#"data-tone="good""#) && page.text.contains(">Genuine</div>"))
        #expect(page.text.contains("Acme Dairy") && page.text.contains("Organic whole milk 1 l"))
        #expect(page.text.contains("GTIN 10614141073464, serial 2017"), "\(page.text)")
        let token = try AssetRegistry.tokenId(epc: Self.epc).0
        #expect(!page.text.contains(Hex.encode(token.bigEndianBytes)))
        #expect(!page.text.contains("<script"))
        await server.stop()
    }

    @Test func aSignedCodeIsAGenuineCodeThatSaysItCanBeCopied() async throws {
        let manufacturer = SigningKey(generating: .p256)
        let asset = try FixedAssets.summary(epc: Self.epc)
        var assets = FixedAssets()
        assets.byToken[asset.tokenId] = asset
        assets.roles[manufacturer.publicKey.address] = OrganizationRoles.manufacturer.rawValue
        let server = try await TagServer(assets: assets)
        let code = try QRPayload.sign(item: Self.epc, issuedAt: 1_700_000_000, key: manufacturer)
        let page = try await server.get("/verify?qr=" + code.encoded, accept: Self.browser)
        #expect(page.text.contains(">Genuine code</div>"), "\(page.text)")
        #expect(page.text.contains("can be copied"))
        #expect(!page.text.contains(#"data-tone="good""#))
        await server.stop()
    }

    @Test func aBrowserGetsAPageForAMalformedLinkToo() async throws {
        let server = try await TagServer()
        let page = try await server.get("/verify", accept: Self.browser)
        #expect(page.status == 400)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains(#"data-status="400""#) && page.text.contains("cannot be verified"))
        let json = try await server.get("/verify")
        #expect(json.status == 400 && json.headers["content-type"] == "application/problem+json")
        await server.stop()
    }

    @Test func productNamesComeFromDataURIMetadataOnly() {
        let json = #"{"name":"Organic whole milk 1 l","description":"x"}"#
        #expect(ProductMetadata.name(fromTokenURI: "data:application/json;base64," + Data(json.utf8).base64EncodedString()) == "Organic whole milk 1 l")
        #expect(ProductMetadata.name(fromTokenURI: "data:application/json," + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                == "Organic whole milk 1 l")
        #expect(ProductMetadata.name(fromTokenURI: "data:application/json;charset=utf-8," + json) == "Organic whole milk 1 l")
        #expect(ProductMetadata.name(fromTokenURI: "https://example.com/meta.json") == nil)
        #expect(ProductMetadata.name(fromTokenURI: "data:text/plain,hello") == nil)
        #expect(ProductMetadata.name(fromTokenURI: "data:application/json;base64,!!!") == nil)
        #expect(ProductMetadata.name(fromTokenURI: #"data:application/json,{"name":""}"#) == nil)
    }
}
