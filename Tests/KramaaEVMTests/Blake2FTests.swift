import Testing
@testable import KramaaEVM

/// 0x09 blake2f against every test vector of EIP-152 (vectors 0–3 fail, 4–8 succeed).
@Suite struct Blake2FPrecompileTests {
    /// h: the BLAKE2b-512 initial state (IV xor parameter block), m: "abc" then zeros,
    /// t = (3, 0). Each vector prepends its round count and appends its final flag.
    static let body = "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5"
        + "d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b"
        + "6162630000000000000000000000000000000000000000000000000000000000"
        + String(repeating: "0", count: 192)
        + "0300000000000000" + "0000000000000000"

    static func input(rounds: String, final: String) -> [UInt8] { bytes(rounds + body + final) }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let rounds: String
        let final: String
        let expected: String
        var description: String { name }
    }

    static let valid: [Case] = [
        Case(name: "vector 4", rounds: "00000000", final: "01",
             expected: "08c9bcf367e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5d282e6ad7f520e511f6c3e2b8c68059b9442be0454267ce079217e1319cde05b"),
        // 12 rounds with the final flag: BLAKE2b-512("abc") itself.
        Case(name: "vector 5", rounds: "0000000c", final: "01",
             expected: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"),
        Case(name: "vector 6", rounds: "0000000c", final: "00",
             expected: "75ab69d3190a562c51aef8d88f1c2775876944407270c42c9844252c26d2875298743e7f6d5ea2f2d3e8d226039cd31b4e426ac4f2d3d666a610c2116fde4735"),
        Case(name: "vector 7", rounds: "00000001", final: "01",
             expected: "b63a380cb2897d521994a85234ee2c181b5f844d2c624c002677e9703449d2fba551b3a8333bcdf5f2f7e08993d53923de3d64fcc68c034e717b9293fed7a421"),
        Case(name: "vector 8", rounds: "007a1200", final: "01",
             expected: "6d2ce9e534d50e18ff866ae92d70cceba79bbcd14c63819fe48752c8aca87a4bb7dcc230d22a4047f0486cfcfb50a17b24b2899eb8fca370f22240adb5170189"),
    ]

    @Test(arguments: valid)
    func knownAnswers(vector: Case) throws {
        let input = Self.input(rounds: vector.rounds, final: vector.final)
        let rounds = Int64(vector.rounds, radix: 16)!
        let result = try #require(Precompiles.blake2f(input, rounds))
        #expect(hex(result.output) == vector.expected)
        #expect(result.gasUsed == rounds)
    }

    @Test func vector0EmptyInputFails() {
        #expect(run(Precompiles.blake2f, []) == nil)
    }

    @Test func vector1ShortInputFails() {
        // The round count is one byte short, so the whole input is 212 bytes.
        let input = bytes("00000c" + Self.body + "01")
        #expect(input.count == 212)
        #expect(run(Precompiles.blake2f, input) == nil)
    }

    @Test func vector2LongInputFails() {
        let input = bytes("000000000c" + Self.body + "01")
        #expect(input.count == 214)
        #expect(run(Precompiles.blake2f, input) == nil)
    }

    @Test func vector3BadFinalFlagFails() {
        #expect(run(Precompiles.blake2f, Self.input(rounds: "0000000c", final: "02")) == nil)
        #expect(run(Precompiles.blake2f, Self.input(rounds: "0000000c", final: "ff")) == nil)
    }

    @Test func roundsArePaidOneGasEach() {
        let input = Self.input(rounds: "0000000c", final: "01")
        #expect(Precompiles.blake2f(input, 11) == nil)
        #expect(Precompiles.blake2f(input, 12)?.gasUsed == 12)
        // 2³² − 1 rounds: priced, and refused without the gas, before any work.
        #expect(Precompiles.blake2f(Self.input(rounds: "ffffffff", final: "00"), 4_294_967_294) == nil)
    }
}
