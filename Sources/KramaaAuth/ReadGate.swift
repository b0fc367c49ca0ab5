import KramaaJSON
import KramaaRPC

/// A JSON-RPC handler whose calls need the `read` role when the node closes reads; the
/// methods that sign check their own role (`sign`) besides.
public struct ReadGatedHandler<Inner: RPCHandler>: RPCHandler {
    public let inner: Inner
    public let access: AccessPolicy

    public init(_ inner: Inner, access: AccessPolicy) {
        self.inner = inner
        self.access = access
    }

    public func handle(_ request: RPCRequest, context: RPCContext) async throws -> JSON {
        try await respond(to: request, context: context).json()
    }

    public func respond(to request: RPCRequest, context: RPCContext) async throws -> RPCResult {
        try access.authorizeRead(context.credentials)
        return try await inner.respond(to: request, context: context)
    }

    /// Passed on only for a caller its calls would admit: no work ahead for refused ones.
    public func prepare(batch: [RPCRequest], context: RPCContext) async {
        guard (try? access.authorizeRead(context.credentials)) != nil else { return }
        await inner.prepare(batch: batch, context: context)
    }
}

/// An HTTP endpoint whose GET and HEAD requests need the `read` role when the node closes
/// reads; its writes check their own roles.
public struct ReadGatedEndpoint: HTTPEndpoint {
    public let inner: any HTTPEndpoint
    public let access: AccessPolicy

    public init(_ inner: any HTTPEndpoint, access: AccessPolicy) {
        self.inner = inner
        self.access = access
    }

    public var acceptedBodyTypes: Set<String> { inner.acceptedBodyTypes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        if request.method == "GET" || request.method == "HEAD" {
            do { try access.authorizeRead(request.credentials) } catch { return error.response }
        }
        return await inner.respond(to: request)
    }
}
