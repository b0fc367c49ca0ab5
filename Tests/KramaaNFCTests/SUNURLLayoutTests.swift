import KramaaNFC
import Testing

/// Tap URLs read by position against the layout a tag is programmed with.
@Suite struct SUNURLLayoutTests {
    static let picc = "EF963FF7828658A599F3041510671E88"
    static let enc = "CEE9A53E3E463EF1F459635736738962"
    static let mac = "94EED9EE65337086"

    @Test func fieldsAreFoundByPositionEvenWithoutSeparators() throws {
        let layout = try SUNURLLayout("https://b.example/t?e={picc}&d={enc:32}{mac}", mode: .aes)
        let url = "https://b.example/t?e=\(Self.picc)&d=\(Self.enc)\(Self.mac)"
        let sun = try SUNURL(url, layout: layout)
        #expect(sun.piccData?.value == Substring(Self.picc))
        #expect(sun.encFileData?.value == Substring(Self.enc))
        #expect(sun.cmac.value == Substring(Self.mac))
        // The MAC input from the file data is the file data alone: the MAC follows it directly.
        #expect(try sun.macInput(start: .encFileData) == Array(Self.enc.utf8))
    }

    @Test func aURLWithOtherStaticTextOrLengthsDoesNotMatch() throws {
        let layout = try SUNURLLayout("https://b.example/t?e={picc}&c={mac}", mode: .aes)
        #expect(layout.match("https://b.example/t?e=\(Self.picc)&c=\(Self.mac)") != nil)
        #expect(layout.match("https://b.example/u?e=\(Self.picc)&c=\(Self.mac)") == nil)
        #expect(layout.match("https://b.example/t?e=\(Self.picc)&c=\(Self.mac)0") == nil)
        #expect(layout.match("https://b.example/t?e=\(Self.picc.dropLast())G&c=\(Self.mac)") == nil)
        #expect(throws: SUNError.self) { try SUNURL("https://b.example/u?e=\(Self.picc)&c=\(Self.mac)", layout: layout) }
        // An LRP tag's PICC data is 24 bytes: the same template reads 48 hex digits.
        let lrp = try SUNURLLayout("https://b.example/t?e={picc}&c={mac}", mode: .lrp)
        #expect(lrp.match("https://b.example/t?e=\(Self.picc)&c=\(Self.mac)") == nil)
        #expect(lrp.match("https://b.example/t?e=\(Self.picc)\(Self.picc.prefix(16))&c=\(Self.mac)") != nil)
    }

    @Test(arguments: [
        "https://b.example/t?c={mac}",                 // mirrors nothing
        "https://b.example/t?e={picc}",                // no MAC
        "https://b.example/t?e={picc}&d={enc:20}{mac}", // file data is whole AES blocks
        "https://b.example/t?e={picc}&x={foo}{mac}",
        "https://b.example/t?e={picc}{picc}{mac}",
        "https://b.example/t?e={picc&c={mac}",
        "https://b.example/t}?e={picc}&c={mac}",
        "ftp://b.example/t?e={picc}&c={mac}",
    ])
    func malformedLayoutsAreRefusedWithTheReason(template: String) {
        #expect(throws: SUNError.self) { try SUNURLLayout(template, mode: .aes) }
    }
}
