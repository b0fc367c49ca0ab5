import KramaaEPCIS
import KramaaEPCISIndex
import KramaaGS1
import KramaaJSON
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaTags

/// The platform's pages: an asset with its provenance timeline, and the consumer's page.
extension Dashboard {
    var assets: ChainAssetDirectory<NodeContractReader> { ChainAssetDirectory(chain: node, reader: reader) }

    func assetPage(_ id: String) -> Page {
        let token: UInt256
        do { token = try Self.tokenId(id) } catch {
            return .error(status: 400, title: "Not an asset identifier", message: error.message)
        }
        guard let asset = assets.asset(tokenId: token) else {
            return .error(status: 404, title: "Asset not found", message: "No asset \(id) is registered on this chain.")
        }
        let link = (try? EPCURI.parse(asset.epc).digitalLinkURI(stem: DigitalLink.canonicalStem)) ?? nil
        let consumer: HTML = link.flatMap { URIParts(link: $0) }.map { "<dt>Consumer page</dt><dd><a href=\"\($0)\">\($0)</a></dd>" } ?? .empty
        let main: HTML = """
            <h1>\(asset.productName ?? "Asset")</h1>
            <dl><dt>EPC</dt><dd class="mono">\(asset.epc)</dd>\(link.map { "<dt>Digital Link</dt><dd class=\"mono\">\($0)</dd>" as HTML } ?? .empty)\(consumer)
            <dt>Token id</dt><dd class="mono">\(asset.tokenId)</dd>
            <dt>Organisation</dt><dd>\(organizationLink(asset.organisation, name: asset.organisationName))</dd>
            <dt>Status</dt><dd>\(asset.status)</dd><dt>Owner</dt><dd>\(addressLink(asset.owner))</dd><dt>Custodian</dt><dd>\(addressLink(asset.custodian))</dd>
            <dt>Minted in block</dt><dd><a href="/dashboard/blocks/\(asset.mintedAt)">\(asset.mintedAt)</a></dd></dl>
            <div id="history">\(custodySteps(token))<h2>Provenance</h2>\(timeline(token, metadata: asset.metadata))</div>
            """
        return Page(title: asset.productName ?? asset.epc, main: main, script: Self.refreshOnNewBlocks("history"))
    }

    func organizationPage(_ id: String) -> Page {
        guard let number = UInt64(id) else { return .error(status: 400, title: "Not an organisation", message: "\(id) is not an organisation number.") }
        guard let org = try? OrganizationClient(reader).organization(number), org.createdAtBlock != 0 else {
            return .error(status: 404, title: "Organisation not found", message: "No organisation \(id) is registered on this chain.")
        }
        let main: HTML = """
            <h1>\(org.name)</h1>
            <dl><dt>Organisation</dt><dd>\(org.id)</dd><dt>Founder</dt><dd>\(addressLink(org.founder))</dd>
            <dt>Registered in block</dt><dd><a href="/dashboard/blocks/\(org.createdAtBlock)">\(org.createdAtBlock)</a></dd><dt>Admins</dt><dd>\(org.admins)</dd></dl>
            <h2>Members</h2>\(members(of: org.id))
            """
        return Page(title: org.name, main: main)
    }

    /// A link to an organisation's page, by its name when known.
    func organizationLink(_ id: UInt64, name: String?) -> HTML {
        "<a href=\"/dashboard/organizations/\(id)\">\(name ?? "organisation \(id)")</a>"
    }

    /// A token id from a decimal or 0x-hex number, an EPC URI or a Digital Link.
    static func tokenId(_ text: String) throws(SearchError) -> UInt256 {
        if text.hasPrefix("0x"), let id = try? UInt256(hex: text) { return id }
        if let id = try? UInt256(decimal: text) { return id }
        switch try parse(term: text) {
        case .asset(let token): return token
        default: throw SearchError("\(text) is not an EPC URI, a Digital Link or a token id.")
        }
    }

