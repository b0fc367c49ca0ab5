import Foundation
import KramaaChain
import KramaaConsensus
import KramaaNode
import KramaaPrimitives
import Metrics
import Prometheus

/// Consensus as metrics and readiness see it: a validator's state, mapped by the wiring (the
/// API layer does not depend on the validator runtime).
public struct ConsensusReport: Sendable, Equatable {
    public var height: UInt64
    public var round: Int
    /// 0 propose, 1 prevote, 2 precommit.
    public var step: Int
    public var syncing: Bool
    public var bestPeerHead: UInt64
    public var peers: Int
    public var byzantineValidators: Int

    public init(height: UInt64, round: Int, step: Int, syncing: Bool, bestPeerHead: UInt64, peers: Int, byzantineValidators: Int) {
        (self.height, self.round, self.step, self.syncing) = (height, round, step, syncing)
        (self.bestPeerHead, self.peers, self.byzantineValidators) = (bestPeerHead, peers, byzantineValidators)
    }
}

/// The node's metrics (docs/OPERATIONS.md), in Prometheus' text format at `/metrics`.
///
/// Everything is made through swift-metrics with a swift-prometheus factory over this node's
/// own registry (no global bootstrap: several nodes in one process keep apart). Names follow
/// CometBFT's `consensus_*`, `mempool_*` and `p2p_*` under the `kramaa_` namespace, and
/// EIP-2159's `ethereum_*` where they overlap. Block metrics are updated as blocks arrive;
/// gauges of state (pool, peers, storage, the parts) are read at each scrape.
public final class NodeMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let factory: PrometheusMetricsFactory
    public let node: Node
    private let lock = NSLock()
    private var consensusSource: (@Sendable () -> ConsensusReport?)?
    private var collectors: [@Sendable (NodeMetrics) async -> Void] = []
    private var previousTimestamp: UInt64?
    private var previousRejections: [String: Int] = [:]
    private var previousJournalSyncs = 0
    private var previousPhases: [PhaseClock.Phase: (seconds: Double, runs: Int)] = [:]
    /// Transactions in the blocks seen since start (CometBFT's `total_txs`, a gauge).
    private var transactionsSeen = 0
    private var observer: Int?
    private var counters: [String: Metrics.Counter] = [:]
    private var gauges: [String: Metrics.Gauge] = [:]
    private var timers: [String: Metrics.Timer] = [:]
    private var floatingCounters: [String: FloatingPointCounter] = [:]
    private var recorders: [String: Recorder] = [:]
    /// The last storage probe's write-and-sync time (readiness), reported as a gauge.
    private var lastProbeSeconds: Double?

    public init(node: Node) {
        self.node = node
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.microseconds(250), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                                                   .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                                   .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
        factory.valueHistogramBuckets = ["kramaa_consensus_block_interval_seconds": [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60],
                                         "kramaa_consensus_rounds_per_height": [1, 2, 3, 4, 6, 10]]
        self.factory = factory
    }

    /// Follows new blocks from now on (and records the head at once).
    public func start() {
        block(node.latest, certificate: nil, transactions: nil, receipts: nil)
        observer = node.addObserver { [weak self] event in
            guard case .newBlock(let executed) = event, let self else { return }
            self.block(executed.block.header, certificate: try? self.node.certificate(number: executed.block.header.number),
                       transactions: executed.block.transactions.count, receipts: executed.receipts.last?.cumulativeGasUsed)
        }
    }

    public func stop() { if let observer { node.removeObserver(observer) } }

    /// Where consensus state comes from (a validator's runtime); absent on a single node.
    public func setConsensusSource(_ source: @escaping @Sendable () -> ConsensusReport?) { lock.withLock { consensusSource = source } }

    /// A part's scrape-time update (its own gauges and counters), run at each scrape.
    public func addCollector(_ collector: @escaping @Sendable (NodeMetrics) async -> Void) { lock.withLock { collectors.append(collector) } }

    public var consensus: ConsensusReport? { lock.withLock { consensusSource }?() }

    func recordProbe(_ seconds: Double) { lock.withLock { lastProbeSeconds = seconds } }

    // MARK: Handles (cached: one per name and labels)

    public func counter(_ name: String, _ labels: [(String, String)] = []) -> Metrics.Counter {
        cached(&counters, name, labels) { Metrics.Counter(label: name, dimensions: labels, factory: $0) }
    }

    public func floatingCounter(_ name: String, _ labels: [(String, String)] = []) -> FloatingPointCounter {
        cached(&floatingCounters, name, labels) { FloatingPointCounter(label: name, dimensions: labels, factory: $0) }
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> Metrics.Gauge {
        cached(&gauges, name, labels) { Metrics.Gauge(label: name, dimensions: labels, factory: $0) }
    }

    public func timer(_ name: String, _ labels: [(String, String)] = []) -> Metrics.Timer {
        cached(&timers, name, labels) { Metrics.Timer(label: name, dimensions: labels, factory: $0) }
    }

    func histogram(_ name: String) -> Recorder {
        cached(&recorders, name, []) { Recorder(label: name, dimensions: [], aggregate: true, factory: $0) }
    }

    /// The handle of `name` with `labels` from `cache`, made once.
    private func cached<T>(_ cache: inout [String: T], _ name: String, _ labels: [(String, String)], make: (PrometheusMetricsFactory) -> T) -> T {
        let key = Self.key(name, labels)
        lock.lock()
        defer { lock.unlock() }
        if let handle = cache[key] { return handle }
        let handle = make(factory)
        cache[key] = handle
        return handle
    }

    static func key(_ name: String, _ labels: [(String, String)]) -> String {
        labels.reduce(name) { $0 + "|" + $1.0 + "=" + $1.1 }
    }

    // MARK: Blocks

    private func block(_ header: BlockHeader, certificate: [UInt8]?, transactions: Int?, receipts: UInt64?) {
        gauge("kramaa_consensus_height").record(Int64(header.number))
        gauge("ethereum_blockchain_height").record(Int64(header.number))
        gauge("kramaa_consensus_block_gas_used").record(Int64(header.gasUsed))
        gauge("kramaa_consensus_validators").record(node.validators(forHeight: header.number + 1).count)
        guard let transactions else { return }
        gauge("kramaa_consensus_num_txs").record(transactions)
        let total = lock.withLock { () -> Int in
            transactionsSeen += transactions
            return transactionsSeen
        }
        gauge("kramaa_consensus_total_txs").record(total)
        counter("kramaa_chain_gas_used_total").increment(by: Int(header.gasUsed))
        counter("kramaa_chain_blocks_total").increment()
        let interval: Double? = lock.withLock {
            defer { previousTimestamp = header.timestamp }
            return previousTimestamp.map { Double(header.timestamp &- $0) }
        }
        if let interval { histogram("kramaa_consensus_block_interval_seconds").record(interval) }
        guard let certificate, let decoded = try? CommitCertificate(rlp: certificate) else { return }
        gauge("kramaa_consensus_rounds").record(decoded.round)
        histogram("kramaa_consensus_rounds_per_height").record(decoded.round + 1)
        let signers = Set(decoded.precommits.map(\.validator))
        let missing = node.validators(forHeight: header.number).filter { !signers.contains($0) }
        gauge("kramaa_consensus_missing_validators").record(missing.count)
        for validator in missing { counter("kramaa_consensus_missed_blocks_total", [("validator", validator.checksummed)]).increment() }
    }

    // MARK: Scrape

    /// Updates the gauges of state and returns the registry in Prometheus' text format.
    public func scrape() async -> [UInt8] {
        let head = node.latest.number
        let pool = node.poolCounts
        gauge("kramaa_mempool_size", [("state", "pending")]).record(pool.pending)
        gauge("kramaa_mempool_size", [("state", "queued")]).record(pool.queued)
        gauge("kramaa_mempool_bytes").record(node.poolBytes)
        let rejections = node.rejectionCounts
        let syncs = node.journalSyncs
        let (newRejections, newSyncs) = lock.withLock {
            defer { (previousRejections, previousJournalSyncs) = (rejections, syncs) }
            return (rejections.map { ($0.key, $0.value - previousRejections[$0.key, default: 0]) }, syncs - previousJournalSyncs)
        }
        for (reason, added) in newRejections where added > 0 { counter("kramaa_mempool_failed_txs_total", [("reason", reason)]).increment(by: added) }
        if newSyncs > 0 { counter("kramaa_storage_journal_syncs_total").increment(by: newSyncs) }
        recordPhases()
        gauge("kramaa_storage_database_bytes").record(Self.databaseBytes(in: node.dataDirectory))
        if let probe = lock.withLock({ lastProbeSeconds }) { gauge("kramaa_storage_probe_sync_seconds").record(probe) }
        let report = consensus
        let peers = report?.peers ?? 0
        gauge("kramaa_p2p_peers").record(peers)
        gauge("ethereum_peer_count").record(peers)
        gauge("ethereum_best_known_block_number").record(Int64(max(head, report?.bestPeerHead ?? 0)))
        if let report {
            gauge("kramaa_consensus_current_height").record(Int64(report.height))
            gauge("kramaa_consensus_round").record(report.round)
            gauge("kramaa_consensus_step").record(report.step)
            gauge("kramaa_consensus_syncing").record(report.syncing ? 1 : 0)
            gauge("kramaa_consensus_byzantine_validators").record(report.byzantineValidators)
        }
        for collector in lock.withLock({ collectors }) { await collector(self) }
        return registry.emitToBuffer()
    }

    /// The node's phase clock as counters: seconds and runs per phase since start.
    private func recordPhases() {
        for total in node.phases.totals {
            let labels = [("phase", total.phase.rawValue)]
            let (seconds, runs) = lock.withLock {
                let previous = previousPhases[total.phase] ?? (0, 0)
                previousPhases[total.phase] = (total.seconds, total.runs)
                return (total.seconds - previous.seconds, total.runs - previous.runs)
            }
            floatingCounter("kramaa_node_phase_seconds_total", labels).increment(by: seconds)
            counter("kramaa_node_phase_runs_total", labels).increment(by: runs)
        }
    }

    /// Bytes of the chain database (`chain.sqlite` with its write-ahead log).
    public static func databaseBytes(in directory: URL) -> Int64 {
        ["chain.sqlite", "chain.sqlite-wal"].reduce(Int64(0)) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? Int64) ?? 0)
        }
    }
}
