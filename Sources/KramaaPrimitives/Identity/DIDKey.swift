/// Why a string is not a did:key that Kramaa can use.
public enum DIDKeyError: Error, Hashable, CustomStringConvertible {
    /// The string does not start with `did:key:`.
    case notDIDKey(String)
    /// The method-specific identifier does not start with the multibase prefix `z`
    /// (base58btc), the only one did:key allows; carries what it starts with instead.
    case notMultibase(String)
    /// The identifier after `z` is not base58btc.
    case invalidBase58(Base58Error)
    /// The decoded bytes do not start with a valid multicodec varint.
    case invalidVarint(VarintError)
    /// A multicodec that is not a key type Kramaa supports (for example P-384, P-521 or RSA).
    case unsupportedCodec(Multicodec)
    /// The key after the codec has the wrong length for it.
    case wrongKeyLength(Multicodec, expected: Int, actual: Int)
    /// The key has the right length but is not a valid key (for example not on the curve).
    case invalidKey(KeyError)

    public var description: String {
        switch self {
        case .notDIDKey(let s):
            return "'\(s.prefix(40))' is not a did:key; it must start with 'did:key:'"
        case .notMultibase(let start):
            return start.isEmpty
                ? "did:key has an empty identifier; expected 'z' followed by base58btc"
                : "did:key identifier starts with '\(start)', not the multibase prefix 'z' (base58btc) that did:key requires"
        case .invalidBase58(let e):
            return "did:key identifier is not base58btc: \(e)"
        case .invalidVarint(let e):
            return "did:key does not start with a multicodec: \(e)"
        case .unsupportedCodec(let codec):
            return "did:key holds a \(codec) key, which Kramaa does not support; use secp256k1, P-256 or Ed25519 (or X25519 for key agreement)"
        case .wrongKeyLength(let codec, let expected, let actual):
            return "a \(codec) key in did:key is \(expected) bytes, got \(actual)"
        case .invalidKey(let e):
            return "did:key holds an invalid key: \(e)"
        }
    }
}

/// A `did:key` DID (W3C CCG did:key method): `did:key:z` + base58btc(varint(multicodec) ‖
/// public key), with compressed points for the ECDSA curves.
///
/// Decoding checks every layer: the prefix, the multibase, the varint, the codec, the key
/// length and that the key is a valid point.
public struct DIDKey: Hashable, Sendable, CustomStringConvertible {
    /// What a did:key can name.
    public enum Key: Hashable, Sendable {
        /// A signing key of one of Kramaa's key types.
        case signing(PublicKey)
        /// An X25519 key-agreement key (32 bytes), as derived from Ed25519 DIDs.
        case x25519([UInt8])
    }

    /// The key this DID names.
    public let key: Key

    /// The prefix of every did:key.
    public static let prefix = "did:key:"

    /// The DID of a signing key.
    public init(_ publicKey: PublicKey) { key = .signing(publicKey) }

    /// The DID of a 32-byte X25519 key-agreement key.
    public init(x25519PublicKey bytes: some Collection<UInt8>) throws(DIDKeyError) {
        guard bytes.count == 32 else { throw .wrongKeyLength(.x25519Pub, expected: 32, actual: bytes.count) }
        key = .x25519(Array(bytes))
    }

    /// Parses and validates a did:key string (a DID, not a DID URL: no `#fragment`).
    public init(_ did: some StringProtocol) throws(DIDKeyError) {
        guard did.hasPrefix(Self.prefix) else { throw .notDIDKey(String(did)) }
        let identifier = did.dropFirst(Self.prefix.count)
        guard identifier.first == "z" else { throw .notMultibase(identifier.first.map(String.init) ?? "") }
        let bytes: [UInt8]
        do { bytes = try Base58.decode(identifier.dropFirst()) } catch { throw .invalidBase58(error) }
        let code: UInt64, length: Int
        do { (code, length) = try Varint.decode(bytes) } catch { throw .invalidVarint(error) }
        let codec = Multicodec(rawValue: code)
        let material = bytes[length...]
        if codec == .x25519Pub {
            try self.init(x25519PublicKey: material)
            return
        }
        guard let type = KeyType.allCases.first(where: { $0.multicodec == codec }) else {
            throw .unsupportedCodec(codec)
        }
        let expected = type == .ed25519 ? 32 : 33
        guard material.count == expected else {
            throw .wrongKeyLength(codec, expected: expected, actual: material.count)
        }
        let publicKey: PublicKey
        do { publicKey = try PublicKey(type: type, bytes: material) } catch { throw .invalidKey(error) }
        self.init(publicKey)
    }

    /// The signing key, or nil for an X25519 DID.
    public var publicKey: PublicKey? {
        if case .signing(let key) = key { return key }
        return nil
    }

    /// The multicodec of the key.
    public var codec: Multicodec {
        switch key {
        case .signing(let key): return key.type.multicodec
        case .x25519: return .x25519Pub
        }
    }

    /// The multibase identifier: `z` + base58btc(varint ‖ key), also the fragment of the
    /// DID's verification method.
    public var multibaseKey: String {
        switch key {
        case .signing(let key): return "z" + Base58.encode(key.multicodecBytes)
        case .x25519(let bytes): return "z" + Base58.encode(codec.prefix + bytes)
        }
    }

    /// The DID string.
    public var string: String { Self.prefix + multibaseKey }

    public var description: String { string }
}
