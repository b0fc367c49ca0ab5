import Crypto
import Foundation
import KramaaPrimitives
import SwiftASN1
import X509

/// A node's network identity: its secp256k1 node key (whose ``Address`` is the node id) and the
/// TLS credentials bound to it.
///
/// TLS cannot sign with secp256k1, so (as in libp2p's TLS handshake) each node makes a fresh P-256
/// key for TLS and a self-signed X.509 certificate for it that carries the *identity extension*:
///
/// ```
/// KramaaIdentity ::= SEQUENCE {
///     publicKey  OCTET STRING,   -- the node's secp256k1 public key, 33 bytes compressed
///     signature  OCTET STRING }  -- 65 bytes r ‖ s ‖ recoveryId, by the node key, over
///                                -- keccak256("kramaa-tls-handshake:" ‖ DER(SubjectPublicKeyInfo))
/// ```
///
/// under the object identifier ``IdentityCertificate/extensionOID`` (1.3.6.1.4.1.4242424.1.1,
/// provisional), marked critical. The TLS handshake proves that the peer holds
/// the P-256 key of its certificate; the extension proves that the holder of the node key chose
/// that P-256 key. See docs/NETWORK.md.
public struct NodeIdentity: Sendable {
    /// The node key.
    public let nodeKey: Secp256k1.PrivateKey
    /// The node id.
    public var address: Address { nodeKey.publicKey.address }
    /// The TLS key (P-256, made fresh for this identity), PEM (PKCS #8).
    let tlsKeyPEM: String
    /// The self-signed certificate, DER.
    let certificateDER: [UInt8]

    /// Makes a fresh TLS key and a certificate valid from an hour ago (clock skew) for `lifetime`.
    public init(nodeKey: Secp256k1.PrivateKey, lifetime: Duration = .seconds(365 * 24 * 3600), now: Date = Date()) throws {
        let tlsKey = P256.Signing.PrivateKey()
        let certificate = try IdentityCertificate.make(nodeKey: nodeKey, tlsKey: tlsKey,
                                                       notValidBefore: now - 3600,
                                                       notValidAfter: now + TimeInterval(lifetime.components.seconds))
        self.init(nodeKey: nodeKey, tlsKey: tlsKey, certificateDER: certificate)
    }

    /// An identity from given parts (tests build forged certificates with this).
    init(nodeKey: Secp256k1.PrivateKey, tlsKey: P256.Signing.PrivateKey, certificateDER: [UInt8]) {
        self.nodeKey = nodeKey
        self.tlsKeyPEM = tlsKey.pemRepresentation
        self.certificateDER = certificateDER
    }
}

/// Why a peer's certificate was refused.
public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedCertificate(String)
    case badSelfSignature
    case notYetValid
    case expired
    case missingIdentityExtension
    case malformedIdentityExtension(String)
    case bindingSignatureInvalid
    case notAllowed(Address)
    case unexpectedPeer(expected: Address, got: Address)
    case banned(Address)
    case selfConnection

    public var description: String {
        switch self {
        case .malformedCertificate(let why): "malformed certificate: \(why)"
        case .badSelfSignature: "certificate self-signature is invalid"
        case .notYetValid: "certificate is not yet valid"
        case .expired: "certificate has expired"
        case .missingIdentityExtension: "certificate lacks the Kramaa identity extension"
        case .malformedIdentityExtension(let why): "malformed identity extension: \(why)"
        case .bindingSignatureInvalid: "identity extension signature does not bind the node key to the TLS key"
        case .notAllowed(let address): "node \(address) is not in the allowed set"
        case .unexpectedPeer(let expected, let got): "expected node \(expected), got \(got)"
        case .banned(let address): "node \(address) is banned for misbehaviour"
        case .selfConnection: "connection to self"
        }
    }
}

