import KramaaJSON
import Foundation
import KramaaAuth
import KramaaNFC
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaTags
import KramaaTestSupport
import Testing

/// A temporary data directory, removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-tags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// An asset directory from fixed data: what the endpoint reads of the chain, without one.
struct FixedAssets: AssetDirectory {
    var byTag: [TagUID: AssetSummary] = [:]
    var byToken: [UInt256: AssetSummary] = [:]
    var roles: [Address: UInt64] = [:]
    /// Roles held in one organisation only (checked before `roles`).
    var rolesIn: [UInt64: [Address: UInt64]] = [:]
    var organizations: [UInt64: String] = [1: "Acme", 4: "Dairy co-op"]

    func asset(boundTo uid: TagUID) -> AssetSummary? { byTag[uid] }
    func asset(tokenId: UInt256) -> AssetSummary? { byToken[tokenId] }
    func roles(of account: Address, in organisation: UInt64) -> UInt64 { rolesIn[organisation]?[account] ?? roles[account] ?? 0 }
    func organizationName(_ organisation: UInt64) -> String? { organizations[organisation] }

    /// An account with the manufacturer role in every organisation of `FixedAssets`.
    static let manufacturer = try! Address(hex: "0x00000000000000000000000000000000000000A1")

    static func summary(epc: String, organisation: UInt64 = 1) throws -> AssetSummary {
        AssetSummary(tokenId: try! AssetRegistry.tokenId(epc: epc).0, epc: epc, organisation: organisation,
                     owner: SigningKey(generating: .secp256k1).publicKey.address,
                     custodian: SigningKey(generating: .p256).publicKey.address, metadataHash: Keccak256.hash([3]), status: "active", mintedAt: 7)
    }
}

/// One SUN vector of `ntag424/`, as a tap the endpoint can be asked about.
struct SUNVectorTap {
    let id: String
    let mode: SDMMode
    let metaReadKey: [UInt8]?
    let fileReadKey: [UInt8]
    let sdmmac: String?
    let expectedValid: Bool?
    let url: String?
    let macInput: String?
    let picc: String?
    let enc: String?
    let plainUID: String?
    let plainCounter: String?
    let uid: String?
    let readCounter: UInt32?

    static func all() throws -> [SUNVectorTap] {
        var out: [SUNVectorTap] = []
        let files = try Vectors.files(in: "ntag424").filter { url in
            ((try? Vectors.json(url)) as? [String: Any])?["format"] as? String == "ntag424-sdm-sun-vectors"
        }
        try #require(!files.isEmpty, "no ntag424-sdm-sun-vectors file under ntag424/")
        for file in files {
            let object = try #require(try Vectors.json(file) as? [String: Any])
            for v in try #require(object["vectors"] as? [[String: Any]], "\(Vectors.name(file)): no vectors") {
                let keys = try #require(v["keys"] as? [String: String])
                let derived = v["derived"] as? [String: Any] ?? [:]
                out.append(SUNVectorTap(
                    id: try #require(v["id"] as? String), mode: v["mode"] as? String == "LRP" ? .lrp : .aes,
                    metaReadKey: try keys["sdm_meta_read_key"].map { try Hex.decode($0) },
                    fileReadKey: try Hex.decode(try #require(keys["sdm_file_read_key"])),
                    sdmmac: v["sdmmac"] as? String, expectedValid: v["expected_valid"] as? Bool, url: v["url"] as? String,
                    macInput: v["mac_input_ascii"] as? String, picc: v["picc_data_encrypted"] as? String,
                    enc: v["enc_file_data"] as? String, plainUID: v["uid"] as? String, plainCounter: v["read_counter_hex_be"] as? String,
                    uid: derived["uid"] as? String ?? v["uid"] as? String,
                    readCounter: (derived["read_counter"] as? Int).map { UInt32($0) }))
            }
        }
        return out
    }

    /// The `/verify` target a tag programmed with `https://node/verify?…` would open, and where
    /// its MAC input starts; nil when the vector's MAC input is not a span of such a URL.
    func verifyTarget() -> (target: String, start: SDMMACInputStart)? {
        guard let sdmmac, let macInput else { return nil }
        var query: String
        if let picc { query = "picc_data=\(picc)" } else {
            query = [plainUID.map { "uid=\($0)" }, plainCounter.map { "ctr=\($0)" }].compactMap { $0 }.joined(separator: "&")
        }
        if let enc { query += "&enc=\(enc)" }
        query += "&cmac=\(sdmmac)"
        let target = "/verify?" + query
        for start in [SDMMACInputStart.empty, .encFileData, .piccData] {
            if let parsed = try? SUNURL("https://node" + target), let input = try? parsed.macInput(start: start),
               input == Array(macInput.utf8) {
                return (target, start)
            }
        }
        return nil
    }

    /// Where the MAC input of the vector's own URL starts (as `SUNVectorTests` names it).
    var urlStart: SDMMACInputStart {
        guard let macInput, !macInput.isEmpty else { return .empty }
        if let enc, macInput.hasPrefix(enc) { return .encFileData }
        if let picc, macInput.hasPrefix(picc) { return .piccData }
        return .afterScheme
    }

    func registration(_ start: SDMMACInputStart, uid: String? = nil) throws -> TagRegistration {
        try TagRegistration(uid: TagUID(hex: try #require(uid ?? self.uid, "\(id): no UID")), mode: mode, metaReadKey: metaReadKey,
                            fileReadKey: fileReadKey, macInputStart: start, organisation: 1)
    }
}

/// The tag endpoints on a real server (a JSON-RPC port with no methods), and a client for it.
final class TagServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let store: TagKeyStore
    let server: RPCServer
    let socket: LoopbackSocket

    init(assets: FixedAssets = FixedAssets(), directory: TemporaryDirectory? = nil, access: AccessPolicy = .developmentLoopback,
         replicator: TagReplicator? = nil) async throws {
        self.directory = try directory ?? TemporaryDirectory()
        store = try TagKeyStore(directory: self.directory.url)
        var routes = HTTPRoutes()
        TagEndpoints(verifier: TagVerifier(store: store, assets: assets, replicator: replicator), access: access).mount(on: &routes)
        server = try await RPCServer.start(handler: RPCRouter(), routes: routes,
                                           configuration: RPCServer.Configuration(host: "127.0.0.1", port: 0))
        socket = try LoopbackSocket(port: server.port)
    }

    func get(_ target: String, accept: String = "application/json") async throws -> HTTPReply {
        let socket = self.socket
        return try await offload { try socket.request("GET", path: target, headers: ["Accept": accept], contentType: nil) }
    }

    func post(_ target: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        let socket = self.socket
        return try await offload { try socket.request("POST", path: target, body: body, headers: headers) }
    }

    func stop() async { await server.shutdown(gracePeriod: .seconds(1)) }
}

extension HTTPReply {
    var json: JSON? { try? JSON.parse(body) }
    var verdict: String? { json?["verdict"]?.stringValue }
}

/// A URL query value, percent-encoded.
func queryEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
