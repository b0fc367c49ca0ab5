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
        let events = quick ? 50 : 1_000
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-dash-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [5])
        let loadKey = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [6])
        let genesis = """
            {"config": {"chainId": 98, "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x1c9c380",
             "alloc": {"\(key.publicKey.address)": {"balance": "0x3635c9adc5dea00000"}, "\(loadKey.publicKey.address)": {"balance": "0x3635c9adc5dea00000"}}}
            """
        try! Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
        let node = try! Node(dataDirectory: directory)
        defer { node.close() }
        var nonce: UInt64 = 0
        func send(_ to: Address, _ data: [UInt8]) {
            let tx = Transaction(type: .dynamicFee, chainId: 98, nonce: nonce, maxPriorityFeePerGas: UInt256(2), maxFeePerGas: UInt256(10_000_000_000),
                                 gasLimit: 25_000_000, to: to, data: data).signed(with: key)
            nonce += 1
            _ = try! node.accept(raw: tx.encoded)
            let block = try! node.produceBlock(timestamp: 1_000 + nonce, allowEmpty: true)!
            precondition(block.receipts.last?.success == true, "setup transaction \(nonce) failed")
        }
        let epc = "urn:epc:id:sgtin:0614141.107346.2018"
        send(OrganizationRegistry.address, OrganizationRegistry.Method.register.callData([.string("Bench brand")]))
        send(AssetRegistry.address, AssetRegistry.Method.mint.callData([.uint(UInt256(1)), .string(epc), .address(key.publicKey.address),
                                                                        .fixedBytes(Bytes32.zero), .string("data:application/json,{\"name\":\"Bench item\"}")]))
        // The item's events, 25 per capture: readings with locations, as a cold chain records them.
        for first in stride(from: 0, to: events, by: 25) {
            let list = (first..<min(first + 25, events)).map { i in
                """
                {"type": "ObjectEvent", "eventTime": "2026-11-\(String(format: "%02d", 1 + i / 1440))T\(String(format: "%02d", (i / 60) % 24)):\(String(format: "%02d", i % 60)):00.000Z",
                 "eventTimeZoneOffset": "+00:00", "epcList": ["\(epc)"], "action": "OBSERVE", "bizStep": "inspecting",
                 "bizLocation": {"id": "geo:\(48 + Double(i) / 1000),\(11 + Double(i) / 1000)"},
                 "sensorElementList": [{"sensorReport": [{"type": "gs1:Temperature", "value": \(4 + i % 7), "uom": "CEL"}]}]}
                """
            }.joined(separator: ",")
            let document = """
                {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0",
                 "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [\(list)]}}
                """
            send(ProvenanceRegistry.address, ProvenanceRegistry.Method.capture.callData([.uint(UInt256(1)), .bytes(Array(document.utf8))]))
        }
        let index = try! EPCISIndex(chain: node)
        let dashboard = Dashboard(node: node, index: index)
        let api = PlatformEndpoints(api: EthAPI(node: node), index: index)
        let rpc = EthAPI(node: node).router()
        let token = try! AssetRegistry.tokenId(epc: epc).0
        precondition(((try? index.history(of: token)) ?? []).count == events, "the index holds every event")
        // Load: transfers accepted and sealed into blocks on another thread while pages are rendered.
        let load = BlockLoad(node: node, key: loadKey, chainId: 98)
        Thread.sleep(forTimeInterval: 0.2)
        let runs = quick ? 20 : 200
        func times(_ body: @escaping @Sendable () async -> Int) -> [Double] {
            (0..<runs).map { _ in
                Harness.time {
                    let status = OpsBench.runBlocking { await body() }
                    precondition(status == 200, "answered \(status)")
                }
            }.sorted()
        }
        func page(_ path: String) -> [Double] {
            times { await dashboard.respond(to: HTTPRequest(method: "GET", path: path, headers: [("accept", "text/html")])).status }
        }
        let historyJSON = times { await api.respond(to: HTTPRequest(method: "GET", path: "/api/v1/assets/\(token)/history")).status }
        let latestBlocks = times {
            let head = node.latest.number
            for n in (head - 14)...head {
                let request = RPCRequest(method: "eth_getBlockByNumber", params: RPCParams(.array([.string("0x" + String(n, radix: 16)), .bool(false)])))
                _ = try? await rpc.handle(request, context: .inProcess())
            }
            return 200
        }
        let rows: [(String, [Double], [Double], String)] = [
            ("Asset page of an item with \(events) events (timeline, journey map, sensor chart)", page("/dashboard/assets/\(token)"), historyJSON,
             "the same history as JSON (/api/v1/assets/{id}/history)"),
            ("Consumer page of that item", page("/01/10614141073464/21/2018"), historyJSON, "the same history as JSON (/api/v1/assets/{id}/history)"),
            ("Explorer home (latest 15 blocks)", page("/dashboard"), latestBlocks, "eth_getBlockByNumber of the latest 15 blocks, in process"),
        ]
        let blocks = load.stop()
        for (name, ours, reference, referenceName) in rows {
            section.rows.append(Row(name: "\(name): p50 (p99 \(String(format: "%.1f", OpsBench.percentile(ours, 0.99) * 1000)) ms, reference p99 \(String(format: "%.1f", OpsBench.percentile(reference, 0.99) * 1000)) ms)",
                                    ours: OpsBench.percentile(ours, 0.5) * 1000, unit: "ms", reference: OpsBench.percentile(reference, 0.5) * 1000,
                                    referenceName: referenceName))
        }
        section.notes.append("Rendered in process (no HTTP) while another thread submits 20 transfers per block and seals blocks (\(blocks) blocks during the run); \(runs) renders of each page.")
        return section
    }
}
