import Foundation
import KramaaChain
import KramaaPrimitives

/// Transactions whose checks (and sender recovery) ran ahead of their submission, by hash,
/// each taken once by the submission. Bounded: a batch whose calls never came (a client gone,
/// an answer cut off) cannot make it grow; past the bound it starts again empty.
final class PreparedTransactions: @unchecked Sendable {
    /// More than a full batch (1,000 calls) from each of several connections at once.
    static let capacity = 8_192

    private let lock = NSLock()
    private var byHash: [Bytes32: SignedTransaction] = [:]

    func put(_ hash: Bytes32, _ signed: SignedTransaction) {
        lock.withLock {
            if byHash.count >= Self.capacity { byHash.removeAll(keepingCapacity: true) }
            byHash[hash] = signed
        }
    }

    func take(_ hash: Bytes32) -> SignedTransaction? {
        lock.withLock { byHash.removeValue(forKey: hash) }
    }

    var count: Int { lock.withLock { byHash.count } }
}
