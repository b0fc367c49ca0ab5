/// 20 bytes: an account address.
public typealias Address20 = InlineArray<20, UInt8>

/// Bytes a key signs, written to a sink as often as the scheme reads them (Ed25519 hashes the
/// message twice), so a message assembled from parts needs no buffer of its own.
public protocol SignableMessage {
    func write<S: ByteSink>(to sink: inout S)
}

/// A message in one piece of memory.
public struct RawMessage: SignableMessage {
    public let bytes: UnsafeRawBufferPointer
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    public func write<S: ByteSink>(to sink: inout S) { sink.update(bytes) }
}

/// A messaging signature's message (docs/MESSAGING.md, "Signatures and their domains"):
/// `0x19 ‖ "kramaa:" ‖ purpose ‖ 0x00 ‖ chainId (8 bytes) ‖ body`.
public struct DomainMessage: SignableMessage {
    public let purpose: StaticString
    public let chainId: UInt64
    public let body: UnsafeRawBufferPointer

    public init(purpose: StaticString, chainId: UInt64, body: UnsafeRawBufferPointer) {
        self.purpose = purpose
        self.chainId = chainId
        self.body = body
    }

    public func write<S: ByteSink>(to sink: inout S) {
        sink.update(0x19)
        sink.update(ascii: "kramaa:")
        sink.update(ascii: purpose)
        sink.update(0)
        sink.update(bigEndian: chainId)
        sink.update(body)
    }
}

/// Feeds a message into SHA-512 (the sink Ed25519 needs).
struct MessageBytes {
    static func sha256<M: SignableMessage>(_ message: M) -> Bytes32 {
        var h = SHA256()
        message.write(to: &h)
        return h.finalize()
    }
}

/// A device's signing key: P-256 (registry key type 2) or Ed25519 (3), as the device
/// registry and device transactions number them.
public enum DeviceKey {
    case p256(P256.PrivateKey)
    case ed25519(Ed25519.PrivateKey)

    /// Generates a key of the given type (2 P-256, 3 Ed25519) from the board's entropy.
    public static func generate<E: EntropySource>(typeCode: UInt8, entropy: inout E) throws(FirmwareCryptoError) -> DeviceKey {
        switch typeCode {
        case 2: return .p256(try P256.PrivateKey.generate(&entropy))
        case 3: return .ed25519(try Ed25519.PrivateKey.generate(&entropy))
        default: throw .invalidPrivateKey
        }
    }

    /// A key from its stored 32 bytes (the P-256 scalar or the Ed25519 seed).
    public init(typeCode: UInt8, secret: Bytes32) throws(FirmwareCryptoError) {
        switch typeCode {
        case 2: self = .p256(try P256.PrivateKey(scalar: secret))
        case 3: self = .ed25519(Ed25519.PrivateKey(seed: secret))
        default: throw .invalidPrivateKey
        }
    }

    /// The device registry's key type code.
    public var typeCode: UInt8 {
        switch self {
        case .p256: 2
        case .ed25519: 3
        }
    }

    /// The 32 bytes to keep in the device's key storage.
    public var secret: Bytes32 {
        switch self {
        case .p256(let k): k.scalar
        case .ed25519(let k): k.seed
        }
    }

    /// The public key as the chain takes it: P-256 SEC 1 compressed (33 bytes), Ed25519 32 bytes.
    public var publicKey: PublicKeyBytes {
        var out = PublicKeyBytes()
        switch self {
        case .p256(let k):
            let c = k.publicKey.compressed
            for i in 0..<33 { out.storage[i] = c[i] }
            out.count = 33
        case .ed25519(let k):
            let p = k.publicKey
            for i in 0..<32 { out.storage[i] = p[i] }
            out.count = 32
        }
        return out
    }

    /// The device's address: the last 20 bytes of keccak256(multicodec ‖ public key), with
    /// P-256 `80 24` and Ed25519 `ed 01` (docs/DEVICE-TRANSACTIONS.md, "The device's address").
    public var address: Address20 {
        let key = publicKey
        var h = Keccak256()
        switch self {
        case .p256: h.update(0x80); h.update(0x24)
        case .ed25519: h.update(0xed); h.update(0x01)
        }
        key.withBytes { h.update($0) }
        let digest = h.finalize()
        var out = Address20(repeating: 0)
        for i in 0..<20 { out[i] = digest[i + 12] }
        return out
    }

    /// Signs a 32-byte digest as is (device transactions, readings): P-256 ECDSA with the
    /// digest as the hash value (low s), or Ed25519 with the 32 bytes as the message.
    public func sign(digest: Bytes32) -> Bytes64 {
        switch self {
        case .p256(let k): return k.sign(digest: digest)
        case .ed25519(let k): return withUnsafeBytes(of: digest) { k.sign(message: $0) }
        }
    }

    /// Signs a messaging message (tokens, envelopes): P-256 ECDSA of SHA-256(message), or
    /// Ed25519 of the message.
    public func sign<M: SignableMessage>(message: M) -> Bytes64 {
        switch self {
        case .p256(let k): return k.sign(digest: MessageBytes.sha256(message))
        case .ed25519(let k): return k.sign(message: message)
        }
    }
}

extension Ed25519.PrivateKey {
    /// Ed25519 of a message written by parts.
    public func sign<M: SignableMessage>(message: M) -> Bytes64 {
        signParts { message.write(to: &$0) }
    }
}

/// A public key of up to 33 bytes, stored inline.
public struct PublicKeyBytes {
    var storage = InlineArray<33, UInt8>(repeating: 0)
    public internal(set) var count = 0

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
