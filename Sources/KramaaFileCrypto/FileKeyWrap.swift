import KramaaMessaging
import KramaaPrimitives

/// A private file's key wrapped for one reader (docs/FILES.md, "Private files"): HPKE base mode
/// (RFC 9180, the messaging suites: DHKEM X25519 or P-256, HKDF-SHA256, AES-128-GCM) to the
/// reader's agreement key, with the file's header as associated data, so a wrapped key opens
/// only for that reader and only names that file. What the registry stores with the pin
/// (`setReaderKey(cid, keyHash, wrapped)`), keyed by the reader key's hash.
///
/// ```
/// wrapped: version 1 | kem u16 | encapsulated key (32 or 65) | sealed file key (48)
/// ```
public enum FileKeyWrap {
    static let info = Array("kramaa-file-key-v1".utf8)

    public static func wrap(_ fileKey: [UInt8], for reader: AgreementPublicKey, header: PrivateFileHeader) throws(FileCryptoError) -> [UInt8] {
        guard fileKey.count == 32 else { throw .keyWrap("a file key is 32 bytes, not \(fileKey.count)") }
        do {
            let (enc, sealed) = try HPKEBox.seal(fileKey, to: reader, aead: .aes128GCM, info: info, aad: header.bytes)
            return [1, UInt8(reader.type.rawValue >> 8), UInt8(reader.type.rawValue & 0xff)] + enc + sealed
        } catch {
            throw .keyWrap("cannot wrap for \(reader): \(error)")
        }
    }

    public static func unwrap(_ wrapped: [UInt8], with key: AgreementPrivateKey, header: PrivateFileHeader) throws(FileCryptoError) -> [UInt8] {
        guard wrapped.count > 3, wrapped[0] == 1 else { throw .keyWrap("not a wrapped file key (version \(wrapped.first.map(String.init) ?? "none"))") }
        let kem = UInt16(wrapped[1]) << 8 | UInt16(wrapped[2])
        guard kem == key.type.rawValue else { throw .keyWrap("wrapped for a \(AgreementKeyType(rawValue: kem).map { "\($0)" } ?? "unknown") key, not this \(key.type) key") }
        let encLength = key.type.publicKeyLength
        guard wrapped.count == 3 + encLength + 48 else { throw .keyWrap("a wrapped key for \(key.type) is \(3 + encLength + 48) bytes, not \(wrapped.count)") }
        do {
            return try HPKEBox.open(encapsulatedKey: Array(wrapped[3..<3 + encLength]), ciphertext: Array(wrapped[(3 + encLength)...]), with: key,
                                    aead: .aes128GCM, info: info, aad: header.bytes)
        } catch {
            throw .keyWrap("this key cannot open it (not wrapped for this reader, or for another file): \(error)")
        }
    }
}
