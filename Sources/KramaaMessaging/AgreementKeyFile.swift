import Foundation
import KramaaPrimitives

/// Why an agreement key file could not be used.
public enum AgreementKeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON of the expected shape.
    case malformed(String)
    /// A field holds something other than the key it should.
    case invalidField(String, String)
    /// The stored public (or private) key is not the one the secret gives: edited or corrupt.
    case mismatch(field: String)

    public var description: String {
        switch self {
        case .malformed(let why):
            return "not a Kramaa agreement key file: \(why); expected JSON {\"type\": \"x25519\" or \"p256-kem\", \"privateKey\", \"publicKey\"}"
        case .invalidField(let field, let why): return "agreement key file field '\(field)': \(why)"
        case .mismatch(let field): return "the agreement key file's \(field) does not match its secret; the file is corrupt or was edited"
        }
    }
}

/// A key-agreement private key as Kramaa stores it (`kramaa keys new --type x25519|p256-kem`),
/// in a file only its owner may read (mode 0600, written by `PrivateFile`):
///
/// ```json
/// {
///   "type": "x25519",
///   "seed": "0x…",
///   "privateKey": "0x…",
///   "publicKey": "0x…"
/// }
/// ```
/// `privateKey` and `publicKey` are the HPKE keys (RFC 9180 SerializePrivateKey and
/// SerializePublicKey), usable by any HPKE implementation. For X25519, `seed` is the Ed25519 seed
/// the key derives from (``AgreementPrivateKey``), needed to prove possession; P-256 files have no
/// seed. Reading checks that every field agrees with the secret.
public struct AgreementKeyFile: Sendable {
    public let key: AgreementPrivateKey

    public init(_ key: AgreementPrivateKey) { self.key = key }

    /// The JSON text.
    public func encoded() -> [UInt8] {
        var fields = ["  \"type\": \"\(key.type.name)\""]
        if key.type == .x25519 { fields.append("  \"seed\": \"\(Hex.encode(key.secret))\"") }
        fields.append("  \"privateKey\": \"\(Hex.encode(key.hpkePrivateKey))\"")
        fields.append("  \"publicKey\": \"\(Hex.encode(key.publicKey.bytes))\"")
        return Array(("{\n" + fields.joined(separator: ",\n") + "\n}\n").utf8)
    }

    /// Parses and checks a file's content.
    public init(decoding content: [UInt8]) throws(AgreementKeyFileError) {
        guard content.count <= 64 * 1024, let object = try? JSONSerialization.jsonObject(with: Data(content)),
              let fields = object as? [String: Any] else {
            throw .malformed("not a JSON object")
        }
        func hex(_ name: String) throws(AgreementKeyFileError) -> [UInt8] {
            guard let text = fields[name] as? String else { throw .malformed("missing string field '\(name)'") }
            do { return try Hex.decode(text) } catch { throw .invalidField(name, "\(error)") }
        }
        guard let typeName = fields["type"] as? String else { throw .malformed("missing string field 'type'") }
        let type: AgreementKeyType
        do { type = try AgreementKeyType(parsing: typeName) } catch { throw .invalidField("type", "\(error)") }
        let secretField = type == .x25519 ? "seed" : "privateKey"
        let secret = try hex(secretField)
        do { key = try AgreementPrivateKey(type: type, secret: secret) } catch { throw .invalidField(secretField, "\(error)") }
        guard try hex("privateKey") == key.hpkePrivateKey else { throw .mismatch(field: "privateKey") }
        guard try hex("publicKey") == key.publicKey.bytes else { throw .mismatch(field: "publicKey") }
    }
}
