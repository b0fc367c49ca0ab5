import Foundation
import KramaaPrimitives

/// A signed QR payload for an item without an NFC tag: the item's EPC URI, when it was issued,
/// a nonce, the signer's public key and its signature, packed and base64url-encoded into
/// `/verify?qr=…`. Binary layout (version 1, big-endian):
///
/// ```
/// 01 | key type (01 secp256k1, 02 P-256, 03 Ed25519) | public key (33, 33 or 32 bytes)
///    | issued at (8, Unix seconds) | nonce (8) | item length (2) | item (UTF-8 EPC URI)
///    | signature (64, SigningKey.signature over "kramaa-qr:v1" ‖ every byte before it)
/// ```
///
/// Pure: it checks the signature only; whether the signer speaks for the item's organisation
/// is the verifier's question (the organisation registry).
public struct QRPayload: Sendable, Equatable {
    public static let version: UInt8 = 1
    static let domain = Array("kramaa-qr:v1".utf8)
    /// Longest item accepted (an EPC URI is well under this).
    public static let maxItemLength = 512

    public let item: String
    public let issuedAt: UInt64
    public let nonce: [UInt8]
    public let signer: PublicKey
    public let signature: [UInt8]

    /// Signs `item` with `key`; `nonce` is 8 random bytes unless given.
    public static func sign(item: String, issuedAt: UInt64, key: SigningKey, nonce: [UInt8]? = nil) throws(QRPayloadError) -> QRPayload {
        let nonce = nonce ?? (0..<8).map { _ in UInt8.random(in: 0...255) }
        guard nonce.count == 8 else { throw .malformed("the nonce is 8 bytes, got \(nonce.count)") }
        guard !item.isEmpty, item.utf8.count <= maxItemLength else { throw .malformed("the item is 1 to \(maxItemLength) bytes of UTF-8") }
        let body = signedBody(item: item, issuedAt: issuedAt, nonce: nonce, signer: key.publicKey)
        return QRPayload(item: item, issuedAt: issuedAt, nonce: nonce, signer: key.publicKey,
                         signature: key.signature(for: domain + body))
    }

    /// Decodes the base64url text of a `qr` parameter; throws when it is not a payload.
    public init(encoded text: String) throws(QRPayloadError) {
        guard let bytes = Base64URL.decode(text) else { throw .malformed("not base64url text") }
        var reader = bytes[...]
        func take(_ count: Int, _ what: String) throws(QRPayloadError) -> ArraySlice<UInt8> {
            guard reader.count >= count else { throw .malformed("it ends inside the \(what)") }
            defer { reader = reader.dropFirst(count) }
            return reader.prefix(count)
        }
        guard try take(1, "version").first == Self.version else { throw .malformed("unknown version (this node reads version \(Self.version))") }
        guard let type = try take(1, "key type").first.flatMap({ KeyType(code: UInt64($0)) }) else {
            throw .malformed("unknown key type (\(KeyType.codesDescription))")
        }
        let keyBytes = try take(type == .ed25519 ? 32 : 33, "public key")
        do { signer = try PublicKey(type: type, bytes: keyBytes) } catch { throw .malformed("the public key is invalid: \(error)") }
        issuedAt = try take(8, "issue time").reduce(0) { $0 << 8 | UInt64($1) }
        nonce = Array(try take(8, "nonce"))
        let length = try take(2, "item length").reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= Self.maxItemLength else { throw .malformed("the item length \(length) is not 1 to \(Self.maxItemLength)") }
        guard let item = String(validating: try take(length, "item"), as: UTF8.self) else { throw .malformed("the item is not UTF-8") }
        self.item = item
        signature = Array(try take(64, "signature"))
        guard reader.isEmpty else { throw .malformed("\(reader.count) bytes follow the signature") }
    }

    private init(item: String, issuedAt: UInt64, nonce: [UInt8], signer: PublicKey, signature: [UInt8]) {
        self.item = item
        self.issuedAt = issuedAt
        self.nonce = nonce
        self.signer = signer
        self.signature = signature
    }

    /// The bytes of the payload, signature last.
    public var bytes: [UInt8] { Self.signedBody(item: item, issuedAt: issuedAt, nonce: nonce, signer: signer) + signature }

    /// The base64url text (no padding) for the `qr` parameter.
    public var encoded: String { Base64URL.encode(bytes) }

    /// Whether the signature is the signer's over this payload.
    public var signatureIsValid: Bool {
        signer.isValidSignature(signature, for: Self.domain + Self.signedBody(item: item, issuedAt: issuedAt, nonce: nonce, signer: signer))
    }

    private static func signedBody(item: String, issuedAt: UInt64, nonce: [UInt8], signer: PublicKey) -> [UInt8] {
        let type = signer.type.code  // KeyType's one table of codes
        let itemBytes = Array(item.utf8)
        var out: [UInt8] = [version, type] + signer.bytes
        out += (0..<8).map { UInt8(truncatingIfNeeded: issuedAt >> (8 * (7 - $0))) }
        out += nonce
        out += [UInt8(itemBytes.count >> 8), UInt8(truncatingIfNeeded: itemBytes.count)] + itemBytes
        return out
    }
}

/// Why a `qr` parameter is not a payload.
public enum QRPayloadError: Error, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "not a Kramaa QR payload: \(why)"
        }
    }
}
