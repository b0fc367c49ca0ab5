import Crypto
import Foundation
import KramaaJSON
import KramaaPrimitives

/// A node's key for tag replication: an X25519 key pair kept in `DATADIR/tag-replication.key`
/// (32 bytes, mode 0600). Its public half is what the organisation's other nodes configure
/// (`--tag-peer PUBLICKEY@URL`), so they seal to it and know messages from it.
public struct TagReplicationIdentity: Sendable {
    public static let fileName = "tag-replication.key"
    /// The raw private key (kept as bytes so the identity is Sendable).
    private let rawPrivateKey: [UInt8]

    public var privateKey: Curve25519.KeyAgreement.PrivateKey { try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: rawPrivateKey) }
    public var publicKeyHex: String { Hex.encode(Array(privateKey.publicKey.rawRepresentation), prefix: false) }

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        rawPrivateKey = Array(privateKey.rawRepresentation)
    }

    /// The data directory's key, made on first use.
    public static func load(directory: URL) throws(TagStoreError) -> TagReplicationIdentity {
        let path = directory.appendingPathComponent(fileName).path
        let raw = try TagKeyStore.loadOrCreateSecret(path: path, size: 32) { Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation) }
        guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw .keyFile("\(path) does not hold a 32-byte X25519 key")
        }
        return TagReplicationIdentity(privateKey: key)
    }
}

/// Another node of the same organisation: its replication public key and its HTTP URL.
public struct TagPeer: Sendable, Equatable, CustomStringConvertible {
    /// The raw X25519 public key (32 bytes).
    public let publicKeyBytes: [UInt8]
    public let url: URL

    public var publicKey: Curve25519.KeyAgreement.PublicKey { try! Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKeyBytes) }
    public var publicKeyHex: String { Hex.encode(publicKeyBytes, prefix: false) }
    public var description: String { "\(publicKeyHex.prefix(16))…@\(url.absoluteString)" }

    public static func == (a: TagPeer, b: TagPeer) -> Bool { a.publicKeyHex == b.publicKeyHex && a.url == b.url }

    /// Parses `PUBLICKEYHEX@http://host:port` (`kramaa node --tag-peer`).
    public init(parsing text: String) throws(TagStoreError) {
        guard let at = text.firstIndex(of: "@") else {
            throw .invalid(field: "tag peer", "'\(text)' is not PUBLICKEY@URL (the peer's `kramaa tag node-key` and its HTTP URL)")
        }
        guard let raw = try? Hex.decode(String(text[..<at])), (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)) != nil else {
            throw .invalid(field: "tag peer", "'\(text[..<at])' is not a 32-byte X25519 public key in hex")
        }
        guard let url = URL(string: String(text[text.index(after: at)...])), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw .invalid(field: "tag peer", "'\(text[text.index(after: at)...])' is not an http(s) URL")
        }
        publicKeyBytes = raw
        self.url = url
    }
}

/// The sealed form of every replication message: HPKE (RFC 9180) in auth mode, X25519 /
/// HKDF-SHA256 / ChaCha20-Poly1305, from the sender's replication key to the recipient's, so
/// only the recipient reads it and it knows which configured peer sent it.
///
/// `{"sender": hex public key, "enc": hex encapsulated key, "ciphertext": hex}`
enum TagReplicaEnvelope {
    static var suite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    static let info = Data("kramaa tag replication v1".utf8)

    static func seal(_ message: JSON, from identity: TagReplicationIdentity, to recipient: Curve25519.KeyAgreement.PublicKey) throws -> [UInt8] {
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: suite, info: info, authenticatedBy: identity.privateKey)
        let ciphertext = try sender.seal(message.serialized())
        let envelope: JSON = ["sender": .string(identity.publicKeyHex), "enc": .string(Hex.encode(Array(sender.encapsulatedKey), prefix: false)),
                              "ciphertext": .string(Hex.encode(Array(ciphertext), prefix: false))]
        return envelope.serialized()
    }

    /// Opens an envelope from one of `peers`; throws when the sender is not one of them or the
    /// envelope was not sealed by its key to ours.
    static func open(_ body: [UInt8], at identity: TagReplicationIdentity, peers: [TagPeer]) throws(TagStoreError) -> (message: JSON, sender: TagPeer) {
        guard let envelope = try? JSON.parse(body), let senderHex = envelope["sender"]?.stringValue?.lowercased(),
              let enc = envelope["enc"]?.stringValue.flatMap({ try? Hex.decode($0) }),
              let ciphertext = envelope["ciphertext"]?.stringValue.flatMap({ try? Hex.decode($0) }) else {
            throw .invalid(field: "envelope", "not a sealed replication message {sender, enc, ciphertext}")
        }
        guard let peer = peers.first(where: { $0.publicKeyHex == senderHex }) else {
            throw .invalid(field: "sender", "\(senderHex.prefix(16))… is not a tag peer of this node")
        }
        do {
            var recipient = try HPKE.Recipient(privateKey: identity.privateKey, ciphersuite: suite, info: info,
                                               encapsulatedKey: Data(enc), authenticatedBy: peer.publicKey)
            let plain = try recipient.open(Data(ciphertext))
            return (try JSON.parse(Array(plain)), peer)
        } catch {
            throw .invalid(field: "envelope", "does not open with this node's key and the sender's: \(error)")
        }
    }
}
