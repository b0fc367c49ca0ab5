import Foundation
import KramaaJSON
import KramaaRPC

/// JSON-RPC calls counted and timed by method (`kramaa_rpc_requests_total`,
/// `kramaa_rpc_errors_total`, `kramaa_rpc_request_duration_seconds`). Methods the node does not
/// serve are counted under `other`, so a client cannot grow the label set.
public struct MeteredRPCHandler<Inner: RPCHandler>: RPCHandler {
    public let inner: Inner
    public let metrics: NodeMetrics

    public init(_ inner: Inner, metrics: NodeMetrics) {
        self.inner = inner
        self.metrics = metrics
    }

    public func handle(_ request: RPCRequest, context: RPCContext) async throws -> JSON {
        try await respond(to: request, context: context).json()
    }

    public func respond(to request: RPCRequest, context: RPCContext) async throws -> RPCResult {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let result = try await inner.respond(to: request, context: context)
            record(request.method, failed: false, since: start)
            return result
        } catch {
            let unknown = (error as? RPCError)?.code == RPCError.methodNotFound(request.method).code
            record(unknown ? "other" : request.method, failed: true, since: start)
            throw error
        }
    }

    public func prepare(batch: [RPCRequest], context: RPCContext) async {
        await inner.prepare(batch: batch, context: context)
    }

    private func record(_ method: String, failed: Bool, since start: UInt64) {
        let labels = [("method", method)]
        metrics.counter("kramaa_rpc_requests_total", labels).increment()
        if failed { metrics.counter("kramaa_rpc_errors_total", labels).increment() }
        metrics.timer("kramaa_rpc_request_duration_seconds", labels).recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
    }
}

/// An HTTP interface counted and timed by route (its mount point), method and status class
/// (`kramaa_http_requests_total`, `kramaa_http_request_duration_seconds`).
public struct MeteredEndpoint: HTTPEndpoint {
    public let route: String
    public let inner: any HTTPEndpoint
    public let metrics: NodeMetrics

    public init(route: String, _ inner: any HTTPEndpoint, metrics: NodeMetrics) {
        self.route = route
        self.inner = inner
        self.metrics = metrics
    }

    public var acceptedBodyTypes: Set<String> { inner.acceptedBodyTypes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        let response = await inner.respond(to: request)
        let method = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"].contains(request.method) ? request.method : "other"
        metrics.counter("kramaa_http_requests_total", [("route", route), ("method", method), ("status", "\(response.status / 100)xx")]).increment()
        metrics.timer("kramaa_http_request_duration_seconds", [("route", route), ("method", method)])
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        return response
    }
}

extension HTTPRoutes {
    /// Every mounted interface wrapped to be counted and timed under its mount point.
    public func metered(by metrics: NodeMetrics) -> HTTPRoutes {
        var out = HTTPRoutes()
        for (prefix, endpoint) in prefixes { out.mount(prefix, MeteredEndpoint(route: prefix, endpoint, metrics: metrics)) }
        out.streams = streams
        return out
    }
}
