import Testing
import KramaaPrimitives
import KramaaNFC

/// Splitting SUN URLs: parameter names and aliases, the compact `x` form, MAC-input slices, errors.
@Suite struct SUNURLTests {
    @Test func aliasesOfTheParametersAreRecognised() throws {
        let picc = "EF963FF7828658A599F3041510671E88", mac = "94EED9EE65337086"
        for url in ["https://ntag.nxp.com/424?e=\(picc)&c=\(mac)", "https://x.example/?p=\(picc)&c=\(mac)",
                    "https://x.example/t?picc_data=\(picc)&cmac=\(mac)&other=1#frag", "https://x.example/?m=\(picc)x\(mac)", "https://x.example/?PICC_DATA=\(picc)&CMAC=\(mac)"] {
            let parsed = try SUNURL(url)
            #expect(parsed.piccData?.value == picc[...], "\(url)")
            #expect(parsed.cmac.value == mac[...], "\(url)")
            #expect(try parsed.message(macInputStart: .empty).macInput.isEmpty)
            let keys = try SDMKeys(mode: .aes, metaReadKey: [UInt8](repeating: 0, count: 16), fileReadKey: [UInt8](repeating: 0, count: 16))
            #expect(try SUNVerifier.verify(parsed.message(), keys: keys).macIsValid, "\(url)")
        }
    }

    @Test func plainMirroringReadsUIDAndCounter() throws {
        let parsed = try SUNURL("https://t.example/?uid=041E3C8A2D6B80&ctr=000006&cmac=4B00064004B0B3D3")
        let message = try parsed.message()
        #expect(message.piccData == .plain(try PICCData(uid: TagUID(hex: "041E3C8A2D6B80"), readCounter: 6)))
        let keys = try SDMKeys(mode: .aes, metaReadKey: nil, fileReadKey: [UInt8](repeating: 0, count: 16))
        #expect(try SUNVerifier.verify(message, keys: keys).macIsValid)
        // From the UID value to the MAC value.
        #expect(try parsed.macInput(start: .piccData) == Array("041E3C8A2D6B80&ctr=000006&cmac=".utf8))
    }

    @Test func macInputStartsWhereTheTagSaysAndEndsAtTheMAC() throws {
        let url = "https://a.example/?picc_data=00112233445566778899AABBCCDDEEFF&enc=00112233445566778899AABBCCDDEEFF&cmac=0011223344556677"
        let parsed = try SUNURL(url)
        #expect(try parsed.macInput(start: .conventional) == Array("00112233445566778899AABBCCDDEEFF&cmac=".utf8))
        #expect(try parsed.macInput(start: .afterScheme) == Array(url.utf8.dropFirst(8).prefix(parsed.cmac.offset - 8)))
        #expect(try parsed.macInput(start: .offset(parsed.cmac.offset)).isEmpty)
        #expect(throws: SUNError.malformedURL("the MAC input would start at offset \(parsed.cmac.offset + 1), after the MAC at \(parsed.cmac.offset)")) {
            try parsed.macInput(start: .offset(parsed.cmac.offset + 1))
        }
        let noEnc = try SUNURL("https://a.example/?e=00112233445566778899AABBCCDDEEFF&c=0011223344556677")
        #expect(try noEnc.macInput(start: .conventional).isEmpty)
        #expect(throws: SUNError.missing(.encFileData)) { try noEnc.macInput(start: .encFileData) }
    }

    @Test func compactFormInThePathHasTwoOrThreeSegments() throws {
        let three = try SUNURL("https://d.example/tag/AAAAx0000000000000000000000000000000xBBBB")
        #expect(three.piccData?.value == "AAAA")
        #expect(three.encFileData?.value == "0000000000000000000000000000000")
        #expect(three.cmac.value == "BBBB")
        #expect(three.cmac.offset == "https://d.example/tag/AAAAx0000000000000000000000000000000x".utf8.count)
        #expect(throws: SUNError.malformedURL("compact SUN data must be PICCxMAC or PICCxENCxMAC, got 4 segment(s)")) {
            try SUNURL("https://d.example/AxBxCxD")
        }
    }

    @Test func urlsWithoutSUNPartsAreRejected() {
        #expect(throws: SUNError.malformedURL("no MAC parameter (cmac or c) in 'https://a.example/?e=00'")) { try SUNURL("https://a.example/?e=00") }
        #expect(throws: SUNError.malformedURL("no PICC data (picc_data, e or p) and no plain uid/ctr in 'https://a.example/?c=00'")) {
            try SUNURL("https://a.example/?c=00")
        }
        #expect(throws: SUNError.malformedURL("parameter 'c' (or an alias of it) appears twice")) { try SUNURL("https://a.example/?e=00&cmac=00&c=11") }
        #expect(throws: SUNError.malformedURL("compact SUN data must be PICCxMAC or PICCxENCxMAC, got 1 segment(s)")) {
            try SUNURL("https://a.example/page")
        }
        #expect(throws: SUNError.malformedURL("no MAC parameter (cmac or c) in 'https://a.example/'")) { try SUNURL("https://a.example/") }
    }
}

/// The bench workloads are real taps: each one verifies.
@Suite struct SUNBenchmarkWorkloadTests {
    @Test func everyWorkloadVerifies() throws {
        let workloads = try SUNBenchmark.workloads()
        #expect(workloads.count == 4)
        for workload in workloads {
            #expect(workload.run(iterations: 3) == 3, "\(workload.name)")
        }
    }
}
