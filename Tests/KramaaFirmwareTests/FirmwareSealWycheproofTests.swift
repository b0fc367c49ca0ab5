import Foundation
import KramaaFirmware
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// The sealing primitives against every Wycheproof case of their schemes found under
/// `$KRAMAA_VECTORS/wycheproof` (files chosen by their declared schema and groups, never by
/// counts): X25519, ChaCha20-Poly1305 (both directions), HKDF-SHA256 and HMAC-SHA256.
@Suite struct FirmwareSealWycheproofTests {
    enum Scheme: String { case x25519, chaCha20Poly1305, hkdf, hmac }

    static func scheme(schema: String, group: [String: Any], root: [String: Any]) -> Scheme? {
        let type = group["type"] as? String ?? ""
        let algorithm = root["algorithm"] as? String ?? ""
        switch (schema, type, algorithm) {
        case ("xdh_comp_schema_v1.json", "XdhComp", _) where group["curve"] as? String == "curve25519": return .x25519
        case ("aead_test_schema_v1.json", "AeadTest", "CHACHA20-POLY1305"): return .chaCha20Poly1305
        case ("hkdf_test_schema_v1.json", "HkdfTest", "HKDF-SHA-256"): return .hkdf
        case ("mac_test_schema_v1.json", "MacTest", "HMACSHA256"): return .hmac
        default: return nil
        }
    }

    /// Files holding at least one group of these schemes.
    static func files() throws -> [String] {
        try Vectors.files(in: "wycheproof").filter { url in
            let root = try Vectors.json(url) as? [String: Any] ?? [:]
            let schema = root["schema"] as? String ?? ""
            return (root["testGroups"] as? [[String: Any]] ?? []).contains { scheme(schema: schema, group: $0, root: root) != nil }
        }.map(\.lastPathComponent)
    }

    @Test func theSchemesAreFound() throws {
        let found = try Self.files()
        #expect(found.count >= 4, "X25519, ChaCha20-Poly1305, HKDF-SHA256 and HMAC-SHA256 files expected among \(found)")
    }

    /// Whether the firmware accepts the case (and gives the case's output).
    static func run(_ scheme: Scheme, _ group: [String: Any], _ test: [String: Any]) throws -> Bool {
        func bytes(_ key: String) throws -> [UInt8] { try [UInt8](hex: test[key] as? String ?? "") }
        switch scheme {
        case .x25519:
            let (pub, priv, shared) = (try bytes("public"), try bytes("private"), try bytes("shared"))
            guard pub.count == 32, priv.count == 32 else { return false }
            return X25519.scalarMult(KramaaFirmware.Bytes32(priv), KramaaFirmware.Bytes32(pub)).array == shared
        case .chaCha20Poly1305:
            let (key, iv, aad, msg, ct, tag) = (try bytes("key"), try bytes("iv"), try bytes("aad"), try bytes("msg"), try bytes("ct"), try bytes("tag"))
            guard key.count == 32, iv.count == 12, tag.count == 16 else { return false }
            let k = KramaaFirmware.Bytes32(key), nonce = KramaaFirmware.Bytes12(iv)
            var opened = ct
            let ok = aad.withUnsafeBytes { a in
                opened.withUnsafeMutableBytes { ChaCha20Poly1305.open(key: k, nonce: nonce, aad: a, inPlace: $0, tag: KramaaFirmware.Bytes16(tag)) }
            }
            if ok {
                // Sealing the message gives the case's ciphertext and tag.
                var sealed = msg
                let t = aad.withUnsafeBytes { a in sealed.withUnsafeMutableBytes { ChaCha20Poly1305.seal(key: k, nonce: nonce, aad: a, inPlace: $0) } }
                return opened == msg && sealed == ct && t.array == tag
            }
            return false
        case .hkdf:
            let (ikm, salt, info, okm) = (try bytes("ikm"), try bytes("salt"), try bytes("info"), try bytes("okm"))
            let size = test["size"] as? Int ?? -1
            guard size >= 0, size <= 255 * 32 else { return false }   // HKDF-Expand's limit (a precondition of the API)
            let prk = salt.withUnsafeBytes { s in ikm.withUnsafeBytes { HKDFSHA256.extract(salt: s, ikm: $0) } }
            var out = [UInt8](repeating: 0, count: size)
            info.withUnsafeBytes { i in out.withUnsafeMutableBytes { HKDFSHA256.expand(prk: prk, info: i, into: $0) } }
            return out == okm
        case .hmac:
            let (key, msg, tag) = (try bytes("key"), try bytes("msg"), try bytes("tag"))
            var mac = key.withUnsafeBytes { HMACSHA256(key: $0) }
            msg.withUnsafeBytes { mac.update($0) }
            let full = mac.finalize().array
            let bits = group["tagSize"] as? Int ?? 256
            return tag.count * 8 == bits && Array(full.prefix(tag.count)) == tag
        }
    }

    @Test(arguments: try files())
    func runFile(_ name: String) throws {
        let root = try #require(try Vectors.json(Vectors.folder("wycheproof").appendingPathComponent(name)) as? [String: Any])
        let schema = root["schema"] as? String ?? ""
        var ran = 0, valid = 0
        for group in root["testGroups"] as? [[String: Any]] ?? [] {
            guard let scheme = Self.scheme(schema: schema, group: group, root: root) else { continue }
            for test in group["tests"] as? [[String: Any]] ?? [] {
                let result = test["result"] as? String ?? ""
                let accepted = try Self.run(scheme, group, test)
                ran += 1
                if result == "valid" { valid += 1 }
                // "acceptable" X25519 cases (twist points, non-canonical or low-order public keys)
                // have a defined output that RFC 7748 computes too: it must match.
                let mustAccept = result == "valid" || (result == "acceptable" && scheme == .x25519)
                if (mustAccept && !accepted) || (result == "invalid" && accepted) {
                    Issue.record("\(name) tcId \(test["tcId"] ?? -1): expected \(result), firmware \(accepted ? "accepted" : "refused") (\(test["comment"] ?? ""))")
                }
            }
        }
        print("firmware seal wycheproof \(name): \(ran) cases run, \(valid) valid")
        #expect(ran > 0, "\(name) ran no cases")
    }
}
