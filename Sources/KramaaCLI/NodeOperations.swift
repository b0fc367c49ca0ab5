import KramaaAPI
import KramaaAnchoring
import KramaaJSON
import KramaaMessagingService
import KramaaPrivateData
import KramaaValidator

/// The parts' own metrics (docs/OPERATIONS.md).
extension NodeRunner {
    /// Scrape-time gauges of the parts: the file store, the private data held, the MQTT broker.
    static func collectParts(into metrics: NodeMetrics, files: NodeFiles, privateData: PrivateDataService?, messaging: MessagingService?) {
        let store = files.store
        metrics.addCollector { m in
            m.gauge("kramaa_files_stored_bytes").record(Int64(store.quota - store.room))
            m.gauge("kramaa_files_pins").record(store.pinned.count)
        }
        if let privateData {
            metrics.addCollector { m in m.gauge("kramaa_private_data_items").record(privateData.store.all().count) }
        }
        if let server = messaging?.server {
            metrics.addCollector { m in
                guard let counts = await server.withBroker({ ($0.connectionCount, $0.sessionCount, $0.subscriptionCount, $0.retainedCount) }) else { return }
                m.gauge("kramaa_mqtt_connections").record(counts.0)
                m.gauge("kramaa_mqtt_sessions").record(counts.1)
                m.gauge("kramaa_mqtt_subscriptions").record(counts.2)
                m.gauge("kramaa_mqtt_retained_messages").record(counts.3)
            }
        }
    }
}

extension NodeRunner {
    /// Scrape-time gauges of the node's relayers, per parent chain: the latest anchored block, the
    /// backlog, the relayer account's balance and whether its last attempt failed.
    static func collectAnchoring(into metrics: NodeMetrics, _ relayers: AnchorRelayers) {
        metrics.addCollector { m in
            for entry in relayers.status().arrayValue ?? [] {
                let labels = [("chain", entry["label"]?.stringValue ?? "?")]
                func number(_ key: String) -> Double? {
                    entry[key]?.numberValue.flatMap { Double($0.description) } ?? entry[key]?.stringValue.flatMap(Double.init)
                }
                if let latest = number("latestAnchored") { m.gauge("kramaa_anchor_latest_anchored_block", labels).record(latest) }
                if let backlog = number("backlog") { m.gauge("kramaa_anchor_backlog_blocks", labels).record(backlog) }
                if let balance = number("parentBalance") { m.gauge("kramaa_anchor_parent_balance_wei", labels).record(balance) }
                m.gauge("kramaa_anchor_failing", labels).record(entry["lastError"]?.isNull == false ? 1 : 0)
            }
        }
    }
}

extension ConsensusReport {
    init(_ status: ValidatorStatus) {
        let step = ["propose": 0, "prevote": 1, "precommit": 2][status.step] ?? -1
        self.init(height: status.height, round: status.round, step: step, syncing: status.syncing, bestPeerHead: status.bestPeerHead,
                  peers: status.peers, byzantineValidators: status.byzantineValidators)
    }
}
