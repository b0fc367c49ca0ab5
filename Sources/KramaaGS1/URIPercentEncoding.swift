/// Percent-encoding of AI values in GS1 Digital Link URIs (RFC 3986, GS1 Digital Link §7).
public enum URIPercentEncoding {
    /// Where a value sits: path segments keep `+`; query values write space as `+`.
    public enum Component: Sendable {
        case path
        case query
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`, which are never escaped.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
    }

    /// Escapes every byte except the unreserved ones (the GS1 canonical form); in a query a space becomes `+`.
    public static func escape(_ value: String, in component: Component) -> String {
        escape(value, in: component, keeping: isUnreserved)
    }

    /// Escapes every byte for which `keep` is false, with upper-case hex digits.
    static func escape(_ value: String, in component: Component, keeping keep: (UInt8) -> Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if keep(byte) {
                out.append(byte)
            } else if byte == 0x20, component == .query {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%HH` escapes (a `%` not followed by two hex digits stays as it is); in a query `+` is a space.
    /// Returns the raw bytes, which need not be UTF-8.
    public static func unescapeBytes(_ text: some StringProtocol, in component: Component) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(component == .query && byte == UInt8(ascii: "+") ? 0x20 : byte)
            index += 1
        }
        return out
    }

    /// Decodes escapes as `unescapeBytes`; nil if the result is not valid UTF-8 or contains a NUL.
    public static func unescape(_ text: some StringProtocol, in component: Component) -> String? {
        let bytes = unescapeBytes(text, in: component)
        guard !bytes.contains(0), let string = String(validating: bytes, as: UTF8.self) else { return nil }
        return string
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
