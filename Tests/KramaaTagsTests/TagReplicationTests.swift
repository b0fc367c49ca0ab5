import Crypto
import Foundation
import KramaaJSON
import KramaaNFC
import KramaaPrimitives
@testable import KramaaTags
import KramaaTestSupport
import Testing

/// Routes `http://node-N/...` to node N's real loopback port; a node taken out of the table is
/// unreachable, as a crashed or partitioned node is.
final class LoopbackRoutes: TagPeerTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var ports: [String: Int] = [:]
    private let http = URLSessionTagTransport()

    func set(_ host: String, port: Int?) { lock.withLock { ports[host] = port } }

    func post(_ url: URL, body: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        guard let host = url.host, let port = lock.withLock({ ports[host] }) else { throw URLError(.cannotConnectToHost) }
        return try await http.post(URL(string: "http://127.0.0.1:\(port)\(url.path)")!, body: body)
    }
}

/// Three nodes of one organisation sharing a tag: keys sealed to each node's key, and a read
/// counter that never goes backwards across nodes.
@Suite(.serialized) struct TagReplicationTests {
    static let uid = try! TagUID(hex: "04A1B2C3D4E5F6")
    static let keys = (meta: [UInt8](repeating: 0x11, count: 16), file: [UInt8](repeating: 0x22, count: 16))

    struct Organisation {
        let servers: [TagServer]
        let routes: LoopbackRoutes
        let identities: [TagReplicationIdentity]

        func stop() async { for server in servers { await server.stop() } }
        func cut(_ i: Int) { routes.set("node-\(i)", port: nil) }
        func heal(_ i: Int) { routes.set("node-\(i)", port: servers[i].server.port) }
    }

    static func organisation(count: Int = 3) async throws -> Organisation {
        let routes = LoopbackRoutes()
        let identities = (0..<count).map { _ in TagReplicationIdentity(privateKey: Curve25519.KeyAgreement.PrivateKey()) }
        var assets = FixedAssets()
        assets.roles[FixedAssets.manufacturer] = 1 << 1  // manufacturer
        var servers: [TagServer] = []
        for i in 0..<count {
            let peers = try (0..<count).filter { $0 != i }.map { j in try TagPeer(parsing: "\(identities[j].publicKeyHex)@http://node-\(j)") }
            servers.append(try await TagServer(assets: assets, replicator: TagReplicator(identity: identities[i], peers: peers, transport: routes)))
        }
        for (i, server) in servers.enumerated() { routes.set("node-\(i)", port: server.server.port) }
        return Organisation(servers: servers, routes: routes, identities: identities)
    }

    static func tap(_ counter: UInt32) throws -> String {
        let tag = try SUNTagSimulator(uid: uid, keys: SDMKeys(mode: .aes, metaReadKey: keys.meta, fileReadKey: keys.file))
        let (picc, cmac) = try tag.tap(readCounter: counter)
        return "/verify?picc_data=\(picc)&cmac=\(cmac)"
    }

    static let registration = #"{"uid":"04A1B2C3D4E5F6","mode":"aes","metaReadKey":"11111111111111111111111111111111","fileReadKey":"22222222222222222222222222222222","macInputStart":"empty","organization":1,"from":"0x00000000000000000000000000000000000000A1"}"#

    static func register(on server: TagServer) async throws -> HTTPReply {
        try await server.post("/api/v1/tags", registration)
    }

    @Test func aRegistrationReachesEveryNodeSealedAndATapVerifiesOnAnyOfThem() async throws {
        let org = try await Self.organisation()
        let created = try await Self.register(on: org.servers[0])
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json?["replicatedTo"]?["stored"]?.numberValue?.int == 2, "\(created.text)")
        for server in org.servers { #expect(server.store.record(Self.uid)?.organisation == 1) }
        // Tap 5 through node 2: genuine; the same URL through nodes 0 and 1: replayed.
        #expect(try await org.servers[2].get(try Self.tap(5)).verdict == "genuine")
        #expect(try await org.servers[0].get(try Self.tap(5)).verdict == "replayed")
        #expect(try await org.servers[1].get(try Self.tap(5)).verdict == "replayed")
        // An older counter anywhere is a replay; the next one is genuine anywhere.
        #expect(try await org.servers[1].get(try Self.tap(4)).verdict == "replayed")
        #expect(try await org.servers[1].get(try Self.tap(6)).verdict == "genuine")
        await org.stop()
    }

