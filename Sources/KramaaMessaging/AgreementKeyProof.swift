import KramaaPrimitives

/// Why a key-agreement key's registration proofs were refused.
public enum AgreementKeyProofError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The possession proof has the wrong length for the key type.
    case malformedPossessionProof(expected: Int, actual: Int)
    /// An X25519 proof's Ed25519 key does not map to the registered X25519 key.
    case provingKeyMismatch
    /// The possession proof is not a signature of the possession message by the key's secret.
    case badPossessionProof
    /// The authorisation is not the device's current signing key's signature.
    case badAuthorization

    public var description: String {
        switch self {
        case .malformedPossessionProof(let expected, let actual): return "the possession proof is \(actual) bytes, expected \(expected)"
        case .provingKeyMismatch: return "the proof's Ed25519 key does not map to this X25519 key (the key is not derived from that seed)"
        case .badPossessionProof: return "the possession proof is not a signature of the possession message by the agreement key's secret"
        case .badAuthorization: return "the authorisation is not a signature of the agreement key by the device's current signing key"
        }
    }
}

/// The two proofs that register a device's key-agreement key (docs/MESSAGING.md,
/// "Key-agreement keys"). Both sign a message about the same body
/// `device (20) ‖ KEM id (2, big-endian) ‖ public key (32 or 65)`:
///
/// - **authorisation**: the device's current *signing* key signs
///   `SigningDomain.agreementKeyAuthorization.message(chainId, body)`, so only the device can
///   choose its agreement key (an organisation manager alone cannot substitute one);
/// - **possession**: the agreement key's own secret signs
///   `SigningDomain.agreementKeyPossession.message(chainId, body)`, so nobody registers a key
///   they do not hold (a key copied from another device, to read what is sealed to it).
///
/// A KEM key cannot sign by itself, so possession is proven by a signature with the same secret:
/// - P-256: ECDSA (SHA-256, `r ‖ s`) with the KEM scalar; proof = the 64-byte signature.
/// - X25519: the key is derived from an Ed25519 seed (``AgreementPrivateKey``); proof = the
///   seed's Ed25519 public key (32) ‖ its signature (64). The verifier maps the Ed25519 key to
///   its Montgomery u-coordinate, which must be the registered X25519 key.
///
/// HPKE auth mode to a "registry" key whose private key is public was considered and rejected:
/// anyone holding the recipient's private key computes DH(skR, pkS) = DH(skS, pkR) and so forges
/// an auth-mode ciphertext "from" any sender key (HPKE auth mode does not resist compromise of
/// the recipient key, RFC 9180 §9.1.1); a published recipient key would prove nothing.
public enum AgreementKeyProof {
    /// `device ‖ KEM id ‖ public key`.
    public static func body(device: Address, key: AgreementPublicKey) -> [UInt8] {
        device.bytes + [UInt8(key.type.rawValue >> 8), UInt8(key.type.rawValue & 0xff)] + key.bytes
    }

    public static func authorizationMessage(chainId: UInt64, device: Address, key: AgreementPublicKey) -> [UInt8] {
        SigningDomain.agreementKeyAuthorization.message(chainId: chainId, body(device: device, key: key))
    }

    public static func possessionMessage(chainId: UInt64, device: Address, key: AgreementPublicKey) -> [UInt8] {
        SigningDomain.agreementKeyPossession.message(chainId: chainId, body(device: device, key: key))
    }

    /// The device's authorisation of `key`, signed by its current signing key.
    public static func authorize(_ key: AgreementPublicKey, device: Address, chainId: UInt64, with signingKey: SigningKey) -> [UInt8] {
        signingKey.signature(for: authorizationMessage(chainId: chainId, device: device, key: key))
    }

    /// The possession proof of `key` for `device`.
    public static func prove(_ key: AgreementPrivateKey, device: Address, chainId: UInt64) -> [UInt8] {
        let signer = key.provingKey
        let signature = signer.signature(for: possessionMessage(chainId: chainId, device: device, key: key.publicKey))
        return key.type == .x25519 ? signer.publicKey.bytes + signature : signature
    }

    /// The length of a possession proof for `type`.
    public static func possessionProofLength(_ type: AgreementKeyType) -> Int { type == .x25519 ? 96 : 64 }

    /// Checks a possession proof.
    public static func verifyPossession(_ proof: [UInt8], of key: AgreementPublicKey, device: Address,
                                        chainId: UInt64) throws(AgreementKeyProofError) {
        let expected = possessionProofLength(key.type)
        guard proof.count == expected else { throw .malformedPossessionProof(expected: expected, actual: proof.count) }
        let message = possessionMessage(chainId: chainId, device: device, key: key)
        switch key.type {
        case .x25519:
            guard let edwards = try? Ed25519.PublicKey(rawRepresentation: proof[0..<32]), edwards.montgomeryU == key.bytes else {
                throw .provingKeyMismatch
            }
            guard edwards.isValidSignature(proof[32...], message: message) else { throw .badPossessionProof }
        case .p256:
            guard let ecdsa = try? PublicKey(type: .p256, bytes: key.bytes), ecdsa.isValidSignature(proof, for: message) else {
                throw .badPossessionProof
            }
        }
    }

    /// Checks the device's authorisation against its current signing key.
    public static func verifyAuthorization(_ signature: [UInt8], of key: AgreementPublicKey, device: Address, chainId: UInt64,
                                           signingKey: PublicKey) throws(AgreementKeyProofError) {
        guard signingKey.isValidSignature(signature, for: authorizationMessage(chainId: chainId, device: device, key: key)) else {
            throw .badAuthorization
        }
    }
}
