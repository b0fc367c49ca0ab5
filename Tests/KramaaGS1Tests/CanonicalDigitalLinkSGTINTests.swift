import Foundation
@testable import KramaaGS1
import KramaaPrimitives
import Testing

/// `CanonicalDigitalLink.simpleSGTIN`, the direct path for plain SGTINs, must answer exactly what
/// the general path answers, and only for URIs it fully understands.
@Suite struct CanonicalDigitalLinkSGTINTests {
    @Test func theDirectPathAgreesWithTheGeneralOneOnEveryVectorURN() throws {
        var urns = try DigitalLinkVectorTests.entries("digitallink", "dl-vectors.json").compactMap { $0["epc_urn"] as? String }
        urns += try DigitalLinkVectorTests.entries("epcis-hash", "dl-normalisation.json").compactMap { $0["input"] as? String }
        var direct = 0
        for urn in urns {
            guard let fast = CanonicalDigitalLink.simpleSGTIN(urn) else { continue }
            direct += 1
            #expect(fast == CanonicalDigitalLink.normaliseGenerally(urn), "\(urn)")
        }
        #expect(direct > 0, "no vector URN took the direct path")
    }

    @Test func randomPlainSGTINsTakeTheDirectPathAndAgree() {
        var rng = SplitMix64(seed: 4)
        let alphanumerics = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        for _ in 0..<2_000 {
            let prefixLength = Int.random(in: 6...12, using: &rng)
            let digits = String((0..<13).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            let serial = String((0..<Int.random(in: 1...20, using: &rng)).map { _ in alphanumerics.randomElement(using: &rng)! })
            let urn = "urn:epc:id:sgtin:\(digits.prefix(prefixLength)).\(digits.dropFirst(prefixLength)).\(serial)"
            let fast = CanonicalDigitalLink.simpleSGTIN(urn)
            #expect(fast != nil, "\(urn)")
            #expect(fast == CanonicalDigitalLink.normaliseGenerally(urn), "\(urn)")
        }
    }

    @Test func anythingBeyondAPlainSGTINIsLeftToTheGeneralPath() {
        let others = [
            "urn:epc:id:sgtin:0614141.107346.1.2",      // '.' in the serial (allowed, but not plain)
            "urn:epc:id:sgtin:0614141.107346.A%2FB",    // an escape
            "urn:epc:id:sgtin:0614141.107346.ab-c",     // a raw character other than letters and digits
            "urn:epc:id:sgtin:0614141.107346.123456789012345678901",  // 21 characters
            "urn:epc:id:sgtin:0614141.107346.",         // empty serial
            "urn:epc:id:sgtin:06141.12345678.1",        // 5-digit company prefix
            "urn:epc:id:sgtin:0614141234567.0.1",       // 13-digit company prefix
            "urn:epc:id:sgtin:0614141.10734.1",         // 12 digits in all
            "urn:epc:id:sgtin:0614141.1073466.1",       // 14 digits in all
            "urn:epc:id:sgtin:06141A1.107346.1",        // a letter in the prefix
            "urn:epc:idpat:sgtin:0614141.107346.*",     // a pattern
            "urn:epc:id:sgtin:0614141.107346.é",        // not ASCII
            "urn:epc:id:sscc:0614141.1234567890",       // another scheme
            "URN:EPC:ID:SGTIN:0614141.107346.1",        // not the lower-case form
        ]
        for urn in others {
            #expect(CanonicalDigitalLink.simpleSGTIN(urn) == nil, "\(urn)")
            #expect(CanonicalDigitalLink.normalise(urn) == CanonicalDigitalLink.normaliseGenerally(urn), "\(urn)")
        }
        #expect(CanonicalDigitalLink.simpleSGTIN("urn:epc:id:sgtin:0614141.107346.2017") == "https://id.gs1.org/01/10614141073464/21/2017")
    }
}
