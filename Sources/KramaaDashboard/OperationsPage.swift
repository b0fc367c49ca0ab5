import Foundation
import KramaaChain
import KramaaNode

/// What the operations page shows besides the chain itself, gathered by the process that runs
/// the node (its readiness checks, consensus, peers, storage and a few metrics).
public struct OperationsStatus: Sendable {
    public struct Check: Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
        public init(name: String, ok: Bool, detail: String) { (self.name, self.ok, self.detail) = (name, ok, detail) }
    }

    public var ready: Bool
    public var checks: [Check]
    /// Where consensus is ("height 12, round 0, prevote"), nil on a node without consensus.
    public var consensus: String?
    public var peers: Int
    public var storageBytes: Int64
    /// Metrics worth a glance, by name, as the scrape gives them.
    public var metrics: [(name: String, value: String)]

    public init(ready: Bool, checks: [Check], consensus: String?, peers: Int, storageBytes: Int64, metrics: [(name: String, value: String)]) {
        (self.ready, self.checks, self.consensus, self.peers, self.storageBytes, self.metrics) = (ready, checks, consensus, peers, storageBytes, metrics)
    }
}

extension Dashboard {
    /// How many recent blocks the operations charts draw.
    static let operationsWindow: UInt64 = 60

    /// `/dashboard/operations`: readiness, consensus, peers, the pool, storage, block intervals
    /// and transactions per block drawn, and the metrics that matter.
    func operationsPage() async -> Page {
        let status = await operations?()
        let head = node.latest
        let first = head.number >= Self.operationsWindow ? head.number - Self.operationsWindow + 1 : 1
        var headers: [BlockHeader] = []
        var transactions: [Double] = []
        if head.number >= 1 {
            for n in first...head.number {
                guard let block = (try? node.block(number: n)) ?? nil else { continue }
                headers.append(block.header)
                transactions.append(Double(block.transactions.count))
            }
        }
        let intervals = zip(headers, headers.dropFirst()).map { Double($1.timestamp) - Double($0.timestamp) }
        let pool = node.poolCounts
        let readiness: HTML
        if let status {
            let rows = status.checks.map { c -> HTML in
                "<tr><th scope=\"row\">\(c.name)</th><td><span class=\"tag\(c.ok ? "" : " missing")\">\(c.ok ? "ok" : "failing")</span></td><td>\(c.detail)</td></tr>"
            }
            readiness = """
                <p id="ready" class="verdict \(status.ready ? "good" : "bad")" role="status">\(status.ready ? "Ready" : "Not ready")</p>
                <div class="scroll"><table><caption class="sr">Readiness checks, as /readyz reports them</caption><thead><tr><th scope="col">Check</th><th scope="col">State</th><th scope="col">Detail</th></tr></thead><tbody>\(rows)</tbody></table></div>
                """
        } else {
            readiness = "<p class=\"notice\">This node reports no readiness here.</p>"
        }
        let metrics: HTML = (status?.metrics ?? []).isEmpty ? .empty : """
            <h2>Metrics</h2><div class="scroll"><table><caption class="sr">Selected metrics from /metrics</caption><thead><tr><th scope="col">Metric</th><th scope="col">Value</th></tr></thead>
            <tbody>\(status!.metrics.map { "<tr><td class=\"mono\">\($0.name)</td><td>\($0.value)</td></tr>" as HTML })</tbody></table></div>
            """
        let firstLabel = headers.first.map { "block \($0.number)" } ?? "", lastLabel = headers.last.map { "block \($0.number)" } ?? ""
        let main: HTML = """
            <h1>Operations</h1>\(readiness)
            <dl><dt>Head</dt><dd><a href="/dashboard/blocks/\(head.number)">\(head.number)</a> at \(Self.time(head.timestamp))</dd>
            <dt>Consensus</dt><dd>\(status?.consensus ?? "none (a single node makes blocks)")</dd>
            <dt>Peers</dt><dd id="peers">\(status?.peers ?? 0)</dd>
            <dt>Pool</dt><dd id="pool">\(pool.pending) pending, \(pool.queued) queued</dd>
            <dt>Storage</dt><dd>\(Self.bytes(status?.storageBytes ?? 0)) (chain database and its log)</dd></dl>
            <h2>Block interval</h2>\(Chart.bars(intervals, title: "Seconds between the last \(intervals.count + 1) blocks", unit: "s", first: firstLabel, last: lastLabel))
            <h2>Transactions per block</h2>\(Chart.bars(transactions, title: "Transactions in the last \(transactions.count) blocks", unit: "txs", first: firstLabel, last: lastLabel))
            \(metrics)
            """
        return Page(title: "Operations", main: main)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) bytes" : String(format: "%.1f ", value) + units[unit]
    }
}
