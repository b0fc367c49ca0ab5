import KramaaJSON
import Testing
@testable import KramaaRPC

@Suite struct HexTests {
    @Test func quantitiesFollowGethsRules() throws {
        #expect(try RPCHex.decodeQuantity("0x0") == 0)
        #expect(try RPCHex.decodeQuantity("0x1a") == 26)
        #expect(try RPCHex.decodeQuantity("0XfF") == 255)
        #expect(try RPCHex.decodeQuantity("0xffffffffffffffff") == .max)
        let refusals: [(String, HexError)] = [
            ("", .empty), ("12", .missingPrefix), ("x12", .missingPrefix), ("0x", .emptyNumber),
            ("0x01", .leadingZero), ("0x00", .leadingZero), ("0xg", .invalidCharacter), ("0x1 ", .invalidCharacter),
            ("0x10000000000000000", .tooLarge(bits: 64)),
        ]
        for (text, error) in refusals {
            #expect(throws: error, "\(text)") { try RPCHex.decodeQuantity(text) }
        }
        #expect(HexError.missingPrefix.description == "hex string without 0x prefix")
        #expect(HexError.emptyNumber.description == #"hex string "0x""#)
        #expect(HexError.leadingZero.description == "hex number with leading zero digits")
        #expect(HexError.tooLarge(bits: 256).description == "hex number > 256 bits")
    }

    @Test func wideQuantities() throws {
        #expect(try RPCHex.decodeQuantityBytes("0x0") == [])
        #expect(try RPCHex.decodeQuantityBytes("0x1") == [0x01])
        #expect(try RPCHex.decodeQuantityBytes("0x123") == [0x01, 0x23])
        #expect(try RPCHex.decodeQuantityBytes("0x" + String(repeating: "f", count: 64)) == [UInt8](repeating: 0xff, count: 32))
        #expect(throws: HexError.tooLarge(bits: 256)) { try RPCHex.decodeQuantityBytes("0x1" + String(repeating: "0", count: 64)) }
        #expect(RPCHex.encodeQuantity(bigEndian: [0x00, 0x01, 0x23]) == "0x123")
        #expect(RPCHex.encodeQuantity(bigEndian: [0x00, 0x00]) == "0x0")
        #expect(RPCHex.encodeQuantity(bigEndian: []) == "0x0")
        #expect(RPCHex.encodeQuantity(bigEndian: [0xab, 0x00]) == "0xab00")
        for value: UInt64 in [0, 1, 15, 16, 255, 256, 0xdead_beef, .max] {
            #expect(try RPCHex.decodeQuantity(RPCHex.encodeQuantity(value)) == value)
            let bytes = withUnsafeBytes(of: value.bigEndian, Array.init)
            #expect(RPCHex.encodeQuantity(bigEndian: bytes) == RPCHex.encodeQuantity(value))
        }
    }

    @Test func data() throws {
        #expect(try RPCHex.decodeData("0x") == [])
        #expect(try RPCHex.decodeData("0x00fFaA") == [0x00, 0xff, 0xaa])
        #expect(throws: HexError.missingPrefix) { try RPCHex.decodeData("00") }
        #expect(throws: HexError.missingPrefix) { try RPCHex.decodeData("") }
        #expect(throws: HexError.oddLength) { try RPCHex.decodeData("0x123") }
        #expect(throws: HexError.invalidCharacter) { try RPCHex.decodeData("0x0z") }
        #expect(throws: HexError.wrongLength(digits: 4, want: 40)) { try RPCHex.decodeData("0x1234", length: 20) }
        #expect(RPCHex.encodeData([0x00, 0x0f, 0xf0, 0xff]) == "0x000ff0ff")
        #expect(RPCHex.encodeData([]) == "0x")
        #expect(RPCHex.encodeData([UInt8](repeating: 0xab, count: 40).prefix(3)) == "0xababab")
    }

    /// Any bytes come back from their hex (upper- or lowercase), and a single character that is
    /// not a digit, wherever it stands, refuses the whole string.
    @Test func dataRoundTripsAndEveryNonDigitIsRefused() throws {
        var rng = SystemRandomNumberGenerator()
        let digits = Set("0123456789abcdefABCDEF".utf8)
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = RPCHex.encodeData(bytes)
            #expect(try RPCHex.decodeData(text) == bytes)
            #expect(try RPCHex.decodeData("0X" + text.dropFirst(2).uppercased()) == bytes)
            guard length > 0 else { continue }
            var utf8 = Array(text.utf8)
            let at = Int.random(in: 2..<utf8.count, using: &rng)
            var bad: UInt8
            repeat { bad = UInt8.random(in: 0...127, using: &rng) } while digits.contains(bad)
            utf8[at] = bad
            #expect(throws: HexError.invalidCharacter) { try RPCHex.decodeData(String(decoding: utf8, as: UTF8.self)) }
        }
        #expect(JSON.data([0xab]) == "0xab" && JSON.quantity(0) == "0x0")
    }
}