/// Making and checking the self-signed certificates that bind a TLS key to a node key.
public enum IdentityCertificate {
    /// 1.3.6.1.4.1.4242424.1.1: provisional, in a Private Enterprise Number arc that IANA has
    /// not assigned (swift-asn1 cannot hold a UUID arc, 2.25.<128 bits>). Only Kramaa nodes read
    /// it, in the self-signed certificates they exchange; replace it with an assigned PEN before
    /// interoperating with anything else.
    public static let extensionOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 4242424, 1, 1]

    /// Prepended to the SubjectPublicKeyInfo before hashing (domain separation).
    public static let signaturePrefix = Array("kramaa-tls-handshake:".utf8)

    /// The digest the node key signs: keccak256(prefix ‖ spkiDER).
    public static func bindingDigest(subjectPublicKeyInfoDER spki: [UInt8]) -> Bytes32 {
        Keccak256.hash(signaturePrefix + spki)
    }

    static func spkiDER(_ key: Certificate.PublicKey) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(key)
        return serializer.serializedBytes
    }

    /// The identity extension's DER value.
    static func extensionValue(publicKey: [UInt8], signature: [UInt8]) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(ASN1OctetString(contentBytes: ArraySlice(publicKey)))
            try s.serialize(ASN1OctetString(contentBytes: ArraySlice(signature)))
        }
        return serializer.serializedBytes
    }

    /// The signed binding of `nodeKey` to `spki` (a SubjectPublicKeyInfo, DER), as the extension value.
    static func binding(nodeKey: Secp256k1.PrivateKey, spki: [UInt8]) throws -> [UInt8] {
        let signature = nodeKey.sign(digest: bindingDigest(subjectPublicKeyInfoDER: spki))
        return try extensionValue(publicKey: nodeKey.publicKey.compressedRepresentation,
                                  signature: signature.rawRepresentation)
    }

    /// A self-signed certificate for `tlsKey` carrying the binding by `nodeKey` (or, for tests,
    /// the given extension value instead).
    static func make(nodeKey: Secp256k1.PrivateKey, tlsKey: P256.Signing.PrivateKey,
                     notValidBefore: Date, notValidAfter: Date,
                     extensionValueOverride: [UInt8]? = nil) throws -> [UInt8] {
        let publicKey = Certificate.PublicKey(tlsKey.publicKey)
        let value = try extensionValueOverride ?? binding(nodeKey: nodeKey, spki: spkiDER(publicKey))
        let name = try DistinguishedName { CommonName("kramaa-node-\(nodeKey.publicKey.address.lowercased)") }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions([
                Certificate.Extension(oid: extensionOID, critical: true, value: ArraySlice(value)),
            ]),
            issuerPrivateKey: Certificate.PrivateKey(tlsKey))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// Checks a peer's certificate (DER) and returns the node address it is bound to: a valid
    /// self-signature, `now` inside the validity period, and an identity extension whose signature
    /// over this certificate's SubjectPublicKeyInfo recovers the public key it names.
    public static func verify(_ der: [UInt8], now: Date = Date()) throws(IdentityError) -> Address {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch {
            throw .malformedCertificate("\(error)")
        }
        guard certificate.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw .badSelfSignature
        }
        guard now >= certificate.notValidBefore else { throw .notYetValid }
        guard now <= certificate.notValidAfter else { throw .expired }
        guard let ext = certificate.extensions[oid: extensionOID] else { throw .missingIdentityExtension }
        let publicKeyBytes: ArraySlice<UInt8>
        let signatureBytes: ArraySlice<UInt8>
        do {
            let root = try DER.parse(ext.value)
            (publicKeyBytes, signatureBytes) = try DER.sequence(root, identifier: .sequence) { nodes in
                let key = try ASN1OctetString(derEncoded: &nodes)
                let signature = try ASN1OctetString(derEncoded: &nodes)
                return (key.bytes, signature.bytes)
            }
        } catch {
            throw .malformedIdentityExtension("\(error)")
        }
        let claimed: Secp256k1.PublicKey
        let signature: Secp256k1.RecoverableSignature
        do {
            claimed = try Secp256k1.PublicKey(compressedRepresentation: publicKeyBytes)
            signature = try Secp256k1.RecoverableSignature(rawRepresentation: signatureBytes)
        } catch {
            throw .malformedIdentityExtension("\(error)")
        }
        let spki: [UInt8]
        do { spki = try spkiDER(certificate.publicKey) } catch { throw .malformedCertificate("\(error)") }
        let digest = bindingDigest(subjectPublicKeyInfoDER: spki)
        guard let recovered = try? signature.recoverPublicKey(digest: digest), recovered == claimed,
              Secp256k1.isLowS(signature.s) else {
            throw .bindingSignatureInvalid
        }
        return claimed.address
    }
}
