import KramaaPrimitives

/// A named input of SUN verification, for error messages.
public enum SUNField: String, Sendable, Equatable {
    case piccData = "PICC data"
    case encFileData = "encrypted file data (SDMENCFileData)"
    case sdmmac = "SDMMAC"
    case uid = "UID"
    case readCounter = "read counter"
    case sdmMetaReadKey = "SDM meta read key"
    case sdmFileReadKey = "SDM file read key"
    case key = "key"
    case masterKey = "master key"
    case lrpCounter = "LRP counter"
    case lrpData = "LRICB data"
}

/// Why a SUN message, a key or an LRP input was rejected.
///
/// A well-formed message whose MAC does not match is not an error of `SUNVerifier.verify`
/// (it reports `macIsValid == false`); `SUNReading.requireValidMAC()` turns it into `.badMAC`.
public enum SUNError: Error, Equatable, CustomStringConvertible {
    /// A field that should be hexadecimal is not.
    case invalidHex(SUNField, HexError)
    /// A field has the wrong byte length; `expected` says what is accepted.
    case wrongLength(SUNField, expected: String, actual: Int)
    /// The decrypted PICCDataTag byte is not one NTAG 424 DNA writes (RFU bits set, nothing
    /// mirrored, or a UID length other than 7): almost always a wrong SDM meta read key.
    case unknownPICCDataTag(UInt8)
    /// A value the operation needs was not given or not mirrored by the tag.
    case missing(SUNField)
    /// The SDMMAC does not match: the message was altered or the SDM file read key is wrong.
    case badMAC
    /// LRICB plaintext whose ISO/IEC 9797-1 method 2 padding (`80 00 …`) is missing.
    case invalidPadding
    /// An LRP updated-key index outside the keys that were generated.
    case updatedKeyIndexOutOfRange(Int, count: Int)
    /// An LRP evaluation input nibble above 15.
    case invalidNibble(UInt8)
    /// A URL without the parts of a SUN message; the text says which.
    case malformedURL(String)

    public var description: String {
        switch self {
        case .invalidHex(let field, let error):
            return "\(field.rawValue) is not valid hex: \(error)"
        case .wrongLength(let field, let expected, let actual):
            return "\(field.rawValue) must be \(expected), got \(actual) bytes; check the tag's SDM configuration and that the value was copied whole"
        case .unknownPICCDataTag(let tag):
            return "decrypted PICCDataTag \(Hex.encode([tag], prefix: false).uppercased()) is not one an NTAG 424 DNA writes (expected UID/counter mirror bits and UID length 7); the SDM meta read key is probably wrong"
        case .missing(let field):
            return "\(field.rawValue) is needed but was not given (or the tag does not mirror it); supply it or enable its mirroring on the tag"
        case .badMAC:
            return "the SDMMAC does not match: the message was altered, or the SDM file read key registered for this tag is wrong"
        case .invalidPadding:
            return "decrypted LRICB data does not end in 80 00…00 padding; the key, counter or ciphertext is wrong"
        case .updatedKeyIndexOutOfRange(let index, let count):
            return "LRP updated-key index \(index) is out of range; use 0..<\(count)"
        case .invalidNibble(let value):
            return "LRP input nibble \(value) is above 15; pass one value 0...15 per nibble"
        case .malformedURL(let why):
            return "not a SUN URL: \(why)"
        }
    }
}

extension SUNField {
    /// Decodes hex for this field, reporting errors against it.
    func decodeHex(_ text: some StringProtocol) throws(SUNError) -> [UInt8] {
        do { return try Hex.decode(text) } catch { throw .invalidHex(self, error) }
    }

    /// Decodes a 16-byte key.
    func decodeKey(_ text: some StringProtocol) throws(SUNError) -> [UInt8] {
        let bytes = try decodeHex(text)
        guard bytes.count == 16 else { throw .wrongLength(self, expected: "16 bytes (AES-128)", actual: bytes.count) }
        return bytes
    }
}
