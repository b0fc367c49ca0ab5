import Foundation
import KramaaChain
import KramaaDashboard
import KramaaEPCISIndex
import KramaaEVM
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import Testing

/// Markup in every user-supplied field the dashboard shows (organisation name, product
/// metadata, EPCIS fields and extensions, search terms, paths) comes out as text.
@Suite struct DashboardEscapingTests {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [9])
    static let evil = "<script>alert(\"x\")</script>'\"><img src=x onerror=alert(1)>"
    static let epc = "urn:epc:id:sgtin:0614141.107346.2018"

    /// A node with an organisation, an asset and an EPCIS event, each carrying `evil`.
    final class Fixture: @unchecked Sendable {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-dash-\(UUID().uuidString)")
        let node: Node
        let dashboard: Dashboard
        var nonce: UInt64 = 0

        init() throws {
            let genesis = """
                {"config": {"chainId": 99, "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x1c9c380",
                 "alloc": {"\(DashboardEscapingTests.key.publicKey.address)": {"balance": "0x3635c9adc5dea00000"}}}
                """
            try Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
            node = try Node(dataDirectory: directory)
            dashboard = Dashboard(node: node, index: try EPCISIndex(chain: node)) { _ in ["anchored on \(DashboardEscapingTests.evil)"] }
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        /// Sends a call from the funded key and seals it in a block; returns whether it succeeded.
        @discardableResult
        func send(_ to: Address, _ data: [UInt8]) throws -> Bool {
            let tx = Transaction(type: .dynamicFee, chainId: 99, nonce: nonce, maxPriorityFeePerGas: UInt256(2), maxFeePerGas: UInt256(10_000_000_000),
                                 gasLimit: 5_000_000, to: to, data: data).signed(with: DashboardEscapingTests.key)
            nonce += 1
            _ = try node.accept(raw: tx.encoded)
            let block = try #require(try node.produceBlock(timestamp: 1_000 + nonce, allowEmpty: true))
            return block.receipts.last?.success ?? false
        }

        func page(_ path: String, query: [(name: String, value: String)] = []) async -> (status: Int, body: String) {
            let r = await dashboard.respond(to: HTTPRequest(method: "GET", path: path, query: query, headers: [("accept", "text/html")]))
            return (r.status, String(decoding: r.body, as: UTF8.self))
        }
    }

    static func document(_ extensionValue: String) -> [UInt8] {
        let quoted = String(decoding: JSONEncoder().encodeString(extensionValue), as: UTF8.self)
        return Array("""
            {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.com/ns/"}], "type": "EPCISDocument",
             "schemaVersion": "2.0", "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [
             {"type": "ObjectEvent", "eventTime": "2026-11-25T09:01:00.000Z", "eventTimeZoneOffset": "+01:00", "epcList": ["\(epc)"],
              "action": "OBSERVE", "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.\(extensionValue.count)"},
              "ex:note": \(quoted)}]}}
            """.utf8)
    }

    @Test func everyUserFieldIsEscaped() async throws {
        let f = try Fixture()
        let owner = Self.key.publicKey.address
        #expect(try f.send(OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string(Self.evil)])))
        let metadata = "data:application/json," + (try #require("{\"name\": \(String(decoding: JSONEncoder().encodeString(Self.evil), as: UTF8.self))}"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)))
        #expect(try f.send(AssetRegistry.address, AssetRegistry.Method.mint.callData([.uint(UInt256(1)), .string(Self.epc), .address(owner),
                                                                                     .fixedBytes(Bytes32.zero), .string(metadata)])))
        #expect(try f.send(ProvenanceRegistry.address, ProvenanceRegistry.Method.capture.callData([.uint(UInt256(1)), .bytes(Self.document(Self.evil))])))
        let token = try AssetRegistry.tokenId(epc: Self.epc).0
        let pages = ["/dashboard", "/dashboard/blocks/1", "/dashboard/blocks/3", "/dashboard/tx/\(try #require(try f.node.block(number: 1)).transactions[0].hash)", "/dashboard/address/\(owner)", "/dashboard/validators",
                     "/dashboard/assets/\(token)", "/dashboard/organizations/1", "/dashboard/assets/\(Self.epc)", "/01/10614141073464/21/2018",
                     "/dashboard/blocks/\(Self.evil)", "/dashboard/\(Self.evil)", "/01/\(Self.evil)"]
        var sawTimeline = false
        for path in pages {
            let (status, body) = await f.page(path)
            #expect(status < 500, "\(path)")
            #expect(!body.contains("<script>alert"), "raw markup on \(path)")
            #expect(!body.contains("<img src=x"), "raw markup on \(path)")
            if path.hasPrefix("/dashboard/assets/") {
                #expect(body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), "the organisation name and note shown as text")
                #expect(body.contains("ex:note") || body.contains("https://example.com/ns/note"), "the extension field is shown")
                sawTimeline = body.contains("class=\"timeline\"")
            }
        }
        #expect(sawTimeline)
        let tap = await f.dashboard.respond(to: HTTPRequest(method: "GET", path: "/01/10614141073464/21/2018", query: [("e", Self.evil), ("c", "00")],
                                                            headers: [("host", "node.example:8545")], target: "/01/10614141073464/21/2018?e=%3Cscript%3E&c=00"))
        let tapPage = String(decoding: tap.body, as: UTF8.self)
        #expect(tapPage.contains("href=\"/verify?url=http:%2F%2Fnode.example:8545%2F01%2F10614141073464%2F21%2F2018%3Fe%3D%253Cscript%253E%26c%3D00\""), "\(tapPage)")
        var closed = f.dashboard
        closed.consumerJourney = false
        let closedPage = String(decoding: await closed.respond(to: HTTPRequest(method: "GET", path: "/01/10614141073464/21/2018")).body, as: UTF8.self)
        #expect(closedPage.contains("class=\"verdict") && !closedPage.contains("class=\"timeline\""), "closed reads: no journey on the open page")
        let (status, body) = await f.page("/dashboard/search", query: [("q", Self.evil)])
        #expect(status == 400)
        #expect(!body.contains("<script>alert") && body.contains("&lt;script&gt;"))
    }

    @Test func searchFindsEachKind() async throws {
        let f = try Fixture()
        #expect(try f.send(OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string("Acme")])))
        let block = try #require(try f.node.block(number: 1))
        let cases: [(String, String)] = [
            ("1", "/dashboard/blocks/1"), ("\(block.hash)", "/dashboard/blocks/\(block.hash)"),
            ("\(block.transactions[0].hash)", "/dashboard/tx/\(block.transactions[0].hash)"),
            ("\(Self.key.publicKey.address)", "/dashboard/address/\(Self.key.publicKey.address.checksummed)"),
        ]
        for (term, location) in cases {
            let r = await f.dashboard.respond(to: HTTPRequest(method: "GET", path: "/dashboard/search", query: [("q", term)]))
            #expect(r.status == 303, "\(term)")
            #expect(r.headers.first { $0.name == "location" }?.value == location, "\(term)")
        }
        for (path, status) in [("/dashboard/blocks/99", 404), ("/dashboard/tx/0x" + String(repeating: "ab", count: 32), 404), ("/dashboard/nothing", 404), ("/dashboard/organizations/7", 404),
                               ("/dashboard/blocks/0xzz", 400)] {
            #expect(await f.page(path).status == status, "\(path)")
        }
        let post = await f.dashboard.respond(to: HTTPRequest(method: "POST", path: "/dashboard"))
        #expect(post.status == 405, "no page changes state")
    }

    @Test func interpolationEscapesEverythingButMarkup() {
        let name = "a<b>&\"c'"
        let html: HTML = "<p title=\"\(name)\">\(name)</p>\(HTML("<br>"))"
        #expect(html.text == "<p title=\"a&lt;b&gt;&amp;&quot;c&#39;\">a&lt;b&gt;&amp;&quot;c&#39;</p><br>")
    }
}

extension JSONEncoder {
    /// A JSON string literal.
    func encodeString(_ s: String) -> Data { (try? encode(s)) ?? Data("\"\"".utf8) }
}
