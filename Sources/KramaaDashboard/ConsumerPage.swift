import Foundation
import KramaaEPCISIndex
import KramaaGS1
import KramaaJSON
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaTags

/// The consumer's page at an item's GS1 Digital Link (`/01/{gtin}[/22/…][/10/…]/21/{serial}`),
/// as a GS1-conformant resolver answers it: the page itself (default link), the tag check
/// (`?linkType=gs1:verificationService` redirects to `/verify`), and the item's links as an
/// RFC 9264 linkset (`?linkType=linkset` or `Accept: application/linkset+json`). When the tag
/// wrote its SUN message into the link's query, the tap is judged here and its verdict comes
/// first, unless the item is recalled or destroyed, which matters more.
extension Dashboard {
    func consumerPage(_ request: HTTPRequest) async -> Page {
        let text = ConsumerText(request)
        let path = request.path
        let token: UInt256
        let link: DigitalLink
        do {
            link = try DigitalLink.parse(DigitalLink.canonicalStem + path)
            guard let serial = link.keyQualifiers.first(where: { $0.ai == "21" }) else { throw GS1Error.missingPrimaryKey }
            token = try AssetRegistry.tokenId(digitalLink: DigitalLink(primaryKey: link.primaryKey, keyQualifiers: [serial]).uri())
        } catch {
            return Self.consumer(text, title: text.notAProductTitle, tone: "warn", headline: text.notAProductTitle,
                                 detail: text.notAProduct(path, "\(error)"), status: 400)
        }
        let here = "/01/\(link.primaryKey.value)/21/\(link.keyQualifiers.first { $0.ai == "21" }!.value)"
        let tapURL = request.query.contains { SUNURL.isParameterName($0.name) }
            ? "http://\(request.header("host") ?? "localhost")\(request.target)" : nil
        let verifyLink = "/verify" + (tapURL.map { "?url=" + urlComponent($0) } ?? "")
        switch request.queryValue("linkType") {
        case "gs1:verificationService"?, "https://gs1.org/voc/verificationService"?:
            return Self.redirect(verifyLink, status: 307)
        case "linkset"?, "all"?:
            return linkset(anchor: DigitalLink.canonicalStem + here, page: here, verify: verifyLink)
        default:
            if request.header("accept")?.contains("application/linkset+json") == true {
                return linkset(anchor: DigitalLink.canonicalStem + here, page: here, verify: verifyLink)
            }
        }
        guard let asset = assets.asset(tokenId: token) else {
            return Self.consumer(text, title: text.unknownTitle, tone: "warn", headline: text.unknownTitle, detail: text.unknownDetail, status: 404)
        }
        let brand = asset.organisationName ?? text.organisation(asset.organisation)
        var (tone, headline, detail) = text.registry(status: asset.status, brand: brand)
        var tapLine: HTML = .empty
        if let tapURL {
            if let verification = await verifyTap?(tapURL) {
                let (tapTone, tapHeadline, tapDetail) = text.tap(verification, item: token)
                if asset.status == "recalled" || asset.status == "destroyed" {
                    tapLine = "<p class=\"verdict \(tapTone) second\" role=\"status\">\(tapHeadline)</p><p>\(tapDetail)</p>"
                } else {
                    (tone, headline, detail) = (tapTone, tapHeadline, tapDetail)
                }
            } else {
                tapLine = "<p><a href=\"\(verifyLink)\">\(text.checkTap)</a></p>"
            }
        }
        let main: HTML = """
            <section aria-labelledby="verdict"><p id="verdict" class="verdict \(tone)" role="status">\(headline)</p><p>\(detail)</p>\(tapLine)</section>
            <section aria-labelledby="product"><h1 id="product">\(asset.productName ?? text.product)</h1>
            <dl><dt>\(text.brand)</dt><dd>\(brand)</dd><dt>\(text.item)</dt><dd class="mono">\(asset.epc)</dd>
            <dt>\(text.status)</dt><dd>\(text.statusName(asset.status))</dd></dl></section>
            \(consumerJourney ? "<section aria-labelledby=\"journey\"><h2 id=\"journey\">\(text.journey)</h2>\(timeline(token, metadata: asset.metadata))</section>" as HTML : .empty)
            <section aria-labelledby="yourself"><h2 id="yourself">\(text.verifyYourself)</h2><p>\(text.verifyYourselfDetail)</p>
            <ul><li><a href="\(verifyLink)">\(text.checkTap)</a></li><li><a href="\(here)?linkType=linkset">\(text.links)</a></li>\(consumerJourney ? receiptLink(token, text) : .empty)</ul></section>
            """
        var page = Page(title: asset.productName ?? text.product, main: main)
        page.explorerFrame = false
        page.language = text.language
        page.links = ["<\(verifyLink)>; rel=\"https://gs1.org/voc/verificationService\"", "<\(here)>; rel=\"https://gs1.org/voc/defaultLink\""]
        return page
    }

    /// A link to the anchor receipt of the item's latest anchored event, when this node builds receipts.
    func receiptLink(_ token: UInt256, _ text: ConsumerText) -> HTML {
        guard anchorReceipt != nil, let entries = try? index?.history(of: token),
              let latest = entries.last(where: { !anchors($0.blockNumber).isEmpty }) else { return .empty }
        return "<li><a href=\"\(Self.receiptPath(latest))\" download>\(text.anchorReceipt)</a></li>"
    }

    /// Where an indexed event's anchor receipt is downloaded.
    static func receiptPath(_ entry: EPCISIndex.Entry) -> String {
        "\(prefix)/anchor-receipt/\(entry.transactionHash)?event=\(entry.hash)"
    }

    /// The item's links as a GS1 resolver gives them (RFC 9264 linkset, GS1 link types).
    func linkset(anchor: String, page: String, verify: String) -> Page {
        let set: JSON = ["linkset": [[
            "anchor": .string(anchor),
            "https://gs1.org/voc/defaultLink": [["href": .string(page), "type": "text/html", "title": "The item's page"]],
            "https://gs1.org/voc/pip": [["href": .string(page), "type": "text/html", "title": "Product information"]],
            "https://gs1.org/voc/verificationService": [["href": .string(verify), "type": "text/html", "title": "Check the item's tag"]],
        ]]]
        var result = Page(title: "Links", main: .empty)
        result.body = (String(decoding: set.serialized(), as: UTF8.self), "application/linkset+json")
        return result
    }

    static func consumer(_ text: ConsumerText, title: String, tone: String, headline: String, detail: String, status: Int) -> Page {
        var page = Page(title: title, main: "<section aria-labelledby=\"verdict\"><p id=\"verdict\" class=\"verdict \(tone)\" role=\"status\">\(headline)</p><p>\(detail)</p></section>", status: status)
        page.explorerFrame = false
        page.language = text.language
        return page
    }
}
