import Foundation
import KramaaMessaging
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// RFC 9180's test vectors (the CFRG `test-vectors.json` format: an array of cases with
/// `mode`, `kem_id`, `kdf_id`, `aead_id`, `info`, `skRm`, `pkRm`, `enc` and `encryptions`), run
/// from `$KRAMAA_VECTORS/hpke/` when that folder exists: every base-mode case of a suite Kramaa
/// uses opens its first encryption (sequence 0) with ``HPKEBox``. The shared vectors have no HPKE
/// folder today, so one known answer of the RFC is kept here; the interoperability test against
/// pyhpke (tests/python/test_hpke_interop.py) checks the same code against an independent
/// implementation in every suite.
@Suite struct HPKEVectorTests {
    static var folder: URL { Vectors.root.appendingPathComponent("hpke") }
    static var present: Bool { FileManager.default.fileExists(atPath: folder.path) }

    /// RFC 9180 Appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base
    /// mode), its first encryption: the one known answer kept here, so the suite mapping is checked
    /// even without the vectors folder.
    @Test func rfc9180AppendixA11FirstMessageOpens() throws {
        let recipient = try AgreementPublicKey(type: .x25519, bytes: try Hex.decode("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"))
        let plaintext = try HPKEBox.open(
            encapsulatedKey: try Hex.decode("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"),
            ciphertext: try Hex.decode("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"),
            privateKey: try Hex.decode("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"), kem: recipient.type, aead: .aes128GCM,
            info: try Hex.decode("4f6465206f6e2061204772656369616e2055726e"), aad: Array("Count-0".utf8))
        #expect(plaintext == Array("Beauty is truth, truth beauty".utf8))
    }

    @Test(.enabled(if: present, "no hpke/ folder in the shared vectors"))
    func everyBaseModeCaseOfKramaasSuitesOpens() throws {
        var opened = 0
        for file in try Vectors.files(in: "hpke") {
            let cases = try #require(try Vectors.json(file) as? [[String: Any]], "\(Vectors.name(file)) is not an array of cases")
            for (index, entry) in cases.enumerated() {
                guard entry["mode"] as? Int == 0, entry["kdf_id"] as? Int == Int(HPKEBox.kdfId),
                      let kem = (entry["kem_id"] as? Int).flatMap({ AgreementKeyType(rawValue: UInt16($0)) }),
                      let aead = (entry["aead_id"] as? Int).flatMap({ MessageAEAD(rawValue: UInt16($0)) }),
                      let first = (entry["encryptions"] as? [[String: String]])?.first else { continue }
                func hex(_ name: String, _ object: [String: Any] = entry) throws -> [UInt8] {
                    try Hex.decode(try #require(object[name] as? String, "case \(index) of \(Vectors.name(file)) has no \(name)"))
                }
                let recipientKey = try AgreementPublicKey(type: kem, bytes: try hex("pkRm"))
                #expect(recipientKey.bytes == (try hex("pkRm")))
                let plaintext = try HPKEBox.open(encapsulatedKey: try hex("enc"), ciphertext: try hex("ciphertext", first), privateKey: try hex("skRm"),
                                                 kem: kem, aead: aead, info: try hex("info"), aad: try hex("aad", first))
                #expect(plaintext == (try hex("plaintext", first)), "case \(index) of \(Vectors.name(file))")
                opened += 1
            }
        }
        #expect(opened > 0, "no base-mode case with KEM 0x10/0x20, HKDF-SHA256 and AES-128-GCM/ChaCha20-Poly1305 in \(Self.folder.path)")
    }
}
