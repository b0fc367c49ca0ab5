import Foundation
import KramaaAuth
import KramaaJSON
import KramaaRPC

/// `/metrics`, `/livez` and `/readyz` (docs/OPERATIONS.md): what an operator's monitoring reads.
///
/// - `/metrics`: the node's metrics in Prometheus' text format (``NodeMetrics``).
/// - `/livez`: 200 while the process serves HTTP (a liveness probe restarts a node that stops).
/// - `/readyz`: 200 when the node is ready for traffic, 503 otherwise, with each check:
///   `synced` (the head within `maxLag` blocks of the best head a peer told of), `peers` (at
///   least `minPeers` connected), `consensus` (a validator's consensus thread answers) and
///   `storage` (a probe file in the data directory is written, synced and removed).
public struct OperationsEndpoints: HTTPEndpoint {
    public static let metricsPath = "/metrics", livePath = "/livez", readyPath = "/readyz"

    /// What ready means.
    public struct Readiness: Sendable {
        /// Blocks the head may be behind the best head a peer told of.
        public var maxLag: UInt64 = 2
        /// Peers that must be connected (a validator of a network: 1 or more).
        public var minPeers = 0
        /// Whether consensus must answer (a validator).
        public var validator = false
        public init() {}
    }

    let metrics: NodeMetrics
    let readiness: Readiness

    /// Mounts the three: `/metrics` read-gated like every other read (a node that closes reads
    /// wants a token for it), the probes open (they carry no token).
    public static func mount(into routes: inout HTTPRoutes, metrics: NodeMetrics, readiness: Readiness, access: AccessPolicy) {
        let operations = OperationsEndpoints(metrics: metrics, readiness: readiness)
        routes.mount(metricsPath, ReadGatedEndpoint(operations, access: access))
        routes.mount(livePath, operations)
        routes.mount(readyPath, operations)
    }

    public init(metrics: NodeMetrics, readiness: Readiness) {
        self.metrics = metrics
        self.readiness = readiness
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return HTTPProblem(status: 405, title: "Method not allowed", detail: "\(request.path) answers GET only").response
        }
        switch request.path {
        case Self.metricsPath:
            return HTTPResponse(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body: await metrics.scrape())
        case Self.livePath:
            return .json(["status": "live", "head": .number(JSONNumber(metrics.node.latest.number))])
        case Self.readyPath:
            let (ready, checks) = check()
            return .json(["ready": .bool(ready), "checks": .object(checks)], status: ready ? 200 : 503)
        default:
            return HTTPProblem.notFound("no such path: \(request.path)").response
        }
    }

    /// Each check with its finding; ready when all pass.
    func check() -> (Bool, JSONObject) {
        let (ready, checks) = readinessChecks()
        var object = JSONObject()
        for c in checks { object[c.name] = ["ok": .bool(c.ok), "detail": .string(c.detail)] }
        return (ready, object)
    }

    /// What `/readyz` checks, in order, with each finding; ready when all pass.
    public func readinessChecks() -> (ready: Bool, checks: [(name: String, ok: Bool, detail: String)]) {
        var checks: [(name: String, ok: Bool, detail: String)] = [], ready = true
        func add(_ name: String, _ ok: Bool, _ detail: String) {
            checks.append((name, ok, detail))
            ready = ready && ok
        }
        let head = metrics.node.latest.number
        let report = metrics.consensus
        if readiness.validator {
            add("consensus", report != nil, report.map { "deciding height \($0.height), round \($0.round)" } ?? "the consensus thread did not answer within 1 s")
        }
        let best = max(head, report?.bestPeerHead ?? 0)
        add("synced", best - head <= readiness.maxLag, "head \(head), best known \(best) (at most \(readiness.maxLag) behind)")
        let peers = report?.peers ?? 0
        add("peers", peers >= readiness.minPeers, "\(peers) connected (at least \(readiness.minPeers))")
        switch Self.probeStorage(metrics.node.dataDirectory) {
        case .success(let seconds):
            metrics.recordProbe(seconds)
            add("storage", true, String(format: "probe written and synced in %.1f ms", seconds * 1000))
        case .failure(let reason):
            add("storage", false, reason.description)
        }
        return (ready, checks)
    }

    struct ProbeFailure: Error, CustomStringConvertible { let description: String }

    /// Writes, syncs and removes a small file in `directory`; the seconds it took.
    static func probeStorage(_ directory: URL) -> Result<Double, ProbeFailure> {
        let path = directory.appendingPathComponent(".ready-probe").path
        let start = DispatchTime.now().uptimeNanoseconds
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(ProbeFailure(description: "cannot create \(path): \(String(cString: strerror(errno)))")) }
        defer { unlink(path) }
        let wrote = [UInt8](repeating: 0x6b, count: 64).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard wrote == 64, synced == 0 else { return .failure(ProbeFailure(description: "cannot write and sync \(path): \(String(cString: strerror(errno)))")) }
        return .success(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
