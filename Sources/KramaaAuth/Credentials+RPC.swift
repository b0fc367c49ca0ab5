import KramaaJSON
import KramaaRPC

extension HTTPRequest {
    /// The request's credentials: its `Authorization` header and its peer.
    public var credentials: Credentials {
        Credentials(authorization: header("authorization"), remoteAddress: remoteAddress)
    }
}

extension RPCContext {
    /// The call's credentials: the HTTP request's (or WebSocket upgrade's) `Authorization`
    /// header and its peer; in-process calls have neither.
    public var credentials: Credentials {
        transport == .inProcess ? .inProcess : Credentials(authorization: authorization, remoteAddress: remoteAddress)
    }
}

extension AccessError: RPCErrorConvertible, HTTPProblemConvertible {
    /// The answer over HTTP: 401 (with `WWW-Authenticate: Bearer`) or 403, as problem+json.
    public var problem: HTTPProblem {
        HTTPProblem(status: httpStatus, detail: description,
                    headers: httpStatus == 401 ? [HTTPHeader("www-authenticate", #"Bearer realm="kramaa""#)] : [])
    }

    public var response: HTTPResponse { problem.response }

    /// The answer over JSON-RPC. geth has no codes for these; Kramaa answers -32401
    /// (unauthenticated) and -32403 (not allowed) so clients can tell them from call errors.
    public var rpcError: RPCError {
        RPCError(code: httpStatus == 401 ? -32401 : -32403, message: description)
    }
}
