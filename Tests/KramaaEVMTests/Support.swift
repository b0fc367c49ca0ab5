import KramaaPrimitives
@testable import KramaaEVM

/// One known-answer case of a precompile: hex input and expected output.
struct PrecompileVector: Sendable, CustomStringConvertible {
    let name: String
    let input: String
    let expected: String

    init(_ name: String, input: String, expected: String) {
        self.name = name
        self.input = input
        self.expected = expected
    }

    var description: String { name }
}

/// Bytes of a hex string (whitespace ignored).
func bytes(_ hex: String) -> [UInt8] { try! Hex.decode(hex.filter { !$0.isWhitespace }) }

/// Lower-case hex without prefix.
func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes, prefix: false) }

/// Runs a precompile with plenty of gas.
func run(_ precompile: PrecompileFunction, _ input: [UInt8], gas: Int64 = 100_000_000) -> (gasUsed: Int64, output: [UInt8])? {
    precompile(input, gas)
}

/// A deterministic generator (SplitMix64) so a failing property replays from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
