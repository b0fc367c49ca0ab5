import KramaaJSON
import KramaaRPC
import Testing

/// `HTTPRequest.split(uri:)` reads the target byte by byte; it gives what splitting the text
/// by characters gave (the model below), which the endpoints were written against.
@Suite struct HTTPRequestSplitTests {
    /// The reading by characters: path before the first `?`, items split at `&` (empty ones
    /// skipped), name and value at the first `=`, each form-decoded.
    static func model(_ uri: String) -> (path: String, query: [[String]]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts.first ?? "")
        guard parts.count > 1 else { return (path, []) }
        return (path, parts[1].split(separator: "&").map { item in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return [decode(pair[0]), pair.count > 1 ? decode(pair[1]) : ""]
        })
    }

    static func decode(_ text: Substring) -> String {
        var out: [UInt8] = []
        var rest = Array(text.utf8)[...]
        while let byte = rest.popFirst() {
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), rest.count >= 2, let high = RPCHex.digitValue(rest[rest.startIndex]),
                      let low = RPCHex.digitValue(rest[rest.startIndex + 1]) {
                out.append(high << 4 | low)
                rest.removeFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func agreesWithTheCharacterReadingOnRandomTargets() {
        let alphabet: [String] = ["a", "Z", "0", "9", "f", "F", "%", "+", "=", "&", "?", "/", "é", "€", "😀", "%2", "%4", "%C3%A9", "%ff", "%zz"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let uri = (0..<Int.random(in: 0...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            let (path, query) = HTTPRequest.split(uri: uri)
            let expected = Self.model(uri)
            #expect(path == expected.path, "path of \(uri)")
            #expect(query.map { [$0.name, $0.value] } == expected.query, "query of \(uri)")
            #expect(HTTPRequest.path(ofURI: uri) == expected.path, "path only, of \(uri)")
        }
    }

    @Test func decodesItemsAndKeepsMalformedEscapes() {
        let (path, query) = HTTPRequest.split(uri: "/verify?e=A1%2Bb&c=x+y&&flag&bad=%4&end=%")
        #expect(path == "/verify")
        #expect(query.map { [$0.name, $0.value] } == [["e", "A1+b"], ["c", "x y"], ["flag", ""], ["bad", "%4"], ["end", "%"]])
        #expect(HTTPRequest.split(uri: "/plain").query.isEmpty && HTTPRequest.split(uri: "/plain?").query.isEmpty)
        #expect(HTTPRequest.formDecode("a%20b+c"[...]) == "a b c")
    }
}
