import Foundation
import KramaaChain
import KramaaNode
import KramaaPrimitives

/// Load for the benchmarks that measure while a chain is busy: a thread that submits `perBlock`
/// value transfers from `key` and seals a block, over and over, until stopped.
final class BlockLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var sealed = 0
    private var thread: Thread!

    init(node: Node, key: Secp256k1.PrivateKey, chainId: UInt64, perBlock: Int = 20) {
        thread = Thread { [self] in
            var nonce: UInt64 = 0
            while !lock.withLock({ stopping }) {
                for _ in 0..<perBlock {
                    let tx = Transaction(type: .dynamicFee, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: UInt256(2),
                                         maxFeePerGas: UInt256(10_000_000_000), gasLimit: 21_000, to: Address(word: UInt256(0x1234)),
                                         value: UInt256(1), data: []).signed(with: key)
                    if (try? node.accept(raw: tx.encoded)) != nil { nonce += 1 }
                }
                if (try? node.produceBlock(timestamp: node.latest.timestamp + 1, allowEmpty: true)) != nil { lock.withLock { sealed += 1 } }
            }
        }
        thread.start()
    }

    /// Stops the thread, waits for it and returns how many blocks it sealed.
    func stop() -> Int {
        lock.withLock { stopping = true }
        while !thread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        return lock.withLock { sealed }
    }
}
