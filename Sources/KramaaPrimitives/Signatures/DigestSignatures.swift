/// Signatures of a 32-byte digest used as is, for any ``KeyType``: what a constrained device
/// makes over a hash it computed itself (a sensor reading, docs/DEVICES.md), in the forms EVM
/// code and the precompiles know:
///
/// - P-256: 64 bytes `r ‖ s`, ECDSA over the digest with no further hashing (RIP-7212's
///   input), `s ≤ n/2`;
/// - Ed25519: 64 bytes `R ‖ S`, RFC 8032 with the 32 digest bytes as the message;
/// - secp256k1: 65 bytes `r ‖ s ‖ v` with `v` 0/1 or 27/28, the signer recovered from the
///   digest as `ecrecover` does, `s ≤ n/2`.
///
/// Unlike ``SigningKey/signature(for:)``, which hashes a message as each scheme expects, this
/// never hashes: the digest is the one the signer hashed once, the same bytes for every type.
extension KeyType {
    /// The length of a digest signature of this type: 65 for secp256k1 (with `v`), else 64.
    public var digestSignatureLength: Int { self == .secp256k1 ? 65 : 64 }
}

extension PublicKey {
    /// Whether `signature` is this key's signature of `digest` in the form of its type (above).
    /// A wrong length, a high `s`, a `v` other than 0, 1, 27 or 28, or a wrong signature are
    /// all simply not valid.
    public func isValidSignature(_ signature: some Collection<UInt8>, digest: Bytes32) -> Bool {
        let raw = Array(signature)
        guard raw.count == type.digestSignatureLength else { return false }
        switch self {
        case .secp256k1(let key):
            let v = raw[64]
            guard v <= 1 || v == 27 || v == 28,
                  let recoverable = try? Secp256k1.RecoverableSignature(rawRepresentation: raw[0..<64] + [v >= 27 ? v - 27 : v])
            else { return false }
            return recoverable.signer(of: digest) == key.address
        case .p256(let key):
            guard let ecdsa = try? Secp256r1.Signature(rawRepresentation: raw), ecdsa.isLowS else { return false }
            return key.isValidSignature(ecdsa, digest: digest)
        case .ed25519(let key):
            return key.isValidSignature(raw, message: digest.bytes)
        }
    }
}

extension SigningKey {
    /// This key's signature of `digest` in the form of its type (above): secp256k1 is
    /// deterministic (RFC 6979) with `v` 27 or 28; P-256 has a random nonce, made low-s;
    /// Ed25519 is deterministic.
    public func signature(digest: Bytes32) -> [UInt8] {
        switch self {
        case .secp256k1(let key):
            let signed = key.sign(digest: digest)
            return signed.r.bytes + signed.s.bytes + [signed.v]
        case .p256(let key):
            return key.sign(digest: digest).lowS.rawRepresentation
        case .ed25519(let key):
            return key.sign(message: digest.bytes)
        }
    }
}
