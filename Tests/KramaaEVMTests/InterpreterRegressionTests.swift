import KramaaEVMHarness
import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// Runs `code` (hex) as the called contract of a one-message case on Ethereum's precompiles.
func runCode(_ code: String, input: [UInt8] = [], gas: Int64 = 1_000_000, pre extra: [PreAccount] = []) -> MessageOutcome {
    let caller = try! Address(hex: "0x00000000000000000000000000000000000ca11e")
    let contract = try! Address(hex: "0x000000000000000000000000000000000000aaaa")
    let block = try! FixtureJSON.blockContext(MessageCase.defaultEnv, context: "test")
    let message = MessageCase(
        pre: [PreAccount(address: caller, nonce: 1, balance: 1_000_000), PreAccount(address: contract, nonce: 1, code: bytes(code))] + extra,
        block: block, transaction: TransactionContext(origin: caller, gasPrice: 7),
        caller: caller, to: contract, data: input, gas: gas)
    return MessageRunner(precompiles: Precompiles.ethereumCancun).run(message)
}

/// Cases the fuzzer and the py-evm differential test found, kept so they stay fixed.
@Suite struct InterpreterRegressionTests {
    /// A zero-size copy, hash, log, return or create ignores its offset, even one past 2^63
    /// (the offset was converted to Int before the size was looked at: a trap in checked builds).
    @Test(arguments: [
        "5f5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff37",  // CALLDATACOPY
        "5f5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff39",  // CODECOPY
        "5f5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3e",  // RETURNDATACOPY
        "5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff20",  // KECCAK256
        "5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa0",  // LOG0
        "5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff5ff0",  // CREATE
        "5f5f7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff5e",  // MCOPY (size 0)
    ])
    func zeroSizeAtHugeOffset(_ code: String) {
        let outcome = runCode(code + "00")
        #expect(outcome.status == .success)
        #expect(outcome.gasUsed < 33_000)
    }

    @Test func zeroSizeReturnAtHugeOffset() {
        let outcome = runCode("5f7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3")
        #expect(outcome.status == .success)
        #expect(outcome.output.isEmpty)
        #expect(outcome.gasUsed == 5)
    }
}
