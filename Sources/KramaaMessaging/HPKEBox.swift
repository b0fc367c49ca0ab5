import Crypto
import Foundation
import KramaaPrimitives

/// The AEADs a sealed envelope may use, by RFC 9180 id.
public enum MessageAEAD: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    case aes128GCM = 0x0001
    case chaCha20Poly1305 = 0x0003

    /// `aes-128-gcm` or `chacha20-poly1305`.
    public init(parsing name: some StringProtocol) throws(HPKEBoxError) {
        switch name.lowercased() {
        case "aes-128-gcm", "aes128gcm", "aes128-gcm": self = .aes128GCM
        case "chacha20-poly1305", "chacha20poly1305": self = .chaCha20Poly1305
        default: throw .unsupportedSuite("AEAD '\(name)'; use aes-128-gcm or chacha20-poly1305")
        }
    }

    public var name: String { self == .aes128GCM ? "aes-128-gcm" : "chacha20-poly1305" }
    public var description: String { name }

    var aead: HPKE.AEAD { self == .aes128GCM ? .AES_GCM_128 : .chaChaPoly }
}

/// Why HPKE could not seal or open.
public enum HPKEBoxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A KEM, KDF or AEAD Kramaa does not use.
    case unsupportedSuite(String)
    /// The encapsulated key is not a public key of the suite's KEM.
    case badEncapsulatedKey(String)
    /// The private key is not one of the suite's KEM.
    case badPrivateKey(String)
    /// Decryption failed: wrong key, wrong `info` or `aad`, or altered bytes.
    case cannotOpen
    /// Sealing failed (a degenerate recipient key).
    case cannotSeal(String)

    public var description: String {
        switch self {
        case .unsupportedSuite(let what): return "unsupported HPKE \(what)"
        case .badEncapsulatedKey(let why): return "the encapsulated key is not usable: \(why)"
        case .badPrivateKey(let why): return "the private key is not usable: \(why)"
        case .cannotOpen: return "the ciphertext does not open with this key (another recipient key, another sender or recipient, or altered bytes)"
        case .cannotSeal(let why): return "cannot seal: \(why)"
        }
    }
}

/// HPKE (RFC 9180) base mode with the suites Kramaa uses: DHKEM(X25519 or P-256,
/// HKDF-SHA256), HKDF-SHA256 (KDF id 0x0001), AES-128-GCM or ChaCha20-Poly1305; one message
/// per context (sequence number 0). swift-crypto does the work.
public enum HPKEBox {
    /// The only KDF: HKDF-SHA256.
    public static let kdfId: UInt16 = 0x0001

    static func suite(_ kem: AgreementKeyType, _ aead: MessageAEAD) -> HPKE.Ciphersuite {
        HPKE.Ciphersuite(kem: kem.kem, kdf: .HKDF_SHA256, aead: aead.aead)
    }

    /// Seals `plaintext` to `recipient`: the encapsulated key (32 or 65 bytes) and the
    /// ciphertext (plaintext length + 16).
    public static func seal(_ plaintext: [UInt8], to recipient: AgreementPublicKey, aead: MessageAEAD, info: [UInt8],
                            aad: [UInt8]) throws(HPKEBoxError) -> (encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        do {
            var sender: HPKE.Sender
            switch recipient.type {
            case .x25519:
                sender = try HPKE.Sender(recipientKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.bytes),
                                         ciphersuite: suite(.x25519, aead), info: Data(info))
            case .p256:
                sender = try HPKE.Sender(recipientKey: try P256.KeyAgreement.PublicKey(x963Representation: recipient.bytes),
                                         ciphersuite: suite(.p256, aead), info: Data(info))
            }
            let ciphertext = try sender.seal(plaintext, authenticating: aad)
            return (Array(sender.encapsulatedKey), Array(ciphertext))
        } catch {
            throw .cannotSeal("\(error)")
        }
    }

    /// Opens what ``seal(_:to:aead:info:aad:)`` (or any RFC 9180 implementation in base mode with
    /// the same suite) sealed to `key`'s public key.
    public static func open(encapsulatedKey: [UInt8], ciphertext: [UInt8], with key: AgreementPrivateKey, aead: MessageAEAD,
                            info: [UInt8], aad: [UInt8]) throws(HPKEBoxError) -> [UInt8] {
        try open(encapsulatedKey: encapsulatedKey, ciphertext: ciphertext, privateKey: key.hpkePrivateKey, kem: key.type, aead: aead,
                 info: info, aad: aad)
    }

    /// The same with the raw HPKE private key (RFC 9180 SerializePrivateKey: an X25519 scalar or
    /// a P-256 scalar), for keys made elsewhere.
    public static func open(encapsulatedKey: [UInt8], ciphertext: [UInt8], privateKey: [UInt8], kem: AgreementKeyType, aead: MessageAEAD,
                            info: [UInt8], aad: [UInt8]) throws(HPKEBoxError) -> [UInt8] {
        guard encapsulatedKey.count == kem.publicKeyLength else {
            throw .badEncapsulatedKey("\(encapsulatedKey.count) bytes, a \(kem) key is \(kem.publicKeyLength)")
        }
        let x25519Key = kem == .x25519 ? try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey) : nil
        let p256Key = kem == .p256 ? try? P256.KeyAgreement.PrivateKey(rawRepresentation: privateKey) : nil
        guard x25519Key != nil || p256Key != nil else { throw .badPrivateKey("not a \(kem) private key (\(privateKey.count) bytes)") }
        var recipient: HPKE.Recipient
        do {
            if let x25519Key {
                recipient = try HPKE.Recipient(privateKey: x25519Key, ciphersuite: suite(.x25519, aead), info: Data(info),
                                               encapsulatedKey: Data(encapsulatedKey))
            } else {
                recipient = try HPKE.Recipient(privateKey: p256Key!, ciphersuite: suite(.p256, aead), info: Data(info),
                                               encapsulatedKey: Data(encapsulatedKey))
            }
        } catch {
            throw .badEncapsulatedKey("\(error)")
        }
        do { return Array(try recipient.open(ciphertext, authenticating: aad)) } catch { throw .cannotOpen }
    }
}
