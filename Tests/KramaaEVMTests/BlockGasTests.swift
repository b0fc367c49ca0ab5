import KramaaPrimitives
import KramaaState
import Testing
@testable import KramaaEVM

/// Runs `code` as a call with `gas`, returning the result and the contract's slot 0.
private func execute(_ code: [UInt8], gas: Int64 = 100_000) -> (ExecutionResult, UInt256) {
    let contract = try! Address(hex: "0x00000000000000000000000000000000000c0de0")
    let caller = try! Address(hex: "0x00000000000000000000000000000000000ca11e")
    let backend = InMemoryState()
    backend.set(contract, nonce: 1, balance: .zero, code: code, storage: [:])
    let state = JournaledState(backend: backend)
    state.warm(contract)
    state.warm(caller)
    let block = BlockContext(coinbase: caller, number: 1, timestamp: 1, gasLimit: 30_000_000, baseFee: .zero,
                             prevRandao: .zero, chainId: 1, blobBaseFee: .one)
    let evm = EVM(state: state, block: block, transaction: TransactionContext(origin: caller, gasPrice: .zero))
    let result = evm.call(Message(kind: .call, caller: caller, recipient: contract, codeAddress: contract,
                                  value: .zero, input: [], gas: gas, depth: 0))
    return (result, state.storage(contract, .zero))
}

/// Code that returns the top of the stack as a 32-byte word.
private let returnTop: [UInt8] = [0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]  // PUSH0 MSTORE PUSH1 32 PUSH0 RETURN

@Suite struct BlockGasTests {
    @Test func gasOpcodeSeesOnlyTheGasOfInstructionsBeforeIt() {
        // PUSH1 1, PUSH1 2, ADD, GAS: 3 + 3 + 3 + 2 gas spent when GAS reads the counter, although
        // the block charged up front would also include what follows.
        let (result, _) = execute([0x60, 0x01, 0x60, 0x02, 0x01, 0x5a] + returnTop, gas: 1_000)
        #expect(result.status == .success)
        #expect(UInt256(try! Bytes32(result.output)) == UInt256(1_000 - 11))
    }

    @Test func gasAfterAJumpdestCountsTheJumpdest() {
        // PUSH1 4, JUMP, INVALID, JUMPDEST, GAS: 3 + 8 + 1 + 2.
        let (result, _) = execute([0x60, 0x04, 0x56, 0xfe, 0x5b, 0x5a] + returnTop, gas: 500)
        #expect(UInt256(try! Bytes32(result.output)) == UInt256(500 - 14))
    }

    @Test func sstoreSentryIsJudgedOnTheGasLeftAtTheSstore() {
        // PUSH0, PUSH0, SSTORE (a no-op write to a cold slot: 2,100 + 100 gas), then PUSH0, POP.
        // The write itself would fit in 2,300 gas, so only EIP-2200's sentry (fail at ≤ 2,300
        // left) refuses it; the 4 gas after it must not be charged before the SSTORE looks.
        let code: [UInt8] = [0x5f, 0x5f, 0x55, 0x5f, 0x50, 0x00]
        let (atSentry, _) = execute(code, gas: 4 + 2_300)
        #expect(atSentry.status == .failure(.outOfGas))
        let (above, _) = execute(code, gas: 4 + 2_301)
        #expect(above.status == .success)
        #expect(above.gasLeft == 2_301 - 2_200 - 4)
    }

    @Test func outOfGasInsideABlockConsumesAllGasAndKeepsNoWrite() {
        // A block of 1,000 ADDs after an SSTORE block; gas runs out inside the ADDs.
        var code: [UInt8] = [0x60, 0x01, 0x5f, 0x55]
        code += [UInt8](repeating: 0x5f, count: 2) + Array([[UInt8]](repeating: [0x5f, 0x01], count: 999).joined())
        let (result, slot) = execute(code, gas: 22_100 + 5 + 100)
        #expect(result.status == .failure(.outOfGas))
        #expect(result.gasLeft == 0)
        #expect(slot == .zero)
    }

    @Test func stackUnderflowLaterInABlockHaltsTheFrame() {
        // PUSH1 1, PUSH0, SSTORE (ends a block), then ADD with an empty stack.
        let (result, slot) = execute([0x60, 0x01, 0x5f, 0x55, 0x01, 0x00])
        #expect(result.status == .failure(.stackUnderflow))
        #expect(result.gasLeft == 0)
        #expect(slot == .zero)
    }

    @Test func stackOverflowIsFoundAtTheBlockThatWouldOverflow() {
        let fits = [UInt8](repeating: 0x5f, count: 1024) + [0x00]
        #expect(execute(fits).0.status == .success)
        let overflows = [UInt8](repeating: 0x5f, count: 1025) + [0x00]
        #expect(execute(overflows).0.status == .failure(.stackOverflow))
    }

    @Test func jumpdestInsidePushDataIsNeitherATargetNorABlock() {
        // PUSH2 0x5b5b, PUSH1 1, JUMP → offset 1 is push data: invalid jump.
        let (result, _) = execute([0x61, 0x5b, 0x5b, 0x60, 0x01, 0x56])
        #expect(result.status == .failure(.invalidJump))
        let code = AnalyzedCode([0x61, 0x5b, 0x5b, 0x5b])
        #expect(!code.isJumpdest(UInt256(1)) && !code.isJumpdest(UInt256(2)) && code.isJumpdest(UInt256(3)))
    }

    @Test func truncatedPushAtTheEndRunsIntoTheImplicitStop() {
        // PUSH2 with one byte of data: the block is the PUSH (3 gas) and the STOP past the end.
        let analysed = AnalyzedCode([0x61, 0x01])
        #expect(analysed.blocks[0].gas == 3 && analysed.blocks[0].growth == 1)
        let (result, _) = execute([0x61, 0x01], gas: 100)
        #expect(result.status == .success)
        #expect(result.gasLeft == 97)
    }

    @Test func pushDataMatchesTheBytewiseReadForEveryWidth() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let body = (0..<40).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let padded = [UInt8](repeating: 0, count: 32) + body
            for n in 1...32 {
                let fast = padded.withUnsafeBytes { UInt256(pushData: $0.baseAddress! + 32 + 3, count: n) }
                let slow = body.withUnsafeBytes { UInt256(bigEndian: UnsafeRawBufferPointer(rebasing: $0[3..<3 + n])) }
                #expect(fast == slow, "PUSH\(n)")
            }
        }
    }
}
