/// Why bytes are not a usable key of a given type, or a key type name is not known.
public enum KeyError: Error, Hashable, CustomStringConvertible {
    /// A key type name that Kramaa does not know.
    case unknownKeyType(String)
    /// A private key of the wrong byte length.
    case wrongPrivateKeyLength(KeyType, expected: Int, actual: Int)
    /// A public key of the wrong byte length; `expected` lists the accepted lengths.
    case wrongPublicKeyLength(KeyType, expected: [Int], actual: Int)
    /// A private scalar that is zero or not below the curve's group order.
    case privateKeyOutOfRange(KeyType)
    /// An elliptic-curve point whose first byte is not `02`/`03` (compressed) or `04` (uncompressed).
    case badPointPrefix(KeyType, UInt8)
    /// Bytes of the right length that do not encode a point on the curve.
    case notOnCurve(KeyType)

    public var description: String {
        switch self {
        case .unknownKeyType(let name):
            let known = KeyType.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown key type '\(name)'; use one of \(known)"
        case .wrongPrivateKeyLength(let type, let expected, let actual):
            return "a \(type) private key is \(expected) bytes, got \(actual); check that the whole key was copied"
        case .wrongPublicKeyLength(let type, let expected, let actual):
            let lengths = expected.map(String.init).joined(separator: " or ")
            return "a \(type) public key is \(lengths) bytes, got \(actual); check that the whole key was copied"
        case .privateKeyOutOfRange(let type):
            return "not a valid \(type) private key: it is zero or not below the curve order; generate a new key"
        case .badPointPrefix(let type, let prefix):
            return "a \(type) public key starts with 02 or 03 (compressed) or 04 (uncompressed), got \(Hex.encode([prefix], prefix: false))"
        case .notOnCurve(let type):
            return "the bytes are not a point on the \(type) curve; the public key is corrupt or of another type"
        }
    }
}

/// Why bytes are not a well-formed signature, or a signature yields no public key.
///
/// A signature that is well formed but simply does not match is not an error: the
/// `isValidSignature` functions return `false` for it.
public enum SignatureError: Error, Hashable, CustomStringConvertible {
    /// A fixed-size signature (`r ‖ s`, Ed25519, `r ‖ s ‖ v`) of the wrong byte length.
    case wrongLength(expected: Int, actual: Int)
    /// Not a DER `SEQUENCE { INTEGER r, INTEGER s }`.
    case malformedDER
    /// A BER encoding that is not the one DER encoding of its values (long lengths,
    /// padded or negative integers, trailing bytes).
    case nonCanonicalDER
    /// `r` or `s` is zero or not below the curve's group order.
    case scalarOutOfRange(component: String)
    /// `s` is above half the group order where only low-S signatures are allowed.
    case highS
    /// A recovery id other than 0 or 1 (or an Ethereum `v` other than 27 or 28).
    case invalidRecoveryId(UInt64)
    /// The signature is well formed but no public key signs this digest with it.
    case recoveryFailed

    public var description: String {
        switch self {
        case .wrongLength(let expected, let actual):
            return "a signature here is \(expected) bytes, got \(actual)"
        case .malformedDER:
            return "signature is not DER: expected SEQUENCE { INTEGER r, INTEGER s }"
        case .nonCanonicalDER:
            return "signature is BER but not canonical DER (extra padding, long-form lengths or trailing bytes); re-encode it as strict DER"
        case .scalarOutOfRange(let component):
            return "signature value \(component) is zero or not below the curve order"
        case .highS:
            return "signature has a high s value (above n/2); only low-s signatures are accepted here, normalise s to n - s"
        case .invalidRecoveryId(let v):
            return "recovery id \(v) is invalid; use 0 or 1 (or v = 27 or 28 in Ethereum's legacy form)"
        case .recoveryFailed:
            return "no public key can be recovered from this signature and digest"
        }
    }
}