    /// The asset's EPCIS events from the index, oldest first: what, when, where, why, who,
    /// the block that finalised it and where that block is anchored.
    func timeline(_ token: UInt256, metadata: JSON? = nil) -> HTML {
        guard let index else { return "<p>This node keeps no EPCIS index.</p>" }
        guard let entries = try? index.history(of: token) else { return "<p class=\"notice\">The EPCIS index could not be read.</p>" }
        guard !entries.isEmpty else { return "<p>No EPCIS events recorded yet.</p>" }
        let directory = assets
        var organisations: [UInt64: String] = [:]
        for id in Set(entries.map(\.organization)) { organisations[id] = directory.organizationName(id) }
        let items = entries.map { e -> HTML in
            let ev = e.event
            let what: HTML = "\(ev.type)\(ev.action.map { " · \($0)" } ?? "")"
            let why: HTML = HTML.join([ev.bizStep.map { "step <b>\(Self.cbvName($0))</b>" }, ev.disposition.map { "disposition <b>\(Self.cbvName($0))</b>" }].compactMap { $0 as HTML? }, separator: ", ")
            let place: HTML = HTML.join([ev.bizLocation.map { "at <span class=\"mono\">\($0)</span>" }, ev.readPoint.map { "read point <span class=\"mono\">\($0)</span>" }].compactMap { $0 as HTML? }, separator: ", ")
            let who: HTML = "\(organizationLink(e.organization, name: organisations[e.organization])), recorded by \(addressLink(e.recorder))\(e.device == .zero ? "" : " with device " as HTML)\(e.device == .zero ? .empty : addressLink(e.device))"
            let extensions = Self.extensionFields(ev.json)
            let extra: HTML = extensions.isEmpty ? .empty : "<dt>More</dt><dd>\(HTML.join(extensions.map { "<span class=\"mono\">\($0.0)</span>: \($0.1)" }, separator: "<br>"))</dd>"
            let anchorLines = anchors(e.blockNumber)
            let receipt: HTML = anchorLines.isEmpty || anchorReceipt == nil ? .empty : " (<a href=\"\(Self.receiptPath(e))\" download>anchor receipt</a>)"
            let anchored = HTML.join(anchorLines.map { "<dt>Anchored</dt><dd>\($0)\(receipt)</dd>" })
            let files = CIDBytes.named(in: ev.json)
            let attached: HTML = files.isEmpty ? .empty : "<dt>Files</dt><dd>\(HTML.join(files.map { "<a class=\"mono\" href=\"/ipfs/\($0)\">\($0)</a>" as HTML }, separator: "<br>"))</dd>"
            return """
                <li><h3><a href="/dashboard/events/\(e.hash)">\(what)</a></h3><dl><dt>When</dt><dd>\(ev.eventTime)\(ev.eventTimeZoneOffset.map { " (local time zone \($0))" } ?? "")</dd>
                <dt>What</dt><dd class="mono">\(ev.epcList.joined(separator: ", "))\(ev.parentID.map { " in \($0)" } ?? "")</dd>
                \(why.text.isEmpty ? .empty : "<dt>Why</dt><dd>\(why)</dd>" as HTML)\(place.text.isEmpty ? .empty : "<dt>Where</dt><dd>\(place)</dd>" as HTML)
                <dt>Who</dt><dd>\(who)</dd>
                <dt>Proof</dt><dd><span class="tag">finalised</span> in block <a href="/dashboard/blocks/\(e.blockNumber)">\(e.blockNumber)</a>, transaction <a class="mono" href="/dashboard/tx/\(e.transactionHash)">\(Self.short(e.transactionHash))</a></dd>\(anchored)\(attached)\(extra)</dl></li>
                """
        }
        return "\(JourneyPictures.map(entries))\(JourneyPictures.sensorCharts(entries, metadata: metadata))<ol class=\"timeline\">\(items)</ol>"
    }

    /// `cbv:BizStep-shipping`, `urn:epcglobal:cbv:bizstep:shipping` or `shipping` → `shipping`.
    static func cbvName(_ value: String) -> String {
        if let dash = value.lastIndex(of: "-"), value.hasPrefix("cbv:") || value.hasPrefix("https://ref.gs1.org/cbv/") { return String(value[value.index(after: dash)...]) }
        if value.hasPrefix("urn:epcglobal:cbv:"), let colon = value.lastIndex(of: ":") { return String(value[value.index(after: colon)...]) }
        return value
    }

    /// An event's members outside the EPCIS vocabulary (`prefix:name` extensions), as text.
    static func extensionFields(_ json: JSON) -> [(String, String)] {
        guard case .object(let o) = json else { return [] }
        return o.compactMap { key, value in
            guard key.contains(":"), !key.hasPrefix("@") else { return nil }
            return (key, value.stringValue ?? String(decoding: value.serialized(), as: UTF8.self))
        }
    }
}

/// The local path of a Digital Link (`/01/…/21/…`), which this node serves.
private func URIParts(link: String) -> String? {
    guard let range = link.range(of: "/01/") else { return nil }
    return String(link[range.lowerBound...])
}
