import KramaaAPI
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

extension ConsensusReport {
    init(_ status: ValidatorStatus) {
        let step = ["propose": 0, "prevote": 1, "precommit": 2][status.step] ?? -1
        self.init(height: status.height, round: status.round, step: step, syncing: status.syncing, bestPeerHead: status.bestPeerHead,
                  peers: status.peers, byzantineValidators: status.byzantineValidators)
    }
}
