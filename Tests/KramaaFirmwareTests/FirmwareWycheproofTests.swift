import Crypto
import Foundation
import KramaaFirmware
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The firmware's P-256 and Ed25519 verification against every Wycheproof case of those schemes
/// found under `$KRAMAA_VECTORS/wycheproof` (files chosen by their declared schema and groups,
/// never by counts). DER signatures are decoded with the node's strict DER parser first (a
/// signature that is not strict DER is refused before the curve is reached).
@Suite struct FirmwareWycheproofTests {
    enum Scheme { case p256DER, p256P1363, ed25519 }

    static func scheme(schema: String, group: [String: Any]) -> Scheme? {
        let type = group["type"] as? String ?? ""
        let curve = (group["publicKey"] as? [String: Any])?["curve"] as? String ?? ""
        let sha = group["sha"] as? String ?? ""
        switch (schema, type, curve, sha) {
        case ("ecdsa_verify_schema_v1.json", "EcdsaVerify", "secp256r1", "SHA-256"): return .p256DER
        case ("ecdsa_p1363_verify_schema_v1.json", "EcdsaP1363Verify", "secp256r1", "SHA-256"): return .p256P1363
        case ("eddsa_verify_schema_v1.json", "EddsaVerify", "edwards25519", ""): return .ed25519
        default: return nil
        }
    }

    /// Files holding at least one group of the firmware's schemes.
    static func files() throws -> [String] {
        try Vectors.files(in: "wycheproof").filter { url in
            let root = try Vectors.json(url) as? [String: Any] ?? [:]
            let schema = root["schema"] as? String ?? ""
            return (root["testGroups"] as? [[String: Any]] ?? []).contains { scheme(schema: schema, group: $0) != nil }
        }.map(\.lastPathComponent)
    }

    @Test func theSchemesAreFound() throws {
        let found = try Self.files()
        #expect(found.count >= 3, "P-256 DER, P-256 P1363 and Ed25519 files expected among \(found)")
    }

    @Test(arguments: try files())
    func runFile(_ name: String) throws {
        let root = try #require(try Vectors.json(Vectors.folder("wycheproof").appendingPathComponent(name)) as? [String: Any])
        let schema = root["schema"] as? String ?? ""
        var ran = 0, valid = 0
        for group in root["testGroups"] as? [[String: Any]] ?? [] {
            guard let scheme = Self.scheme(schema: schema, group: group) else { continue }
            let publicKey = group["publicKey"] as? [String: Any] ?? [:]
            for test in group["tests"] as? [[String: Any]] ?? [] {
                let result = test["result"] as? String ?? ""
                let msg = try [UInt8](hex: test["msg"] as? String ?? ""), sig = try [UInt8](hex: test["sig"] as? String ?? "")
                let accepted: Bool
                switch scheme {
                case .ed25519:
                    let pk = try [UInt8](hex: publicKey["pk"] as? String ?? "")
                    accepted = pk.count == 32 && sig.count == 64 && msg.withUnsafeBytes {
                        KramaaFirmware.Ed25519.verify(signature: KramaaFirmware.Bytes64(sig), message: $0, publicKey: KramaaFirmware.Bytes32(pk))
                    }
                case .p256DER, .p256P1363:
                    let raw: [UInt8]?
                    if scheme == .p256DER {
                        raw = (try? Secp256r1.parseStrictDER(sig)).map { $0.r.bytes + $0.s.bytes }
                    } else {
                        raw = sig.count == 64 ? sig : nil
                    }
                    let uncompressed = try [UInt8](hex: publicKey["uncompressed"] as? String ?? "")
                    let key = try? uncompressed.withUnsafeBytes { try KramaaFirmware.P256.PublicKey(sec1: $0) }
                    let digest = KramaaFirmware.Bytes32(Array(Crypto.SHA256.hash(data: msg)))
                    accepted = raw.map { raw in key.map { KramaaFirmware.P256.verify(signature: KramaaFirmware.Bytes64(raw), digest: digest, publicKey: $0) } ?? false } ?? false
                }
                ran += 1
                if result == "valid" { valid += 1 }
                if (result == "valid" && !accepted) || (result == "invalid" && accepted) {
                    Issue.record("\(name) tcId \(test["tcId"] ?? -1): expected \(result), firmware \(accepted ? "accepted" : "rejected") (\(test["comment"] ?? ""))")
                }
            }
        }
        print("firmware wycheproof \(name): \(ran) cases run, \(valid) valid")
        #expect(ran > 0, "\(name) ran no cases")
    }
}
