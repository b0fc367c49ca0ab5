import Foundation
import KramaaChain
import KramaaPrimitives

/// Transactions whose checks (and sender recovery) ran ahead of their submission, by hash,
/// each taken once by the submission. Bounded by count and by size: a batch whose calls never
/// ran (an answer cut off at its size limit) cannot make it grow; past a bound it starts again
/// empty (a submission whose entry went is only checked again).
final class PreparedTransactions: @unchecked Sendable {
    /// More than a full batch (1,000 calls) from each of several connections at once.
    static let capacity = 8_192
    /// Encoded bytes held at most (transactions may be 128 KiB each).
    static let maxBytes = 32 << 20

    private let lock = NSLock()
    private var byHash: [Bytes32: (signed: SignedTransaction, size: Int)] = [:]
    private var bytes = 0

    func put(_ hash: Bytes32, _ signed: SignedTransaction, size: Int) {
        lock.withLock {
            if byHash.count >= Self.capacity || bytes + size > Self.maxBytes {
                byHash.removeAll(keepingCapacity: true)
                bytes = 0
            }
            if let earlier = byHash.updateValue((signed, size), forKey: hash) { bytes -= earlier.size }
            bytes += size
        }
    }

    func take(_ hash: Bytes32) -> SignedTransaction? {
        lock.withLock {
            guard let entry = byHash.removeValue(forKey: hash) else { return nil }
            bytes -= entry.size
            return entry.signed
        }
    }

}