@Suite struct ParamsTests {
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as RPCError {
            #expect(error.code == -32602, "\(error)")
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func positionalDecoding() throws {
        let params = RPCParams(["0x2a", "0x00ff", "latest", true, ["0x1", "0x2"], nil])
        #expect(params.count == 6)
        #expect(try params.quantity(0) == 42)
        #expect(try params.data(1) == [0x00, 0xff])
        #expect(try params.string(2) == "latest")
        #expect(try params.bool(3))
        #expect(try params.decode(4, as: [UInt64].self) == [1, 2])
        #expect(try params.decodeIfPresent(5, as: String.self) == nil)
        #expect(try params.decodeIfPresent(9, as: String.self) == nil)
        #expect(try params.decode(0, as: JSON.self) == "0x2a")
        #expect(try params.decode(1, as: HexData.self) == HexData([0x00, 0xff]))
    }

    @Test func errorsNameTheArgumentAndReasonLikeGeth() {
        let params = RPCParams(["2a", 5, "0x1", "0x12345"])
        // Hex errors come wrapped as Go's json package words them (geth's wrapTypeError).
        #expect(message { _ = try params.quantity(0) }
            == "invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type hexutil.Uint64")
        #expect(message { _ = try params.data(0) }
            == "invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type hexutil.Bytes")
        #expect(message { _ = try params.quantity(1) }
            == "invalid argument 1: json: cannot unmarshal non-string into Go value of type hexutil.Uint64")
        #expect(message { _ = try params.data(1) }
            == "invalid argument 1: json: cannot unmarshal non-string into Go value of type hexutil.Bytes")
        #expect(message { _ = try params.string(1) } == "invalid argument 1: json: cannot unmarshal number into Go value of type string")
        #expect(message { _ = try params.bool(0) } == "invalid argument 0: json: cannot unmarshal string into Go value of type bool")
        #expect(message { _ = try params.data(2) }
            == "invalid argument 2: json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes")
        #expect(message { _ = try params.data(2, length: 20) }
            == "invalid argument 2: json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes")
        #expect(message { _ = try RPCParams(["0x1234"]).data(0, length: 20) } == "invalid argument 0: hex string has length 4, want 40")
        #expect(message { _ = try params.quantity(7) } == "missing value for required argument 7")
        #expect(message { _ = try RPCParams(["0x1", nil]).quantity(1) } == "missing value for required argument 1")
        #expect(message { try params.expect(atMost: 2) } == "too many arguments, want at most 2")
        #expect(message { _ = try params.decode(1, as: [String].self) }
            == "invalid argument 1: json: cannot unmarshal number into Go value of type []String")
        #expect(message { try params.expect(atMost: 4) } == nil)
    }

    @Test func nonArrayParams() {
        let byName = RPCParams(.object(["a": 1]))
        #expect(byName.count == 0 && byName.raw == ["a": 1])
        #expect(message { _ = try byName.quantity(0) } == "non-array args")
        #expect(message { try byName.expect(atMost: 3) } == "non-array args")
        #expect(message { try RPCParams(nil).expect(atMost: 0) } == nil)
        #expect(message { try RPCParams(.null).expect(atMost: 0) } == nil)
    }

    /// A chain type conformed in another module: its errors are wrapped the same way, and an
    /// RPCError passes through unchanged.
    struct BlockTag: RPCParamDecodable, Equatable {
        var name: String
        init(rpcParam value: JSON) throws {
            let text = try String(rpcParam: value)
            if text == "forbidden" { throw RPCError.server("no") }
            guard ["latest", "pending"].contains(text) else { throw HexError.missingPrefix }
            name = text
        }
    }

    @Test func customDecodableTypes() throws {
        #expect(try RPCParams(["pending"]).decode(0, as: BlockTag.self).name == "pending")
        #expect(message { _ = try RPCParams(["soon"]).decode(0, as: BlockTag.self) } == "invalid argument 0: hex string without 0x prefix")
        #expect(throws: RPCError.server("no")) { try RPCParams(["forbidden"]).decode(0, as: BlockTag.self) }
    }
}
