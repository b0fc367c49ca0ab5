import Foundation
import KramaaAPI
import KramaaChain
import KramaaDashboard
import KramaaEPCISIndex
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// The dashboard's render time (docs/DASHBOARD.md): the pages people open most, rendered by the
/// node from the chain and the EPCIS index, against the JSON API answering the same question in
/// the same run (`/api/v1/assets/{id}/history` for the asset and consumer pages, `eth_getBlockByNumber`
/// of the latest 15 blocks for the explorer's home).
enum DashboardBench {
    static func run(quick: Bool) -> Section {
        var section = Section(title: "Dashboard (server-rendered pages)", command: "scripts/bench.sh dashboard")
        let events = quick ? 20 : 200
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-dash-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [5])
        let genesis = """
            {"config": {"chainId": 98, "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x1c9c380",
             "alloc": {"\(key.publicKey.address)": {"balance": "0x3635c9adc5dea00000"}}}
            """
        try! Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
        let node = try! Node(dataDirectory: directory)
        var nonce: UInt64 = 0
        func send(_ to: Address, _ data: [UInt8]) {
            let tx = Transaction(type: .dynamicFee, chainId: 98, nonce: nonce, maxPriorityFeePerGas: UInt256(2), maxFeePerGas: UInt256(10_000_000_000),
                                 gasLimit: 5_000_000, to: to, data: data).signed(with: key)
            nonce += 1
            _ = try! node.accept(raw: tx.encoded)
            let block = try! node.produceBlock(timestamp: 1_000 + nonce, allowEmpty: true)!
            precondition(block.receipts.last?.success == true, "setup transaction \(nonce) failed")
        }
        let epc = "urn:epc:id:sgtin:0614141.107346.2018"
        send(OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string("Bench brand")]))
        send(AssetRegistry.address, AssetRegistry.Method.mint.callData([.uint(UInt256(1)), .string(epc), .address(key.publicKey.address),
                                                                        .fixedBytes(Bytes32.zero), .string("data:application/json,{\"name\":\"Bench item\"}")]))
        for i in 0..<events {
            let document = """
                {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0",
                 "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-11-25T09:\(String(format: "%02d", i % 60)):00.000Z",
                 "eventTimeZoneOffset": "+00:00", "epcList": ["\(epc)"], "action": "OBSERVE", "bizStep": "inspecting",
                 "bizLocation": {"id": "geo:\(48 + Double(i) / 100),\(11 + Double(i) / 100)"},
                 "sensorElementList": [{"sensorReport": [{"type": "gs1:Temperature", "value": \(4 + i % 7), "uom": "CEL"}]}]}]}}
                """
            send(ProvenanceRegistry.address, ProvenanceRegistry.Method.capture.callData([.uint(UInt256(1)), .bytes(Array(document.utf8))]))
        }
        let index = try! EPCISIndex(chain: node)
        let dashboard = Dashboard(node: node, index: index)
        let api = PlatformEndpoints(api: EthAPI(node: node), index: index)
        let rpc = EthAPI(node: node).router()
        let token = try! AssetRegistry.tokenId(epc: epc).0
        let seconds = quick ? 0.3 : 2.0
        func page(_ path: String) -> Double {
            Harness.rate(batch: 1, seconds: seconds) {
                let status = OpsBench.runBlocking { await dashboard.respond(to: HTTPRequest(method: "GET", path: path, headers: [("accept", "text/html")])).status }
                precondition(status == 200, "\(path) answered \(status)")
            }
        }
        let historyJSON = Harness.rate(batch: 1, seconds: seconds) {
            let status = OpsBench.runBlocking { await api.respond(to: HTTPRequest(method: "GET", path: "/api/v1/assets/\(token)/history")).status }
            precondition(status == 200, "the JSON history answered \(status)")
        }
        let head = node.latest.number
        let latestBlocks = Harness.rate(batch: 1, seconds: seconds) {
            for n in (head - 14)...head {
                let request = RPCRequest(method: "eth_getBlockByNumber", params: RPCParams(.array([.string("0x" + String(n, radix: 16)), .bool(false)])))
                blackHole(OpsBench.runBlocking { try? await rpc.handle(request, context: .inProcess()) })
            }
        }
        for (name, path, reference, referenceName) in [
            ("Asset page (\(events) events: timeline, journey map, sensor chart)", "/dashboard/assets/\(token)", historyJSON, "the asset's history as JSON (/api/v1/assets/{id}/history)"),
            ("Consumer page (\(events) events)", "/01/10614141073464/21/2018", historyJSON, "the asset's history as JSON (/api/v1/assets/{id}/history)"),
            ("Explorer home (latest 15 blocks)", "/dashboard", latestBlocks, "eth_getBlockByNumber of the same 15 blocks"),
        ] {
            let rate = page(path)
            section.rows.append(Row(name: "\(name): pages per second", ours: rate, unit: "pages/s", reference: reference, referenceName: referenceName))
        }
        return section
    }
}
