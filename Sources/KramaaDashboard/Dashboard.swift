import Foundation
import KramaaChain
import KramaaEPCISIndex
import KramaaGS1
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaTags

/// The node's web interface (issue 19, docs/DASHBOARD.md): the explorer under `/dashboard`
/// (also answering browsers' `GET /`) and the consumer's page at GS1 Digital Link paths
/// (`/01/{gtin}/21/{serial}`). Pages are rendered on the server from the node, the typed
/// contract clients and the EPCIS index; nothing here writes.
public struct Dashboard: HTTPEndpoint {
    /// Where the explorer is mounted; the server hands browsers' `GET /` to it too.
    public static let prefix = HTTPRoutes.browserHomePrefix
    /// The GS1 Digital Link path prefix of the consumer page (GTIN).
    public static let digitalLinkPrefix = "/01"

    let node: Node
    let index: EPCISIndex?
    /// What to say about where a block is anchored on parent chains (one line per anchor).
    let anchors: @Sendable (UInt64) -> [String]
    /// Whether the consumer page, open to anyone, shows the item's journey (false on a node
    /// whose reads are closed: the verdict and product only).
    public var consumerJourney = true
    /// What the operations page shows besides the chain (readiness, consensus, peers, metrics);
    /// nil: the page shows the chain's figures only.
    public var operations: (@Sendable () async -> OperationsStatus)?
    /// Judges a tap of a tag (the tag URL as it arrived) as `/verify` does, counting it; nil: the
    /// consumer page links to `/verify` instead.
    public var verifyTap: (@Sendable (String) async -> Verification?)?
    /// Builds the anchor receipt (JSON, `kramaa anchor verify` checks it) of a transaction and
    /// one of its logs (by index, or the one naming an event hash); throws saying why there is
    /// none. nil: this node watches no parent chain and offers no receipts.
    /// What this node's MQTT server saw of a device since the node started (nil: the device has
    /// not connected here); nil: this node runs no MQTT server.
    public var deviceActivity: (@Sendable (Address) -> DeviceSeen?)?
    /// When this node's MQTT server began counting (the node's start), Unix seconds.
    public var deviceActivitySince: UInt64 = 0
    let receiptBuilds = ReceiptBuilds()
    public var anchorReceipt: (@Sendable (_ transaction: Bytes32, _ log: Int?, _ event: Bytes32?) async throws -> String)?

    public init(node: Node, index: EPCISIndex?, anchors: @escaping @Sendable (UInt64) -> [String] = { _ in [] }) {
        self.node = node
        self.index = index
        self.anchors = anchors
    }

    var reader: NodeContractReader { NodeContractReader(node: node) }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            var page = Page.error(status: 405, title: "Read-only", message: "The dashboard only shows pages (GET); writes go through the API with a token.")
            page.status = 405
            var r = page.response
            r.headers.append(("allow", "GET, HEAD"))
            return r
        }
        return await page(for: request).response
    }

    /// The page for a GET.
    func page(for request: HTTPRequest) async -> Page {
        let path = request.path
        if path == Self.digitalLinkPrefix || path.hasPrefix(Self.digitalLinkPrefix + "/") { return await consumerPage(request) }
        let rest = path == "/" ? "" : String(path.dropFirst(Self.prefix.count))
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true).map { HTTPRequest.formDecode($0) }
        switch (parts.first, parts.count) {
        case (nil, _): return home()
        case ("blocks", 2): return blockPage(parts[1])
        case ("tx", 2): return transactionPage(parts[1])
        case ("address", 2): return accountPage(parts[1], slot: request.queryValue("slot"))
        case ("assets", 2): return assetPage(parts[1])
        case ("organizations", 2): return organizationPage(parts[1])
        case ("validators", 1): return validatorsPage(blocks: request.queryValue("blocks"))
        case ("devices", 2): return devicePage(parts[1])
        case ("pool", 1): return poolPage()
        case ("anchors", 1): return anchorsPage()
        case ("anchor-receipt", 2): return await anchorReceiptDownload(parts[1], log: request.queryValue("log"), event: request.queryValue("event"))
        case ("events", 2): return eventPage(parts[1])
        case ("operations", 1): return await operationsPage()
        case ("search", 1): return search(request.queryValue("q") ?? "")
        default: return .error(status: 404, title: "Not found", message: "There is no dashboard page at \(path).")
        }
    }

    // MARK: Search

    /// What a search term names, by its shape.
    enum Term: Equatable {
        case block(UInt64), hash(Bytes32), address(Address), asset(UInt256)
    }

    /// Reads a search term; throws a message for the user when it has no known shape.
    static func parse(term raw: String) throws(SearchError) -> Term {
        let term = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if term.isEmpty { throw SearchError("Type a block number or hash, a transaction hash, an address, an EPC URI or a Digital Link.") }
        if term.allSatisfy(\.isASCIIDigitCharacter), let n = UInt64(term) { return .block(n) }
        if term.hasPrefix("0x") || term.hasPrefix("0X") {
            let hex = term.dropFirst(2)
            guard hex.allSatisfy(\.isHexDigit) else { throw SearchError("\(term) is not hexadecimal.") }
            if hex.count == 64, let hash = try? Bytes32(hex: term) { return .hash(hash) }
            if hex.count == 40, let address = try? Address(hex: term) { return .address(address) }
            throw SearchError("\(term) has \(hex.count) hex digits: a hash has 64, an address 40.")
        }
        do {
            if term.hasPrefix("http://") || term.hasPrefix("https://") { return .asset(try AssetRegistry.tokenId(digitalLink: term)) }
            if term.hasPrefix("urn:epc:") { return .asset(try AssetRegistry.tokenId(epc: term).0) }
        } catch {
            throw SearchError("\(term) is not a valid identifier: \(error)")
        }
        throw SearchError("\(term) is not a block number, hash, address, EPC URI (urn:epc:id:…) or GS1 Digital Link (https://…/01/…).")
    }

    struct SearchError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Sends the browser to the page of what the term names (303), or says why not.
    func search(_ raw: String) -> Page {
        let term: Term
        do { term = try Self.parse(term: raw) } catch {
            return .error(status: 400, title: "Not a search term", message: error.message)
        }
        let target: String
        switch term {
        case .block(let n): target = "/blocks/\(n)"
        case .address(let a): target = "/address/\(a.checksummed)"
        case .asset(let token): target = "/assets/\(token)"
        case .hash(let hash):
            if (try? node.transactionLocation(hash)) ?? nil != nil { target = "/tx/\(hash)" } else if (try? node.number(ofHash: hash)) ?? nil != nil {
                target = "/blocks/\(hash)"
            } else {
                return .error(status: 404, title: "Not found", message: "No block or transaction has the hash \(hash) on this chain.")
            }
        }
        return Self.redirect(Self.prefix + target)
    }

    static func redirect(_ location: String, status: Int = 303) -> Page {
        var page = Page(title: "Found", main: "<p>Found: <a href=\"\(location)\">\(location)</a></p>", status: status)
        page.redirect = location
        return page
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isWholeNumber }
}

/// One device's activity on this node's MQTT server since the node started; times are Unix seconds.
public struct DeviceSeen: Sendable, Equatable {
    public var connections: UInt64
    public var messages: UInt64
    public var lastConnected: UInt64?
    public var lastMessage: UInt64?

    public init(connections: UInt64, messages: UInt64, lastConnected: UInt64?, lastMessage: UInt64?) {
        (self.connections, self.messages, self.lastConnected, self.lastMessage) = (connections, messages, lastConnected, lastMessage)
    }
}
