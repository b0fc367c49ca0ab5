import KramaaEVM
import KramaaPrimitives

/// The precompiles the runner installs: Ethereum's Cancun set (0x01-0x09). Kramaa's chain also
/// has RIP-7212 P256VERIFY at 0x100, which Ethereum's tests do not expect (it would be warm and
/// answer calls), so it is left out here. Point evaluation (0x0a, EIP-4844 KZG) is not built;
/// tests that call it fail and are reported.
enum StateTestPrecompiles {
    static let p256Verify = try! Address(hex: "0x0000000000000000000000000000000000000100")
    static let table: [Address: PrecompileFunction] = Precompiles.cancun.filter { $0.key != p256Verify }
}
