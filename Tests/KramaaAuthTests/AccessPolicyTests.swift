import Foundation
import KramaaAuth
import KramaaPrimitives
import KramaaRPC
import Testing

@Suite struct AccessPolicyTests {
    static let alice = try! Address(hex: "0x1111111111111111111111111111111111111111")
    static let bob = try! Address(hex: "0x2222222222222222222222222222222222222222")

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func remote(_ token: String?, from address: String = "10.0.0.7:4000") -> Credentials {
        Credentials(authorization: token.map { "Bearer \($0)" }, remoteAddress: address)
    }

    @Test func aTokenActsAsItsAccountWithItsRolesOnly() throws {
        let store = TokenStore(directory: try Self.temporaryDirectory())
        let (record, token) = try store.create(account: Self.alice, roles: [.platform, .epcis], label: "erp")
        let policy = AccessPolicy(tokens: store, openLoopbackWrites: false)
        let caller = try policy.authorize(Self.remote(token.description), for: .platform)
        #expect(caller.account == Self.alice)
        #expect(caller.origin == .token(record.id))
        #expect(try caller.actingAccount(nil) == Self.alice)
        #expect(try caller.actingAccount(Self.alice) == Self.alice)
        #expect(throws: AccessError.accountNotBound(requested: Self.bob, bound: Self.alice)) { try caller.actingAccount(Self.bob) }
        #expect(throws: AccessError.roleNotGranted(.tags, tokenID: record.id)) { try policy.authorize(Self.remote(token.description), for: .tags) }
    }

    @Test func missingWrongAndRevokedTokensAreRefusedWithTheirStatus() throws {
        let dir = try Self.temporaryDirectory()
        let store = TokenStore(directory: dir)
        let (record, token) = try store.create(account: Self.alice, roles: [.platform], label: "")
        let policy = AccessPolicy(tokens: store, openLoopbackWrites: false)
        let missing = #expect(throws: AccessError.self) { try policy.authorize(Self.remote(nil), for: .platform) }
        #expect(missing == .credentialsRequired(.platform) && missing?.httpStatus == 401)
        // The same id with another secret: unknown, as an unknown id is.
        let forged = BearerToken.prefix + record.id + "_" + String(repeating: "ab", count: 32)
        #expect(throws: AccessError.unknownToken) { try policy.authorize(Self.remote(forged), for: .platform) }
        #expect(throws: AccessError.self) { try policy.authorize(Self.remote("not-a-token"), for: .platform) }
        #expect(throws: AccessError.self) {
            try policy.authorize(Credentials(authorization: "Basic YWxpY2U6c2VjcmV0", remoteAddress: "10.0.0.7:1"), for: .platform)
        }
        // Revoked by another process (the CLI) while the node runs: refused at the next request.
        _ = try policy.authorize(Self.remote(token.description), for: .platform)
        try TokenStore(directory: dir).revoke(id: record.id)
        #expect(throws: AccessError.revoked(id: record.id)) { try policy.authorize(Self.remote(token.description), for: .platform) }
    }

    @Test func loopbackWritesAreOpenOnlyWhenConfiguredAndOnlyWithoutCredentials() throws {
        let open = AccessPolicy(tokens: nil, openLoopbackWrites: true)
        #expect(try open.authorize(Self.remote(nil, from: "127.0.0.1:5000"), for: .tags).origin == .openLoopback)
        #expect(try open.authorize(Self.remote(nil, from: "[::1]:5000"), for: .tags).account == nil)
        #expect(throws: AccessError.credentialsRequired(.tags)) { try open.authorize(Self.remote(nil, from: "192.168.1.4:5000"), for: .tags) }
        // Credentials sent from loopback are still checked.
        #expect(throws: AccessError.unknownToken) {
            try open.authorize(Self.remote(BearerToken.prefix + String(repeating: "0", count: 16) + "_" + String(repeating: "0", count: 64),
                                           from: "127.0.0.1:5000"), for: .tags)
        }
        let closed = AccessPolicy(tokens: nil, openLoopbackWrites: false)
        #expect(throws: AccessError.credentialsRequired(.sign)) { try closed.authorize(Self.remote(nil, from: "127.0.0.1:5000"), for: .sign) }
        #expect(try closed.authorize(.inProcess, for: .sign).origin == .inProcess)
    }

    @Test func theTokenFileHoldsNoSecretAndIsReadableByItsOwnerOnly() throws {
        let dir = try Self.temporaryDirectory()
        let store = TokenStore(directory: dir)
        let (_, token) = try store.create(account: Self.alice, roles: Set(AccessRole.allCases), label: "ops")
        let path = dir.appendingPathComponent(TokenStore.fileName).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let secret = String(token.description.split(separator: "_").last!)
        #expect(!text.contains(secret))
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try TokenStore(directory: dir).list().map(\.label) == ["ops"])
    }

    @Test func revokingAnUnknownTokenIsRefusedAndChangesNothing() throws {
        let dir = try Self.temporaryDirectory()
        let store = TokenStore(directory: dir)
        _ = try store.create(account: Self.alice, roles: [.platform], label: "")
        let path = dir.appendingPathComponent(TokenStore.fileName).path
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: AccessError.self) { try store.revoke(id: "0123456789abcdef") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func roleListsParseAndUnknownRolesAreNamed() throws {
        #expect(try AccessRole.parseList("platform, epcis") == [.platform, .epcis])
        #expect(try AccessRole.parseList("all") == Set(AccessRole.allCases))
        let error = #expect(throws: AccessError.self) { try AccessRole.parseList("platfrom") }
        #expect(error?.description.contains("platfrom") == true)
    }

    @Test func httpRequestsCarryTheirCredentials() {
        let request = HTTPRequest(method: "POST", path: "/api/v1/assets", headers: [("authorization", "Bearer x")], remoteAddress: "127.0.0.1:9")
        #expect(request.credentials.authorization == "Bearer x")
        #expect(request.credentials.isLoopback)
        #expect(RPCContext.inProcess().credentials.remoteAddress == nil)
    }
}

/// A batch refused for want of the `read` role gets no work done ahead for it either.
@Suite struct ReadGatedBatchTests {
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []
        func add(_ name: String) { lock.withLock { names.append(name) } }
        var all: [String] { lock.withLock { names } }
    }

    @Test func aRefusedCallerIsNotPrepared() async throws {
        let seen = Seen()
        var router = RPCRouter()
        router.register("look") { _, _ in
            seen.add("call")
            return .bool(true)
        }
        router.registerBatchPreparation("look") { _, _ in seen.add("prepare") }
        let gated = ReadGatedHandler(router, access: AccessPolicy(tokens: nil, openLoopbackWrites: false, closedReads: true))
        let body = #"[{"jsonrpc":"2.0","id":1,"method":"look"},{"jsonrpc":"2.0","id":2,"method":"look"}]"#
        let refused = try #require(await RPCDispatcher(handler: gated).respond(to: body, context: .remote("10.0.0.7:4000")))
        #expect(refused.contains(#""error""#) && !refused.contains(#""result""#))
        #expect(seen.all.isEmpty, "neither prepared nor run for a caller without the read role")
        _ = await RPCDispatcher(handler: gated).respond(to: body, context: .inProcess())
        #expect(seen.all == ["prepare", "call", "call"])
    }
}
