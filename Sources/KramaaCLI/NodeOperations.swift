import KramaaAPI
import KramaaPrivateData
import KramaaValidator

/// The parts' own metrics (docs/OPERATIONS.md).
extension NodeRunner {
    /// Scrape-time gauges of the file store and the private data held.
    static func collectParts(into metrics: NodeMetrics, files: NodeFiles, privateData: PrivateDataService?) {
        let store = files.store
        metrics.addCollector { m in
            m.gauge("kramaa_files_stored_bytes").record(Int64(store.quota - store.room))
            m.gauge("kramaa_files_pins").record(store.pinned.count)
        }
        if let privateData {
            metrics.addCollector { m in m.gauge("kramaa_private_data_items").record(privateData.store.all().count) }
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
