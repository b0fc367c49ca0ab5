import Foundation
import KramaaAPI
import KramaaAuth
import KramaaJSON
import KramaaPrimitives
import KramaaRPC
import Testing

/// `/metrics`, `/livez`, `/readyz` over a node: metrics follow blocks, refusals and calls; the
/// probes answer without credentials while `/metrics` is a read the node may close.
@Suite struct OperationsEndpointsTests {
    static func get(_ routes: HTTPRoutes, _ path: String, authorization: String? = nil, remote: String = "10.0.0.9") async -> HTTPResponse {
        let request = HTTPRequest(method: "GET", path: path, headers: authorization.map { [("authorization", $0)] } ?? [], remoteAddress: remote)
        return await routes.endpoint(for: path)!.respond(to: request)
    }

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func metricsFollowBlocksRefusalsAndCalls() async throws {
        let fixture = try APIFixture()
        let metrics = NodeMetrics(node: fixture.node)
        metrics.start()
        defer { metrics.stop() }
        var routes = HTTPRoutes()
        OperationsEndpoints.mount(into: &routes, metrics: metrics, readiness: .init(), access: .developmentLoopback)
        let handler = MeteredRPCHandler(fixture.router, metrics: metrics)
        let pooled = fixture.signed(nonce: 0, to: APIFixture.contract, data: [1]).encoded
        _ = try await handler.handle(RPCRequest(method: "eth_sendRawTransaction", params: RPCParams([.data(pooled)])), context: .inProcess())
        _ = try? await handler.handle(RPCRequest(method: "eth_sendRawTransaction", params: RPCParams([.data(fixture.signed(nonce: 0, to: APIFixture.contract).encoded)])),
                                      context: .inProcess())
        _ = try? await handler.handle(RPCRequest(method: "no_such_method"), context: .inProcess())
        let waiting = Self.text(await Self.get(routes, "/metrics", remote: "127.0.0.1")).split(separator: "\n")
        #expect(waiting.contains { $0 == "kramaa_mempool_bytes \(pooled.count)" || $0 == "kramaa_mempool_bytes \(pooled.count).0" }, "\(waiting)")
        try fixture.seal(1)
        let scraped = await Self.get(routes, "/metrics", remote: "127.0.0.1")
        #expect(scraped.status == 200 && scraped.headers.contains { $0.name == "content-type" && $0.value.hasPrefix("text/plain; version=0.0.4") })
        let text = Self.text(scraped)
        for line in ["kramaa_consensus_height 1", "kramaa_mempool_bytes 0", "ethereum_blockchain_height 1", "kramaa_consensus_num_txs 1", "kramaa_consensus_total_txs 1",
                     #"kramaa_rpc_requests_total{method="eth_sendRawTransaction"} 2"#, #"kramaa_rpc_errors_total{method="eth_sendRawTransaction"} 1"#,
                     #"kramaa_rpc_requests_total{method="other"} 1"#, #"kramaa_mempool_failed_txs_total{reason="replacement_transaction_underpriced"} 1"#] {
            #expect(text.split(separator: "\n").contains { $0 == line || $0.hasPrefix(line + ".") || $0 == line + ".0" }, "\(line) in\n\(text)")
        }
        #expect(!text.contains("no_such_method"))
    }

    @Test func probesAreOpenAndMetricsAreAReadTheNodeMayClose() async throws {
        let fixture = try APIFixture()
        let tokens = TokenStore(directory: fixture.directory)
        let (_, token) = try tokens.create(account: fixture.sender, roles: [.read], label: "prometheus")
        let metrics = NodeMetrics(node: fixture.node)
        var routes = HTTPRoutes()
        OperationsEndpoints.mount(into: &routes, metrics: metrics, readiness: .init(),
                                  access: AccessPolicy(tokens: tokens, openLoopbackWrites: false, closedReads: true))
        #expect(await Self.get(routes, "/metrics").status == 401)
        #expect(await Self.get(routes, "/metrics", authorization: "Bearer \(token)").status == 200)
        #expect(await Self.get(routes, "/livez").status == 200)
        let ready = await Self.get(routes, "/readyz")
        #expect(ready.status == 200)
        let checks = try JSON.parse(ready.body)["checks"]
        #expect(checks?["storage"]?["ok"] == .bool(true) && checks?["synced"]?["ok"] == .bool(true) && checks?["consensus"] == nil)
        // A write is not what these answer.
        let post = await routes.endpoint(for: "/readyz")!.respond(to: HTTPRequest(method: "POST", path: "/readyz", remoteAddress: "10.0.0.9"))
        #expect(post.status == 405)
    }

    @Test func readinessFailsWithTheCheckThatFailed() async throws {
        let fixture = try APIFixture()
        let metrics = NodeMetrics(node: fixture.node)
        metrics.setConsensusSource { ConsensusReport(height: 1, round: 0, step: 0, syncing: true, bestPeerHead: 9, peers: 1, byzantineValidators: 0) }
        var readiness = OperationsEndpoints.Readiness()
        readiness.minPeers = 2
        readiness.validator = true
        var routes = HTTPRoutes()
        OperationsEndpoints.mount(into: &routes, metrics: metrics, readiness: readiness, access: .developmentLoopback)
        let answer = await Self.get(routes, "/readyz")
        #expect(answer.status == 503)
        let checks = try JSON.parse(answer.body)["checks"]
        #expect(checks?["synced"]?["ok"] == .bool(false) && checks?["synced"]?["detail"] == "head 0, best known 9 (at most 2 behind)")
        #expect(checks?["peers"]?["ok"] == .bool(false) && checks?["consensus"]?["ok"] == .bool(true))

        metrics.setConsensusSource { nil }  // the consensus thread does not answer
        let stalled = try JSON.parse(await Self.get(routes, "/readyz").body)["checks"]?["consensus"]
        #expect(stalled?["ok"] == .bool(false))
    }
}
