import Foundation
import KramaaAPI
import KramaaAuth
import KramaaDashboard
import KramaaEPCISIndex
import KramaaJSON
import KramaaMessagingService
import KramaaRPC
import KramaaTags

extension NodeRunner {
    /// Mounts the dashboard (docs/DASHBOARD.md): the explorer under `/dashboard` (and browsers'
    /// `GET /`) behind the read gate like the other reads, and the consumer page at GS1 Digital
    /// Link paths, open like `/verify` (without the journey when reads are closed).
    func mountDashboard(into routes: inout HTTPRoutes, api: EthAPI, index: EPCISIndex, anchors: (any AnchorDirectory)?, activity: DeviceActivity?, metrics: NodeMetrics?,
                        verifyTap: @escaping @Sendable (String) async -> Verification?) {
        var dashboard = Dashboard(node: node, index: index) { number in anchors?.anchors(of: number).map(\.summary) ?? [] }
        dashboard.verifyTap = verifyTap
        if let activity {
            dashboard.deviceActivitySince = activity.since
            dashboard.deviceActivity = { device in
                activity.record(of: device).map { DeviceSeen(connections: $0.connections, messages: $0.messages, lastConnected: $0.lastConnected, lastMessage: $0.lastMessage) }
            }
        }
        if let watch = anchors as? ParentChainWatch {
            // Built on a thread of its own: it blocks on the parents' JSON-RPC and on the node's
            // own methods called in process.
            let rpc = InProcessRPC(dispatcher: RPCDispatcher(handler: api.router()))
            dashboard.anchorReceipt = { transaction, log, event in
                try await withCheckedThrowingContinuation { continuation in
                    Thread.detachNewThread {
                        continuation.resume(with: Result {
                            let bundle = try watch.receipt(transaction: transaction, log: log, event: event, rpc: rpc)
                            return String(decoding: JSON.object(bundle).serialized(), as: UTF8.self)
                        })
                    }
                }
            }
        }
        if let metrics { dashboard.operations = Self.operationsStatus(metrics: metrics, readiness: readiness) }
        dashboard.consumerJourney = !closedReads  // closed reads: the open consumer page shows no history
        routes.mount(Dashboard.prefix, ReadGatedEndpoint(dashboard, access: api.access))
        routes.mount(Dashboard.digitalLinkPrefix, dashboard)
    }

    /// The metrics the operations page lists (every series of each).
    static let glanceMetrics: Set<String> = [
        "kramaa_consensus_missing_validators", "kramaa_consensus_byzantine_validators", "kramaa_consensus_rounds",
        "kramaa_mempool_size", "kramaa_mempool_failed_txs_total", "kramaa_chain_blocks_total", "kramaa_consensus_total_txs",
        "kramaa_storage_journal_syncs_total", "kramaa_storage_probe_sync_seconds", "kramaa_epcis_indexed_events",
        "kramaa_tag_verifications_total", "kramaa_tags_registered", "kramaa_files_pins", "kramaa_private_data_items",
        "kramaa_mqtt_connections", "kramaa_anchor_backlog_blocks", "kramaa_anchor_failing",
    ]

    /// The operations page's view of this node: `/readyz`'s checks, consensus, peers, storage and
    /// the glance metrics from a scrape.
    static func operationsStatus(metrics: NodeMetrics, readiness: OperationsEndpoints.Readiness) -> @Sendable () async -> OperationsStatus {
        let endpoints = OperationsEndpoints(metrics: metrics, readiness: readiness)
        return {
            let (ready, checks) = endpoints.readinessChecks()
            let report = metrics.consensus
            let steps = ["propose", "prevote", "precommit"]
            let consensus = report.map { "height \($0.height), round \($0.round), \(steps[min(max($0.step, 0), 2)])\($0.syncing ? ", syncing from peers" : "")" }
            let scraped = String(decoding: await metrics.scrape(), as: UTF8.self)
            var lines: [(name: String, value: String)] = []
            for line in scraped.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                let series = line[..<space], name = series.prefix { $0 != "{" && $0 != " " }
                guard glanceMetrics.contains(String(name)), lines.count < 60 else { continue }
                lines.append((String(series), String(line[line.index(after: space)...])))
            }
            return OperationsStatus(ready: ready, checks: checks.map { OperationsStatus.Check(name: $0.name, ok: $0.ok, detail: $0.detail) },
                                    consensus: consensus, peers: report?.peers ?? 0,
                                    storageBytes: NodeMetrics.databaseBytes(in: metrics.node.dataDirectory), metrics: lines)
        }
    }
}
