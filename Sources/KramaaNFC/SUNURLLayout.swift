/// The URL a tag is programmed with, as a template: the static text the tag's NDEF file holds and the
/// places where the tag mirrors its data, as the SDM settings' offsets (PICCDataOffset, UIDOffset,
/// SDMReadCtrOffset, SDMENCOffset and SDMENCLength, SDMMACOffset) put them. A tap's URL is read by
/// position against the template rather than by parameter names, so any layout the tag can be
/// programmed with is readable, including a MAC written right after the file data with no separator.
///
/// Placeholders: `{picc}` (32 hex digits in AES mode, 48 in LRP), `{uid}` (14), `{ctr}` (6),
/// `{enc:N}` (N hex digits, a multiple of 32) and `{mac}` (16); everything else is literal text.
/// Example: `https://brand.example/t?e={picc}&d={enc:32}{mac}`.
public struct SUNURLLayout: Sendable, Equatable, CustomStringConvertible {
    /// The template as registered.
    public let template: String
    private let parts: [Part]

    private enum Part: Equatable {
        case literal([UInt8])
        case field(SUNField, hexDigits: Int)
    }

    /// Parses `template` for a tag in `mode`; throws with the reason when it is not a usable layout.
    public init(_ template: String, mode: SDMMode) throws(SUNError) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if rest[..<open].contains("}") { throw .malformedURL("URL layout '\(template)': '}' without '{'") }
            literal += Array(rest[..<open].utf8)
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw .malformedURL("URL layout '\(template)': '{' without '}'")
            }
            let name = rest[rest.index(after: open)..<close]
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = []
            parts.append(try Self.field(String(name), mode: mode, template: template))
            rest = rest[rest.index(after: close)...]
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { parts.append(.literal(literal)) }
        if literal.contains(UInt8(ascii: "}")) { throw .malformedURL("URL layout '\(template)': '}' without '{'") }
        let fields = parts.compactMap { part -> SUNField? in if case .field(let field, _) = part { field } else { nil } }
        guard fields.contains(.sdmmac) else { throw .malformedURL("URL layout '\(template)' has no {mac}") }
        guard fields.contains(.piccData) || fields.contains(.uid) || fields.contains(.readCounter) else {
            throw .malformedURL("URL layout '\(template)' mirrors nothing: it needs {picc}, or {uid} and/or {ctr}")
        }
        guard Set(fields).count == fields.count else { throw .malformedURL("URL layout '\(template)' names a field twice") }
        guard template.hasPrefix("https://") || template.hasPrefix("http://") else {
            throw .malformedURL("URL layout '\(template)' must start with https:// or http://")
        }
        self.template = template
        self.parts = parts
    }

    private static func field(_ name: String, mode: SDMMode, template: String) throws(SUNError) -> Part {
        switch name {
        case "picc": return .field(.piccData, hexDigits: mode == .lrp ? 48 : 32)
        case "uid": return .field(.uid, hexDigits: 14)
        case "ctr": return .field(.readCounter, hexDigits: 6)
        case "mac": return .field(.sdmmac, hexDigits: 16)
        default:
            if name.hasPrefix("enc:"), let digits = Int(name.dropFirst(4)), digits > 0, digits % 32 == 0 {
                return .field(.encFileData, hexDigits: digits)
            }
            throw .malformedURL("URL layout '\(template)': {\(name)} is not {picc}, {uid}, {ctr}, {mac} or {enc:N} with N a multiple of 32")
        }
    }

    /// The UTF-8 byte ranges of the mirrored fields in `url`, or nil when `url` does not have this
    /// layout (different static text, different length, or a field that is not hex).
    public func match(_ url: String) -> [SUNField: Range<Int>]? {
        let bytes = Array(url.utf8)
        var position = 0
        var fields: [SUNField: Range<Int>] = [:]
        for part in parts {
            switch part {
            case .literal(let text):
                guard bytes.count - position >= text.count, bytes[position..<(position + text.count)].elementsEqual(text) else { return nil }
                position += text.count
            case .field(let field, let digits):
                guard bytes.count - position >= digits,
                      bytes[position..<(position + digits)].allSatisfy(Self.isHexDigit) else { return nil }
                fields[field] = position..<(position + digits)
                position += digits
            }
        }
        return position == bytes.count ? fields : nil
    }

    public var description: String { template }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}
