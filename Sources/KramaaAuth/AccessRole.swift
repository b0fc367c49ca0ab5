import Foundation
import KramaaPrimitives

/// What a caller may do through the node's write interfaces. A token grants a set of roles;
/// each write interface asks for one. Reads need none unless the operator closes them.
///
/// New interfaces (messaging, file sharing) add their roles here, so one token file and one
/// check serve every interface of the node.
public enum AccessRole: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Reads (JSON-RPC, REST and EPCIS queries) on a node whose operator closed them
    /// (`--closed-reads`); reads are open otherwise. Tag verification stays open to consumers.
    case read
    /// REST writes under `/api/v1`: organisations, members, devices, assets.
    case platform
    /// EPCIS 2.0 capture (`POST /epcis/capture`).
    case epcis
    /// Tag registration (`POST /api/v1/tags`): SDM keys into the node's tag store.
    case tags
    /// JSON-RPC methods that sign with keys the node holds (`eth_sendTransaction`,
    /// `eth_signTransaction`, `eth_sign`, `personal_sign`).
    case sign
    /// File sharing writes under `/api/v1/files`: uploads, pins, garbage collection.
    case files
    /// Node administration: the debug API (`debug_*`, when `--debug-api` serves it), which can
    /// make the node work hard, and administrative endpoints.
    case admin

    /// What the role allows, for `kramaa token` and error messages.
    public var summary: String {
        switch self {
        case .read: "reads on a node that closes them (JSON-RPC, REST, EPCIS queries)"
        case .platform: "REST writes under /api/v1 (organisations, devices, assets)"
        case .epcis: "EPCIS capture (/epcis/capture)"
        case .tags: "tag registration (/api/v1/tags)"
        case .sign: "JSON-RPC signing with keys the node holds (eth_sendTransaction, eth_sign, personal_sign)"
        case .files: "file sharing writes (/api/v1/files: uploads, pins, garbage collection)"
        case .admin: "node administration (debug API)"
        }
    }

    /// Every role but `admin`: what `kramaa token create` grants unless told otherwise.
    public static let defaultGrant: Set<AccessRole> = Set(allCases.filter { $0 != .admin })

    public static func < (a: AccessRole, b: AccessRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses `platform,epcis` or `all` (every role, admin included).
    public static func parseList(_ text: String) throws(AccessError) -> Set<AccessRole> {
        var roles = Set<AccessRole>()
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if part == "all" { roles.formUnion(allCases); continue }
            guard let role = AccessRole(rawValue: part) else {
                throw .invalidRequest("unknown role '\(part)'; roles are \(allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            roles.insert(role)
        }
        guard !roles.isEmpty else { throw .invalidRequest("no roles given; roles are \(allCases.map(\.rawValue).joined(separator: ", "))") }
        return roles
    }
}

/// Who made a request, as the access policy established it.
public struct Caller: Sendable, Equatable {
    /// How the caller was let in.
    public enum Origin: Sendable, Equatable {
        /// A bearer token (its id).
        case token(String)
        /// No credentials, from loopback, on a node that keeps loopback writes open (the devnet).
        case openLoopback
        /// Called in the node's own process (tests, embedded clients).
        case inProcess
    }

    /// The account the caller acts as; nil when it may act as any account the node holds
    /// (open loopback, in-process).
    public let account: Address?
    public let roles: Set<AccessRole>
    public let origin: Origin

    public init(account: Address?, roles: Set<AccessRole>, origin: Origin) {
        self.account = account
        self.roles = roles
        self.origin = origin
    }

    /// The account a write acts as: `requested` (a `from` field) when given and allowed, else
    /// the caller's own. Throws when the token is bound to another account, or when neither
    /// names one.
    public func actingAccount(_ requested: Address?) throws(AccessError) -> Address {
        switch (account, requested) {
        case (let bound?, nil): return bound
        case (let bound?, let asked?):
            guard bound == asked else { throw .accountNotBound(requested: asked, bound: bound) }
            return asked
        case (nil, let asked?): return asked
        case (nil, nil): throw .invalidRequest("name the account to act as (\"from\"); this caller is not bound to one")
        }
    }
}
