import KramaaPrimitives
@testable import KramaaEVM

/// Hex helpers for the precompile tests.
func bytes(_ hex: String) -> [UInt8] { try! Hex.decode(hex.filter { !$0.isWhitespace }) }
func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes, prefix: false) }
