import KramaaAuth
import KramaaPlatform
import KramaaPrimitives

/// Who may register which tag, checked against the chain before any key is stored:
///
/// - the organisation must exist, and the acting account must hold a role in it that may
///   register tags (admin or manufacturer: the roles that mint and commission assets);
/// - a UID bound on chain to an asset may be registered only by the organisation that minted
///   that asset, so nobody can register their own keys for someone else's tag.
///
/// Verification applies the second rule again (`TagVerifier`): a registration that does not
/// belong to the bound asset's organisation never yields a genuine verdict.
public struct TagRegistrationPolicy: Sendable {
    /// The roles that may register an organisation's tags.
    public static let registeringRoles: OrganizationRoles = [.admin, .manufacturer]

    public let assets: any AssetDirectory

    public init(assets: any AssetDirectory) {
        self.assets = assets
    }

    public func check(_ registration: TagRegistration, by caller: Caller, requested: Address?) throws(AccessError) {
        let org = registration.organisation
        guard let name = assets.organizationName(org) else {
            throw .invalidRequest("organisation \(org) does not exist on chain; register it first (`kramaa org create`)")
        }
        let account = try caller.actingAccount(requested)
        let roles = OrganizationRoles(rawValue: assets.roles(of: account, in: org))
        guard !roles.isDisjoint(with: Self.registeringRoles) else {
            throw .forbidden("\(account) holds no role in organisation \(org) (\(name)) that may register tags; an admin grants manufacturer (`kramaa org member \(org) \(account) --roles manufacturer`)")
        }
        if let bound = assets.asset(boundTo: registration.uid), bound.organisation != org {
            throw .forbidden("tag \(registration.uid) is bound on chain to asset \(bound.epc) of organisation \(bound.organisation); only that organisation may register its keys")
        }
    }
}
