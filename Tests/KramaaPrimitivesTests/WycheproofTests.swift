import Crypto
import Foundation
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Runs every Wycheproof file under `$KRAMAA_VECTORS/wycheproof` whose scheme Kramaa's
/// signature code implements, and proves that every other file is listed as out of scope.
@Suite struct WycheproofTests {
    /// Files whose primitives belong to other parts of Kramaa (NFC tags, HPKE, messaging),
    /// with the `algorithm` each must declare. The only place a file may be skipped.
    static let outOfScope: [String: String] = [
        "aes_cmac_test.json": "AES-CMAC",
        "aes_gcm_test.json": "AES-GCM",
        "chacha20_poly1305_test.json": "CHACHA20-POLY1305",
        "hkdf_sha256_test.json": "HKDF-SHA-256",
        "hmac_sha256_test.json": "HMACSHA256",
        "x25519_test.json": "XDH",
    ]

    /// The signature schemes run here.
    enum Scheme: String {
        case secp256k1DER, secp256k1P1363, secp256k1Bitcoin, p256DER, p256P1363, ed25519
    }

    /// The scheme of one test group, from the file's schema and the group's type, curve and hash.
    static func scheme(schema: String, group: [String: Any]) -> Scheme? {
        let type = group["type"] as? String ?? ""
        let curve = (group["publicKey"] as? [String: Any])?["curve"] as? String ?? ""
        let sha = group["sha"] as? String ?? ""
        switch (schema, type, curve, sha) {
        case ("ecdsa_verify_schema_v1.json", "EcdsaVerify", "secp256k1", "SHA-256"): return .secp256k1DER
        case ("ecdsa_p1363_verify_schema_v1.json", "EcdsaP1363Verify", "secp256k1", "SHA-256"): return .secp256k1P1363
        case ("ecdsa_bitcoin_verify_schema.json", "EcdsaBitcoinVerify", "secp256k1", "SHA-256"): return .secp256k1Bitcoin
        case ("ecdsa_verify_schema_v1.json", "EcdsaVerify", "secp256r1", "SHA-256"): return .p256DER
        case ("ecdsa_p1363_verify_schema_v1.json", "EcdsaP1363Verify", "secp256r1", "SHA-256"): return .p256P1363
        case ("eddsa_verify_schema_v1.json", "EddsaVerify", "edwards25519", ""): return .ed25519
        default: return nil
        }
    }

    struct File {
        let name: String
        let schema: String
        let algorithm: String
        let groups: [[String: Any]]
    }

    static func load(_ url: URL) throws -> File {
        let root = try #require(try Vectors.json(url) as? [String: Any], "\(url.lastPathComponent) is not a JSON object")
        return File(name: url.lastPathComponent, schema: root["schema"] as? String ?? "",
                    algorithm: root["algorithm"] as? String ?? "",
                    groups: root["testGroups"] as? [[String: Any]] ?? [])
    }

    static func inScopeFiles() throws -> [String] {
        try Vectors.files(in: "wycheproof").map(\.lastPathComponent).filter { outOfScope[$0] == nil }
    }

    @Test func everyFileIsRunOrListedOutOfScope() throws {
        let files = try Vectors.files(in: "wycheproof").map(Self.load)
        for file in files {
            if let algorithm = Self.outOfScope[file.name] {
                #expect(file.algorithm == algorithm, "\(file.name) is listed out of scope as \(algorithm) but declares \(file.algorithm)")
                continue
            }
            #expect(!file.groups.isEmpty, "\(file.name) has no test groups")
            for (index, group) in file.groups.enumerated() where Self.scheme(schema: file.schema, group: group) == nil {
                Issue.record("\(file.name): group \(index) (schema \(file.schema), type \(group["type"] ?? "?")) has no runner and is not listed out of scope")
            }
        }
        let present = Set(files.map(\.name))
        for name in Self.outOfScope.keys.sorted() {
            #expect(present.contains(name), "out-of-scope list names \(name), which is not in the vectors: remove it")
        }
        let run = files.filter { Self.outOfScope[$0.name] == nil }.count
        print("wycheproof: \(files.count) files, \(run) run, \(files.count - run) out of scope (\(Self.outOfScope.values.sorted().joined(separator: ", ")))")
    }

