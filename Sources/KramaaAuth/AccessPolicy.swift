import KramaaPrimitives

/// What a request carries that the policy judges: its `Authorization` header and where it
/// came from.
public struct Credentials: Sendable {
    /// The `Authorization` header as sent (`Bearer kramaa_…`), nil without one.
    public var authorization: String?
    /// `127.0.0.1:53122` or `[::1]:53122`; nil for a call in the node's own process.
    public var remoteAddress: String?

    public init(authorization: String?, remoteAddress: String?) {
        self.authorization = authorization
        self.remoteAddress = remoteAddress
    }

    /// A call made in the node's own process (no transport).
    public static let inProcess = Credentials(authorization: nil, remoteAddress: nil)

    /// Whether the peer is this machine (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        guard let remote = remoteAddress else { return false }
        if remote.hasPrefix("[::1]:") || remote.hasPrefix("[::ffff:127.") { return true }
        return remote.hasPrefix("127.")
    }
}

/// The one check every write interface makes (REST, EPCIS capture, tag registration, JSON-RPC
/// signing, and the interfaces to come): who is calling, and may they use this role.
///
/// - A request with an `Authorization` header is judged by its token, wherever it comes from.
/// - A request without one is refused (401), unless it comes from loopback on a node that
///   keeps loopback writes open (the devnet says so at start), or from the node's own process.
public struct AccessPolicy: Sendable {
    /// The node's tokens; nil: no token is valid (only open loopback or in-process calls pass).
    public let tokens: TokenStore?
    /// Loopback callers without credentials may write as any account the node holds.
    public let openLoopbackWrites: Bool
    /// Reads need a token with the `read` role too (the operator closed them).
    public let closedReads: Bool

    public init(tokens: TokenStore?, openLoopbackWrites: Bool, closedReads: Bool = false) {
        self.tokens = tokens
        self.openLoopbackWrites = openLoopbackWrites
        self.closedReads = closedReads
    }

    /// Lets a read through: always when reads are open, else with the `read` role.
    public func authorizeRead(_ credentials: Credentials) throws(AccessError) {
        guard closedReads else { return }
        _ = try authorize(credentials, for: .read)
    }

    /// No tokens, loopback open: a development node (tests that serve over loopback).
    public static let developmentLoopback = AccessPolicy(tokens: nil, openLoopbackWrites: true)
    /// No tokens, nothing open: only in-process calls pass.
    public static let closed = AccessPolicy(tokens: nil, openLoopbackWrites: false)

    /// The caller, if it may use `role`; otherwise the reason (401 or 403).
    public func authorize(_ credentials: Credentials, for role: AccessRole) throws(AccessError) -> Caller {
        guard let header = credentials.authorization else {
            if credentials.remoteAddress == nil { return Caller(account: nil, roles: Set(AccessRole.allCases), origin: .inProcess) }
            if openLoopbackWrites && credentials.isLoopback {
                return Caller(account: nil, roles: Set(AccessRole.allCases), origin: .openLoopback)
            }
            throw .credentialsRequired(role)
        }
        let token = try BearerToken(parsing: try Self.bearer(header))
        guard let tokens else { throw .unknownToken }
        let record = try tokens.authenticate(token)
        guard record.roles.contains(role) else { throw .roleNotGranted(role, tokenID: record.id) }
        return Caller(account: record.account, roles: record.roles, origin: .token(record.id))
    }

    /// The token text of `Bearer <token>` (scheme case-insensitive, RFC 7235).
    static func bearer(_ header: String) throws(AccessError) -> String {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .malformedCredentials("the Authorization header must use the Bearer scheme")
        }
        var token = parts[1][...]
        while token.last?.isWhitespace == true { token.removeLast() }
        return String(token)
    }
}
