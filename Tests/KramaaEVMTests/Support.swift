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
