import Testing
import KramaaPrimitives

@Suite struct UInt256Tests {
    @Test func parsesHexAndDecimalAndRejectsBadText() throws {
        #expect(try UInt256(parsing: "0x00") == .zero)
        #expect(try UInt256(parsing: "0x0de0b6b3a7640000") == UInt256(1_000_000_000_000_000_000))
        #expect(try UInt256(parsing: "115792089237316195423570985008687907853269984665640564039457584007913129639935") == .max)
        #expect(throws: UInt256Error.overflow) {
            try UInt256(parsing: "115792089237316195423570985008687907853269984665640564039457584007913129639936")
        }
        #expect(throws: UInt256Error.overflow) { try UInt256(hex: "0x1" + String(repeating: "0", count: 64)) }
        #expect(try UInt256(hex: "0x" + String(repeating: "0", count: 70) + "1") == .one)
        #expect(throws: UInt256Error.empty) { try UInt256(hex: "0x") }
        #expect(throws: UInt256Error.invalidDigit("g", offset: 3)) { try UInt256(hex: "0x1g") }
        #expect(throws: UInt256Error.invalidDigit("-", offset: 0)) { try UInt256(decimal: "-1") }
        #expect(throws: UInt256Error.overflow) { try UInt256(bigEndianBytes: [UInt8](repeating: 1, count: 33)) }
        #expect(try UInt256(bigEndianBytes: [0] + [UInt8](repeating: 0xff, count: 32)) == .max)
    }

    @Test func reportsOverflow() {
        #expect(UInt256.max.addingReportingOverflow(.one) == (.zero, true))
        #expect(UInt256.zero.subtractingReportingOverflow(.one) == (.max, true))
        #expect(UInt256.max.multipliedReportingOverflow(by: 2).overflow)
        #expect(!UInt256(UInt64.max).multipliedReportingOverflow(by: UInt256(UInt64.max)).overflow)
    }

    @Test func quantityHexIsMinimal() {
        #expect(UInt256.zero.hexQuantity == "0x0")
        #expect(UInt256(0x1f).hexQuantity == "0x1f")
        #expect(UInt256.one.minimalBigEndianBytes == [1])
        #expect(UInt256.zero.minimalBigEndianBytes == [])
    }
}
