import Testing
import KramaaPrimitives

@Suite struct AddressTests {
    // The examples of EIP-55 itself.
    static let eip55 = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ]

    @Test(arguments: eip55)
    func checksumMatchesEIP55Examples(_ s: String) throws {
        let a = try Address(hex: s.lowercased())
        #expect(a.checksummed == s)
        #expect(try Address(hex: s) == a)
        #expect(try Address(hex: "0x" + s.dropFirst(2).uppercased()) == a)
    }

    @Test func wrongChecksumIsRejected() {
        // Flip the case of one letter of a valid checksummed address.
        let bad = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        #expect(throws: AddressError.badChecksum(given: bad, expected: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")) {
            try Address(hex: bad)
        }
    }

    @Test func wrongLengthAndBadHexAreRejected() {
        #expect(throws: AddressError.wrongLength(19)) { try Address(hex: "0x" + String(repeating: "ab", count: 19)) }
        #expect(throws: AddressError.invalidHex(.oddLength(3))) { try Address(hex: "0xabc") }
        #expect(throws: AddressError.invalidHex(.invalidCharacter("g", offset: 2))) { try Address(hex: "0xg" + String(repeating: "0", count: 39)) }
    }
}
