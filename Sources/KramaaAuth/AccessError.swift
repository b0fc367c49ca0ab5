import KramaaPrimitives

/// Why a request was not let through, with the HTTP status it is answered with and a text
/// that tells the caller what to do.
public enum AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No credentials on a write that needs them (401).
    case credentialsRequired(AccessRole)
    /// The Authorization header is not `Bearer <token>` or the token is not a Kramaa token (401).
    case malformedCredentials(String)
    /// No token with this id, or the secret does not match (401). One case for both, so a
    /// caller cannot probe which ids exist.
    case unknownToken
    /// The token was revoked (401).
    case revoked(id: String)
    /// The token does not grant the role this interface needs (403).
    case roleNotGranted(AccessRole, tokenID: String)
    /// The request acts as an account the token is not bound to (403).
    case accountNotBound(requested: Address, bound: Address)
    /// The caller is authenticated but may not do this (403): the text says why.
    case forbidden(String)
    /// A request to the token store that cannot be carried out (bad role, unknown id).
    case invalidRequest(String)
    /// The token file could not be read or written.
    case storage(String)

    /// 401, 403, 400 or 500.
    public var httpStatus: Int {
        switch self {
        case .credentialsRequired, .malformedCredentials, .unknownToken, .revoked: 401
        case .roleNotGranted, .accountNotBound, .forbidden: 403
        case .invalidRequest: 400
        case .storage: 500
        }
    }

    public var description: String {
        switch self {
        case .credentialsRequired(let role):
            return "this \(role == .read ? "read" : role == .admin ? "call" : "write") needs a bearer token with the '\(role.rawValue)' role: send `Authorization: Bearer <token>` (kramaa CLI: --token or KRAMAA_TOKEN; the node's operator creates one with `kramaa token create`)"
        case .malformedCredentials(let why):
            return "malformed credentials: \(why); send `Authorization: Bearer kramaa_<id>_<secret>`"
        case .unknownToken:
            return "the bearer token is not valid on this node (unknown, or its secret does not match); ask the node's operator for a token (`kramaa token create`)"
        case .revoked(let id):
            return "the bearer token \(id) was revoked; ask the node's operator for a new one"
        case .roleNotGranted(let role, let id):
            return "token \(id) does not grant the '\(role.rawValue)' role (\(role.summary)); create a token with it (`kramaa token create --roles \(role.rawValue)`)"
        case .accountNotBound(let requested, let bound):
            return "this token acts as \(bound) only, not as \(requested); leave \"from\" out or use a token bound to \(requested)"
        case .forbidden(let why):
            return why
        case .invalidRequest(let why):
            return why
        case .storage(let why):
            return "token store: \(why)"
        }
    }
}
