// HPKE (RFC 9180), base mode, the sender's side, in the one suite the device seals with:
// DHKEM(X25519, HKDF-SHA256) (KEM 0x0020), HKDF-SHA256 (KDF 0x0001), ChaCha20-Poly1305 (AEAD
// 0x0003) — one of the suites the nodes' KramaaMessaging accepts (HPKEBox). Labels are written
// into the MAC as they are read, so nothing is assembled in a buffer.

public enum HPKE {
    public static let kemId: UInt16 = 0x0020
    public static let kdfId: UInt16 = 0x0001
    public static let aeadId: UInt16 = 0x0003

    /// Whose suite_id a label carries: the KEM's (`"KEM" ‖ kem_id`) or the whole suite's
    /// (`"HPKE" ‖ kem_id ‖ kdf_id ‖ aead_id`).
    enum Scope { case kem, suite }

    static func writeLabel<S: ByteSink>(_ scope: Scope, _ label: StaticString, to sink: inout S) {
        sink.update(ascii: "HPKE-v1")
        switch scope {
        case .kem:
            sink.update(ascii: "KEM")
            sink.update(bigEndian: UInt64(kemId), count: 2)
        case .suite:
            sink.update(ascii: "HPKE")
            sink.update(bigEndian: UInt64(kemId), count: 2)
            sink.update(bigEndian: UInt64(kdfId), count: 2)
            sink.update(bigEndian: UInt64(aeadId), count: 2)
        }
        sink.update(ascii: label)
    }

    /// LabeledExtract(salt, label, ikm); a nil salt is the empty salt.
    static func labeledExtract(_ scope: Scope, salt: Bytes32?, _ label: StaticString, ikm: (inout HMACSHA256) -> Void) -> Bytes32 {
        var mac = HMACSHA256(key: salt ?? Bytes32(repeating: 0))
        writeLabel(scope, label, to: &mac)
        ikm(&mac)
        return mac.finalize()
    }

    /// LabeledExpand(prk, label, info, L) into `out` (L = its count).
    static func labeledExpand(_ scope: Scope, prk: Bytes32, _ label: StaticString, into out: UnsafeMutableRawBufferPointer,
                              info: (inout HMACSHA256) -> Void) {
        HKDFSHA256.expand(prk: prk, into: out) { mac in
            mac.update(bigEndian: UInt64(out.count), count: 2)
            writeLabel(scope, label, to: &mac)
            info(&mac)
        }
    }

    static func expand32(_ scope: Scope, prk: Bytes32, _ label: StaticString, info: (inout HMACSHA256) -> Void) -> Bytes32 {
        var out = Bytes32(repeating: 0)
        withUnsafeMutableBytes(of: &out) { labeledExpand(scope, prk: prk, label, into: $0, info: info) }
        return out
    }

    /// DeriveKeyPair's secret (RFC 9180 §7.1.3 for X25519): the private key from input keying
    /// material; its public key is ``X25519/publicKey(_:)``.
    public static func deriveSecret(ikm: UnsafeRawBufferPointer) -> Bytes32 {
        var prk = labeledExtract(.kem, salt: nil, "dkp_prk") { $0.update(ikm) }
        defer { prk = Bytes32(repeating: 0) }
        return expand32(.kem, prk: prk, "sk") { _ in }
    }

    /// A fresh ephemeral secret: DeriveKeyPair of 64 bytes from the board's entropy (refused
    /// when the source fails or is stuck).
    public static func ephemeralSecret<E: EntropySource>(_ source: inout E) throws(FirmwareCryptoError) -> Bytes32 {
        var raw = try Entropy.fresh(&source)
        defer { for i in 0..<64 { raw[i] = 0 } }
        return withUnsafeBytes(of: raw) { deriveSecret(ikm: $0) }
    }

    /// A sender's context after SetupBaseS: the encapsulated key to send, and the AEAD key and
    /// base nonce the messages are sealed with.
    public struct SenderContext {
        /// `enc`: the ephemeral public key.
        public let encapsulatedKey: Bytes32
        var key: Bytes32
        var baseNonce: Bytes12

        /// Encrypts `data` in place as message `sequence` (0 for the single-shot seal) and
        /// returns the 16-byte tag that follows the ciphertext.
        public func seal(sequence: UInt64 = 0, aad: UnsafeRawBufferPointer, inPlace data: UnsafeMutableRawBufferPointer) -> Bytes16 {
            var nonce = baseNonce
            for i in 0..<8 { nonce[11 - i] ^= UInt8(truncatingIfNeeded: sequence >> UInt64(8 * i)) }
            return ChaCha20Poly1305.seal(key: key, nonce: nonce, aad: aad, inPlace: data)
        }

        /// Overwrites the AEAD key and nonce.
        public mutating func wipe() {
            for i in 0..<32 { key[i] = 0 }
            for i in 0..<12 { baseNonce[i] = 0 }
        }
    }

    /// SetupBaseS(pkR, info) with the ephemeral secret given (from ``ephemeralSecret(_:)``, or
    /// fixed by a test): Encap, then the key schedule with an empty PSK. Throws for a recipient
    /// key of small order.
    public static func setupBaseS<M: SignableMessage>(recipient pkR: Bytes32, ephemeralSecret skE: Bytes32,
                                                      info: M) throws(FirmwareCryptoError) -> SenderContext {
        let enc = X25519.publicKey(skE)
        var dh = try X25519.sharedSecret(skE, pkR)
        // ExtractAndExpand(dh, kem_context = enc ‖ pkR).
        var eae = labeledExtract(.kem, salt: nil, "eae_prk") { $0.update(contentsOf: dh) }
        var shared = expand32(.kem, prk: eae, "shared_secret") { mac in
            mac.update(contentsOf: enc)
            mac.update(contentsOf: pkR)
        }
        dh = Bytes32(repeating: 0)
        eae = Bytes32(repeating: 0)
        // KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "").
        let pskIdHash = labeledExtract(.suite, salt: nil, "psk_id_hash") { _ in }
        let infoHash = labeledExtract(.suite, salt: nil, "info_hash") { info.write(to: &$0) }
        func context(_ mac: inout HMACSHA256) {
            mac.update(0)
            mac.update(contentsOf: pskIdHash)
            mac.update(contentsOf: infoHash)
        }
        var secret = labeledExtract(.suite, salt: shared, "secret") { _ in }
        shared = Bytes32(repeating: 0)
        let key = expand32(.suite, prk: secret, "key", info: context)
        var nonce = Bytes12(repeating: 0)
        withUnsafeMutableBytes(of: &nonce) { labeledExpand(.suite, prk: secret, "base_nonce", into: $0, info: context) }
        secret = Bytes32(repeating: 0)
        return SenderContext(encapsulatedKey: enc, key: key, baseNonce: nonce)
    }
}