    @Test(arguments: try inScopeFiles())
    func runFile(_ name: String) throws {
        let file = try Self.load(Vectors.folder("wycheproof").appendingPathComponent(name))
        var tally = Tally()
        for group in file.groups {
            let scheme = try #require(Self.scheme(schema: file.schema, group: group), "\(name): group without a runner")
            let verifier = Verifier(scheme: scheme, group: group)
            for test in group["tests"] as? [[String: Any]] ?? [] {
                let tcId = test["tcId"] as? Int ?? -1
                let result = test["result"] as? String ?? ""
                let accepted = verifier.accepts(msg: try [UInt8](hex: test["msg"] as? String ?? ""),
                                                sig: try [UInt8](hex: test["sig"] as? String ?? ""))
                tally.count(result: result, accepted: accepted)
                if (result == "valid" && !accepted) || (result == "invalid" && accepted) {
                    Issue.record("\(name) tcId \(tcId): expected \(result), got \(accepted ? "accepted" : "rejected") (\(test["comment"] ?? ""); flags \(test["flags"] ?? []))")
                }
            }
        }
        print("wycheproof \(name): \(tally)")
        #expect(tally.total > 0, "\(name) ran no cases")
    }

    struct Tally: CustomStringConvertible {
        var validAccepted = 0, validRejected = 0, invalidAccepted = 0, invalidRejected = 0, acceptable = 0
        var total: Int { validAccepted + validRejected + invalidAccepted + invalidRejected + acceptable }

        mutating func count(result: String, accepted: Bool) {
            switch (result, accepted) {
            case ("valid", true): validAccepted += 1
            case ("valid", false): validRejected += 1
            case ("invalid", true): invalidAccepted += 1
            case ("invalid", false): invalidRejected += 1
            default: acceptable += 1
            }
        }

        var description: String {
            "\(total) cases; valid \(validAccepted) accepted / \(validRejected) rejected; invalid \(invalidRejected) rejected / \(invalidAccepted) accepted"
                + (acceptable > 0 ? "; acceptable \(acceptable)" : "")
        }
    }

    /// One group's public key, parsed once, and the scheme's verification call.
    struct Verifier {
        enum Key {
            case secp256k1(Secp256k1.PublicKey)
            case p256(Secp256r1.PublicKey)
            case ed25519(Ed25519.PublicKey)
            case unparseable
        }

        let scheme: Scheme
        let key: Key

        init(scheme: Scheme, group: [String: Any]) {
            self.scheme = scheme
            let publicKey = group["publicKey"] as? [String: Any] ?? [:]
            let uncompressed = (try? [UInt8](hex: publicKey["uncompressed"] as? String ?? "")) ?? []
            switch scheme {
            case .secp256k1DER, .secp256k1P1363, .secp256k1Bitcoin:
                key = (try? Secp256k1.PublicKey(uncompressedRepresentation: uncompressed)).map(Key.secp256k1) ?? .unparseable
            case .p256DER, .p256P1363:
                key = (try? Secp256r1.PublicKey(serialized: uncompressed)).map(Key.p256) ?? .unparseable
            case .ed25519:
                let raw = (try? [UInt8](hex: publicKey["pk"] as? String ?? "")) ?? []
                key = (try? Ed25519.PublicKey(rawRepresentation: raw)).map(Key.ed25519) ?? .unparseable
            }
        }

        func accepts(msg: [UInt8], sig: [UInt8]) -> Bool {
            let digest = SHA256.hash(data: msg).withUnsafeBytes { Bytes32(copying: $0) }
            switch (scheme, key) {
            case (.secp256k1DER, .secp256k1(let k)): return k.isValidSignature(derRepresentation: sig, digest: digest, allowHighS: true)
            case (.secp256k1P1363, .secp256k1(let k)): return k.isValidSignature(rawRepresentation: sig, digest: digest, allowHighS: true)
            case (.secp256k1Bitcoin, .secp256k1(let k)): return k.isValidSignature(derRepresentation: sig, digest: digest, allowHighS: false)
            case (.p256DER, .p256(let k)): return k.isValidSignature(derRepresentation: sig, digest: digest)
            case (.p256P1363, .p256(let k)): return k.isValidSignature(rawRepresentation: sig, digest: digest)
            case (.ed25519, .ed25519(let k)): return k.isValidSignature(sig, message: msg)
            default: return false
            }
        }
    }
}
