import KramaaMessaging
import KramaaPrimitives
import Testing

/// RFC 9180's known answer for a suite Kramaa uses. The shared vectors hold no HPKE cases, so
/// the interoperability test against pyhpke (tests/python/test_hpke_interop.py) checks the same
/// code against an independent implementation in every suite.
@Suite struct HPKEVectorTests {
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
}
