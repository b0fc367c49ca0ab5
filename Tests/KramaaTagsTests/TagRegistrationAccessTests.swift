import Foundation
import KramaaAuth
import KramaaJSON
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
import KramaaTags
import KramaaTestSupport
import Testing

/// Who may register a tag: authenticated callers holding a registering role in an existing
/// organisation, and for a UID bound on chain only the organisation that minted its asset.
/// Every refusal leaves the tag store as it was.
@Suite(.serialized) struct TagRegistrationAccessTests {
    static let uid = TagEndpointTests.an12196.uid
    static let stranger = try! Address(hex: "0x00000000000000000000000000000000000000B2")

    static func body(organisation: UInt64, from: Address? = FixedAssets.manufacturer) -> String {
        let fromField = from.map { #","from":"\#($0)""# } ?? ""
        return #"{"uid":"\#(uid)","mode":"aes","metaReadKey":"00000000000000000000000000000000","fileReadKey":"00000000000000000000000000000000","macInputStart":"empty","organization":\#(organisation)\#(fromField)}"#
    }

    /// Organisation 1 minted the asset the tag is bound to; organisation 4 is another brand.
    static func chain() throws -> FixedAssets {
        var assets = FixedAssets()
        assets.byTag[try TagUID(hex: uid)] = try FixedAssets.summary(epc: "urn:epc:id:sgtin:0614141.107346.2017", organisation: 1)
        assets.rolesIn[1] = [FixedAssets.manufacturer: OrganizationRoles.manufacturer.rawValue]
        assets.rolesIn[4] = [stranger: OrganizationRoles.manufacturer.rawValue]
        return assets
    }

    @Test func writesWithoutATokenAreRefusedOnANodeThatIsNotOpen() async throws {
        let dir = try TemporaryDirectory()
        let tokens = TokenStore(directory: dir.url)
        let (_, token) = try tokens.create(account: FixedAssets.manufacturer, roles: [.tags], label: "factory")
        let (_, wrongRole) = try tokens.create(account: FixedAssets.manufacturer, roles: [.platform], label: "erp")
        let server = try await TagServer(assets: try Self.chain(), directory: dir, access: AccessPolicy(tokens: tokens, openLoopbackWrites: false))
        let anonymous = try await server.post("/api/v1/tags", Self.body(organisation: 1))
        #expect(anonymous.status == 401, "\(anonymous.text)")
        #expect(anonymous.headers["content-type"] == "application/problem+json")
        #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        let forged = try await server.post("/api/v1/tags", Self.body(organisation: 1),
                                           headers: ["Authorization": "Bearer kramaa_" + String(repeating: "1", count: 16) + "_" + String(repeating: "2", count: 64)])
        #expect(forged.status == 401)
        let notGranted = try await server.post("/api/v1/tags", Self.body(organisation: 1), headers: ["Authorization": "Bearer \(wrongRole)"])
        #expect(notGranted.status == 403 && notGranted.text.contains("'tags'"), "\(notGranted.text)")
        #expect(server.store.count == 0)
        // The token acts as its own account: naming another is refused, leaving it out works.
        let asOther = try await server.post("/api/v1/tags", Self.body(organisation: 1, from: Self.stranger), headers: ["Authorization": "Bearer \(token)"])
        #expect(asOther.status == 403, "\(asOther.text)")
        #expect(server.store.count == 0)
        let created = try await server.post("/api/v1/tags", Self.body(organisation: 1, from: nil), headers: ["Authorization": "Bearer \(token)"])
        #expect(created.status == 201, "\(created.text)")
        #expect(server.store.count == 1)
        await server.stop()
    }

    @Test func theOrganisationMustExistAndTheCallerHoldARegisteringRoleInIt() async throws {
        let server = try await TagServer(assets: try Self.chain())
        let missing = try await server.post("/api/v1/tags", Self.body(organisation: 77))
        #expect(missing.status == 400 && missing.text.contains("organisation 77 does not exist"), "\(missing.text)")
        // The stranger manufactures for organisation 4, not for 1.
        let noRole = try await server.post("/api/v1/tags", Self.body(organisation: 1, from: Self.stranger))
        #expect(noRole.status == 403 && noRole.text.contains("no role"), "\(noRole.text)")
        #expect(server.store.count == 0)
    }

    @Test func aUIDBoundToAnotherOrganisationsAssetCannotBeRegistered() async throws {
        let server = try await TagServer(assets: try Self.chain())
        let hijack = try await server.post("/api/v1/tags", Self.body(organisation: 4, from: Self.stranger))
        #expect(hijack.status == 403, "\(hijack.text)")
        #expect(hijack.text.contains("bound on chain") && hijack.text.contains("organisation 1"), "\(hijack.text)")
        #expect(server.store.count == 0)
        // Its owner registers it; the other organisation is then told who holds it.
        #expect(try await server.post("/api/v1/tags", Self.body(organisation: 1)).status == 201)
        var unbound = try Self.chain()
        unbound.byTag = [:]
        let other = try await TagServer(assets: unbound, directory: server.directory)
        let taken = try await other.post("/api/v1/tags", Self.body(organisation: 4, from: Self.stranger))
        #expect(taken.status == 409 && taken.text.contains("registered by organisation 1"), "\(taken.text)")
        await server.stop()
        await other.stop()
    }

    @Test func keysOfAnotherOrganisationNeverMakeABoundTagGenuine() async throws {
        // Keys stored for organisation 4 (before the binding, or by editing the store): the
        // UID is bound to organisation 1's asset, so the tap proves nothing about it.
        let server = try await TagServer(assets: try Self.chain())
        try server.store.register(try TagRegistration(uid: TagUID(hex: Self.uid), mode: .aes, metaReadKey: Array(repeating: 0, count: 16),
                                                      fileReadKey: Array(repeating: 0, count: 16), macInputStart: .empty, organisation: 4))
        let reply = try await server.get(TagEndpointTests.an12196.target)
        #expect(reply.verdict == "unknown", "\(reply.text)")
        #expect(reply.json?["asset"] == nil || reply.json?["asset"] == .null)
        #expect(server.store.record(try TagUID(hex: Self.uid))?.lastReadCounter == nil)
        await server.stop()
    }
}
