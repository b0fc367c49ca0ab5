import Testing
import KramaaPrimitives

@Suite struct HexTests {
    @Test func roundTripsWithAndWithoutPrefix() throws {
        #expect(try Hex.decode("0x") == [])
        #expect(try Hex.decode("") == [])
        #expect(try Hex.decode("0xDEadBEef") == [0xde, 0xad, 0xbe, 0xef])
        #expect(try Hex.decode("00ff") == [0x00, 0xff])
        #expect(Hex.encode([0xde, 0xad]) == "0xdead")
        #expect(Hex.encode([0xde, 0xad], prefix: false) == "dead")
    }

    @Test func rejectsBadHexWithItsPosition() {
        #expect(throws: HexError.oddLength(3)) { try Hex.decode("0xabc") }
        #expect(throws: HexError.invalidCharacter("z", offset: 3)) { try Hex.decode("0x0z") }
        #expect(throws: HexError.invalidCharacter(" ", offset: 0)) { try Hex.decode(" 0") }
        #expect(throws: HexError.wrongLength(expected: 32, actual: 2)) { try Bytes32(hex: "0xabcd") }
    }
}