    @Test func withOneNodeDownTapsStillVerifyAndItCatchesUpWithoutGoingBack() async throws {
        let org = try await Self.organisation()
        _ = try await Self.register(on: org.servers[0])
        org.cut(2)
        // Node 2 misses counter 7 (2 of 3 nodes agree: a majority).
        #expect(try await org.servers[0].get(try Self.tap(7)).verdict == "genuine")
        org.heal(2)
        org.cut(0)
        // Through node 2, counter 7 again: node 1 saw it, so it is a replay, not genuine.
        let again = try await org.servers[2].get(try Self.tap(7))
        #expect(again.verdict == "replayed", "\(again.text)")
        #expect(try await org.servers[2].get(try Self.tap(8)).verdict == "genuine")
        await org.stop()
    }

    @Test func withAMajorityDownATapIsUnavailableNeverGenuine() async throws {
        let org = try await Self.organisation()
        _ = try await Self.register(on: org.servers[0])
        org.cut(1)
        org.cut(2)
        let reply = try await org.servers[0].get(try Self.tap(9))
        #expect(reply.status == 503, "\(reply.text)")
        #expect(reply.text.contains("1 of the organisation's nodes, 2 needed"))
        await org.stop()
    }

    @Test func aNodeThatMissedTheRegistrationGetsItWithTheFirstCounter() async throws {
        let org = try await Self.organisation()
        org.cut(1)
        _ = try await Self.register(on: org.servers[0])
        #expect(org.servers[1].store.record(Self.uid) == nil)
        org.heal(1)
        #expect(try await org.servers[0].get(try Self.tap(3)).verdict == "genuine")
        #expect(org.servers[1].store.record(Self.uid)?.lastReadCounter == 3)
        #expect(try await org.servers[1].get(try Self.tap(3)).verdict == "replayed")
        await org.stop()
    }

    @Test func messagesNotSealedByAConfiguredPeerAreRefusedAndChangeNothing() async throws {
        let org = try await Self.organisation()
        _ = try await Self.register(on: org.servers[0])
        // An outsider with its own key, and garbage.
        let outsider = TagReplicationIdentity(privateKey: Curve25519.KeyAgreement.PrivateKey())
        let forged = try TagReplicaEnvelope.seal(["kind": "counter", "uid": "04A1B2C3D4E5F6", "counter": 1000, "nonce": "00"],
                                                 from: outsider, to: org.identities[1].privateKey.publicKey)
        let refused = try await org.servers[1].post(TagReplicator.path, String(decoding: forged, as: UTF8.self))
        #expect(refused.status == 403, "\(refused.text)")
        #expect(try await org.servers[1].post(TagReplicator.path, "{}").status == 403)
        // Sealed by a peer but to another node's key: it does not open here.
        let misdirected = try TagReplicaEnvelope.seal(["kind": "counter", "uid": "04A1B2C3D4E5F6", "counter": 1000, "nonce": "00"],
                                                      from: org.identities[0], to: org.identities[2].privateKey.publicKey)
        #expect(try await org.servers[1].post(TagReplicator.path, String(decoding: misdirected, as: UTF8.self)).status == 403)
        #expect(org.servers[1].store.record(Self.uid)?.lastReadCounter == nil)
        await org.stop()
    }

    @Test func tagPeersParseAndBadOnesAreNamed() throws {
        let key = TagReplicationIdentity(privateKey: Curve25519.KeyAgreement.PrivateKey()).publicKeyHex
        let peer = try TagPeer(parsing: "\(key)@http://10.0.0.2:8545")
        #expect(peer.url.absoluteString == "http://10.0.0.2:8545" && peer.publicKeyHex == key)
        for bad in ["nokey", "00@http://x", "\(key)@ftp://x", "\(key)@"] {
            #expect(throws: TagStoreError.self) { try TagPeer(parsing: bad) }
        }
    }
}
