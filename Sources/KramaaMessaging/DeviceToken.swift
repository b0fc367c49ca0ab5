import KramaaPrimitives

/// Why a device token was refused: each case says what to fix.
public enum DeviceTokenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a token of this format (prefix, base64url, length, version, times out of order).
    case malformed(String)
    /// Made for another chain.
    case wrongChain(expected: UInt64, token: UInt64)
    /// The token names another device than the one connecting (the MQTT user name).
    case wrongDevice(expected: Address, token: Address)
    /// Its lifetime is over: `now` is at or past `expiresAt` (unix seconds).
    case expired(expiresAt: UInt64, now: UInt64)
    /// Issued later than `now` allows (beyond the clock skew tolerated).
    case notYetValid(issuedAt: UInt64, now: UInt64)
    /// Its lifetime is longer than the server accepts.
    case ttlTooLong(ttl: UInt64, maximum: UInt64)
    /// The key that signed is not the key the chain has registered and active for the device.
    case keyNotTheDevices(token: Address, registered: Address)
    /// The signature is not the registered key's over this token.
    case badSignature

    public var description: String {
        switch self {
        case .malformed(let why): return "not a Kramaa device token: \(why); make one with `kramaa device mqtt-token`"
        case .wrongChain(let expected, let token): return "the token is for chain \(token), this is chain \(expected)"
        case .wrongDevice(let expected, let token): return "the token is for device \(token), the user name is \(expected)"
        case .expired(let at, let now): return "the token expired at \(at) (now \(now)); make a new one"
        case .notYetValid(let at, let now): return "the token is issued at \(at), later than now (\(now)); check the device's clock"
        case .ttlTooLong(let ttl, let maximum): return "the token is valid for \(ttl) s, more than the \(maximum) s this server accepts"
        case .keyNotTheDevices(let token, let registered):
            return "the token is signed by key \(token), but the device's registered active key is \(registered)"
        case .badSignature: return "the token's signature is not the device key's"
        }
    }
}

/// A short-lived credential a device presents as its MQTT password, with its device address as
/// the user name (docs/MESSAGING.md, "Device tokens").
///
/// Binary form, 145 bytes, integers big-endian:
/// ```
/// 0    1  version (1)
/// 1    8  chain id
/// 9   20  device address
/// 29  20  key address (the registered signing key that signed)
/// 49   8  issued at (unix seconds)
/// 57   8  expires at (unix seconds)
/// 65  16  nonce (random)
/// 81  64  signature over SigningDomain.mqttToken.message(chainId, bytes 0..<81)
/// ```
/// Text form: `kmt1.` followed by the 145 bytes in unpadded base64url (199 characters).
public struct DeviceToken: Sendable, Equatable {
    public static let version: UInt8 = 1
    public static let textPrefix = "kmt1."
    public static let nonceLength = 16
    public static let signedLength = 81
    public static let length = signedLength + 64

    public var chainId: UInt64
    public var device: Address
    /// The address of the key that signed (``PublicKey/address``).
    public var key: Address
    /// Unix seconds.
    public var issuedAt: UInt64
    /// Unix seconds; the token is valid while `now < expiresAt`.
    public var expiresAt: UInt64
    public var nonce: [UInt8]
    public var signature: [UInt8]

    /// A token signed by `key` for `device`, valid from `now` for `ttl` seconds.
    public static func make(key: SigningKey, device: Address, chainId: UInt64, ttl: UInt64, now: UInt64,
                            nonce: [UInt8] = MessagingRandom.bytes(nonceLength)) -> DeviceToken {
        precondition(nonce.count == nonceLength, "a token nonce is \(nonceLength) bytes")
        var token = DeviceToken(chainId: chainId, device: device, key: key.publicKey.address, issuedAt: now,
                                expiresAt: now.saturatingAdd(max(ttl, 1)), nonce: nonce, signature: [])
        token.signature = key.signature(for: token.signedMessage)
        return token
    }

    /// The bytes before the signature.
    var signedBytes: [UInt8] {
        [Self.version] + chainId.bigEndianBytes + device.bytes + key.bytes + issuedAt.bigEndianBytes + expiresAt.bigEndianBytes + nonce
    }

    /// What the key signs.
    public var signedMessage: [UInt8] { SigningDomain.mqttToken.message(chainId: chainId, signedBytes) }

    /// The 145 bytes.
    public var bytes: [UInt8] { signedBytes + signature }

    /// The text a device sends as its MQTT password.
    public var text: String { Self.textPrefix + Base64URL.encode(bytes) }

    /// Parses the text form; checks only the format, not the signature or the times.
    public static func parse(_ text: String) throws(DeviceTokenError) -> DeviceToken {
        guard text.hasPrefix(textPrefix) else { throw .malformed("it does not start with \(textPrefix)") }
        let body = String(text.dropFirst(textPrefix.count))
        guard let bytes = Base64URL.decode(body), Base64URL.encode(bytes) == body else {
            throw .malformed("the part after \(textPrefix) is not canonical unpadded base64url")
        }
        guard bytes.count == length else { throw .malformed("it holds \(bytes.count) bytes, a token has \(length)") }
        guard bytes[0] == version else { throw .malformed("version \(bytes[0]) is not \(version)") }
        let token = DeviceToken(chainId: UInt64(bigEndian: bytes[1..<9]), device: try! Address(bytes[9..<29]), key: try! Address(bytes[29..<49]),
                                issuedAt: UInt64(bigEndian: bytes[49..<57]), expiresAt: UInt64(bigEndian: bytes[57..<65]),
                                nonce: Array(bytes[65..<81]), signature: Array(bytes[81...]))
        guard token.expiresAt > token.issuedAt else { throw .malformed("it expires (\(token.expiresAt)) no later than it is issued (\(token.issuedAt))") }
        return token
    }

    /// Checks the token of a device connecting as `device` on chain `chainId` at `now` (unix
    /// seconds), against `registeredKey`, the key the chain says is the device's current key
    /// while the device is active (the caller looks it up by ``key``; a device that is not
    /// active has none and is refused before this). Tokens issued up to `clockSkew` seconds in
    /// the future are accepted, for device clocks slightly ahead.
    public func verify(device expectedDevice: Address, chainId expectedChain: UInt64, registeredKey: PublicKey, now: UInt64,
                       maximumTTL: UInt64, clockSkew: UInt64 = 30) throws(DeviceTokenError) {
        guard chainId == expectedChain else { throw .wrongChain(expected: expectedChain, token: chainId) }
        guard device == expectedDevice else { throw .wrongDevice(expected: expectedDevice, token: device) }
        guard key == registeredKey.address else { throw .keyNotTheDevices(token: key, registered: registeredKey.address) }
        guard expiresAt - issuedAt <= maximumTTL else { throw .ttlTooLong(ttl: expiresAt - issuedAt, maximum: maximumTTL) }
        guard issuedAt <= now.saturatingAdd(clockSkew) else { throw .notYetValid(issuedAt: issuedAt, now: now) }
        guard now < expiresAt else { throw .expired(expiresAt: expiresAt, now: now) }
        guard registeredKey.isValidSignature(signature, for: signedMessage) else { throw .badSignature }
    }
}

/// Randomness for nonces and challenges (the system's generator; tests pass their own bytes).
public enum MessagingRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }
}
