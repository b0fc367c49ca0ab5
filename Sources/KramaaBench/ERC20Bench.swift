import Foundation
import KramaaEVM
import KramaaPrimitives
import KramaaState

/// ERC-20 transfers through the EVM: the Vyper token in contracts/ERC20.vy (compiled by the
/// bench script), deployed once, then `transfer` calls to ever-new recipients, each ending
/// its own transaction (cold slots, a fresh storage write, a Transfer log).
enum ERC20Bench {
    static let sender = try! Address(hex: "0x00000000000000000000000000000000000a11ce")

    static func rows(initCodePath: String?, quick: Bool) -> [Row] {
        guard let initCode = TokenWorkload.initCode(at: initCodePath) else {
            return [Row(name: "ERC-20 transfer: no compiled token (run through scripts/bench.sh)", ours: 0, unit: "gas/s",
                        reference: nil, referenceName: "-")]
        }
        let backend = InMemoryState()
        backend.set(sender, nonce: 0, balance: UInt256(1) << 200, code: [], storage: [:])
        let block = BlockContext(coinbase: Address(word: .zero), number: 1, timestamp: 1, gasLimit: 1 << 40,
                                 baseFee: .zero, prevRandao: .zero, chainId: 1, blobBaseFee: .one)
        let state = JournaledState(backend: backend)
        let evm = EVM(state: state, block: block, transaction: TransactionContext(origin: sender, gasPrice: .zero),
                      precompiles: Precompiles.cancun)
        let args = ABI.encode([.string("Kramaa Token"), .string("KRM"), .uint(UInt256(1) << 128)])
        let deployed = evm.create(caller: sender, value: .zero, initCode: initCode + args, gas: 10_000_000, salt: nil, depth: 0)
        guard let token = deployed.createdAddress else {
            return [Row(name: "ERC-20 deploy failed: \(deployed.status)", ours: 0, unit: "gas/s", reference: nil, referenceName: "-")]
        }
        state.finishTransaction()
        var recipient: UInt64 = 1
        var gasUsed: Int64 = 0
        var failures = 0
        let transfers = Harness.rate(batch: 100, seconds: quick ? 0.6 : 3) {
            for _ in 0..<100 {
                state.warm(sender)
                state.warm(token)
                let to = Address(word: UInt256(recipient) &+ (UInt256(0xbeef) << 100))
                recipient += 1
                let input = ABI.call("transfer(address,uint256)", [.address(to), .uint(UInt256(1))])
                let result = evm.call(Message(kind: .call, caller: sender, recipient: token, codeAddress: token,
                                              value: .zero, input: input, gas: 100_000, depth: 0))
                if result.status != .success { failures += 1 }
                gasUsed += 100_000 - result.gasLeft
                state.finishTransaction()
            }
        }
        let perTransfer = Double(gasUsed) / Double(recipient - 1)
        return [
            Row(name: "ERC-20 transfer (Vyper, \(Int(perTransfer)) gas each, \(failures) failed)", ours: transfers * perTransfer,
                unit: "gas/s", reference: nil, referenceName: "-"),
            Row(name: "ERC-20 transfers per second (EVM only, no signatures or trie)", ours: transfers, unit: "tx/s",
                reference: nil, referenceName: "-"),
        ]
    }
}
