import KramaaPrimitives

/// Why a device transaction (type 0x4b, docs/DEVICE-TRANSACTIONS.md) is malformed, badly
/// signed or badly sponsored. Each description says what was wrong and what to do.
public enum DeviceTransactionError: Error, Equatable, CustomStringConvertible {
    /// The key type field is neither 1 (P-256) nor 2 (Ed25519).
    case unknownKeyType(UInt64)
    /// A signing helper got a key of a type devices do not sign with (secp256k1).
    case unsupportedKeyType(KeyType)
    /// The public key has a length its key type does not allow.
    case publicKeyLength(DeviceKeyType, actual: Int)
    /// The public key bytes are not a point of the curve (or have a bad SEC 1 prefix).
    case invalidPublicKey(KeyError)
    /// The device signature is not 64 bytes.
    case signatureLength(Int)
    /// A P-256 `r` or `s` is zero or not below the group order, or an Ed25519 `S` is not below L.
    case signatureOutOfRange
    /// A P-256 signature whose `s` is above n/2; only the low-s form is accepted.
    case highS
    /// The device signature does not verify for the public key and the signing hash.
    case invalidSignature
    /// The sponsor field is neither empty nor 20 bytes.
    case sponsorLength(Int)
    /// Sponsor signature values are set but no sponsor is named.
    case sponsorSignatureWithoutSponsor
    /// A sponsor is named but has not signed the sponsor hash.
    case sponsorUnsigned(Address)
    /// The sponsor's yParity, r or s is out of range (EIP-2: r, s in [1, n-1], s at most n/2, parity 0 or 1).
    case invalidSponsorSignatureValues
    /// The sponsor signature is not by the named sponsor (nil: no key recovers from it).
    case sponsorSignatureMismatch(sponsor: Address, signer: Address?)
    /// A `.device` transaction without its key and signature fields.
    case missingAuthorization
    /// Signing helper: the key does not match the transaction's public key.
    case keyMismatch
    /// Signing helper: the sponsor key is not the key of the transaction's sponsor (nil: none named).
    case sponsorKeyMismatch(sponsor: Address?, key: Address)

    public var description: String {
        switch self {
        case .unknownKeyType(let t):
            return "device transaction key type \(t) is not known; use 2 (P-256) or 3 (Ed25519), the device registry's codes (secp256k1 keys, 1, send ordinary transactions)"
        case .unsupportedKeyType(let t):
            return "device transactions are signed with P-256 or Ed25519 keys, not \(t); sign an ordinary transaction with a secp256k1 key"
        case .publicKeyLength(let t, let n):
            let lengths = t.publicKeyLengths.map(String.init).joined(separator: " or ")
            return "device public key of type \(t) must be \(lengths) bytes, got \(n)"
        case .invalidPublicKey(let e):
            return "device public key is not usable: \(e)"
        case .signatureLength(let n):
            return "device signature must be 64 bytes (r ‖ s, or Ed25519 R ‖ S), got \(n)"
        case .signatureOutOfRange:
            return "device signature values out of range: P-256 r and s must be in [1, n-1], Ed25519 S below the group order L"
        case .highS:
            return "device P-256 signature has a high s (above n/2); normalise it to n - s before sending"
        case .invalidSignature:
            return "invalid device signature: it does not verify for the transaction's public key and signing hash"
        case .sponsorLength(let n):
            return "device transaction sponsor must be empty or a 20-byte address, got \(n) bytes"
        case .sponsorSignatureWithoutSponsor:
            return "device transaction carries a sponsor signature but names no sponsor; leave the sponsor signature zero"
        case .sponsorUnsigned(let a):
            return "device transaction names sponsor \(a) but the sponsor has not signed it; add the sponsor's signature of the sponsor hash"
        case .invalidSponsorSignatureValues:
            return "invalid sponsor signature values: yParity must be 0 or 1, r and s in [1, n-1], s at most n/2"
        case .sponsorSignatureMismatch(let sponsor, let signer):
            let by = signer.map { "is by \($0)" } ?? "recovers no key"
            return "sponsor signature \(by), not by the sponsor \(sponsor): a sponsorship covers only the transaction its sponsor signed"
        case .missingAuthorization:
            return "device transaction has no key type, public key or signature"
        case .keyMismatch:
            return "the signing key is not the device key named in the transaction"
        case .sponsorKeyMismatch(let sponsor, let key):
            let named = sponsor.map { "the sponsor named in the transaction is \($0)" } ?? "the transaction names no sponsor"
            return "the sponsor key's address is \(key) but \(named); set the sponsor before the device signs"
        }
    }
}
