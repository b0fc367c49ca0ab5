import Foundation

/// Base64url without padding (RFC 4648 §5), as URLs carry it.
public enum Base64URL {
    /// The text of `bytes`, without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().lazy.compactMap { c -> Character? in
            switch c { case "+": "-"; case "/": "_"; case "=": nil; default: c }
        })
    }

    /// The bytes of unpadded base64url `text`; nil when it is not that (other characters, an
    /// impossible length).
    public static func decode(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        guard standard.count % 4 != 1 else { return nil }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map { Array($0) }
    }
}
