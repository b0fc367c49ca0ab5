import KramaaPrimitives
import Synchronization

/// Analysed contract code shared across transactions, blocks and threads, keyed by code hash,
/// so a contract's jump destinations and block costs are computed once, not per call.
/// Bounded by the total size of the code it holds; the oldest entries go first.
public final class CodeCache: Sendable {
    private struct Contents {
        var entries: [Bytes32: AnalyzedCode] = [:]
        var order: [Bytes32] = []
        var head = 0
        var bytes = 0
    }

    private let contents = Mutex(Contents())
    /// Most bytes of code held before the oldest entries are dropped.
    public let capacityBytes: Int

    public init(capacityBytes: Int = 64 << 20) { self.capacityBytes = capacityBytes }

    /// The analysed code for `hash`, analysing `bytes()` on a miss.
    public func code(hash: Bytes32, bytes: () -> [UInt8]) -> AnalyzedCode {
        if let hit = contents.withLock({ $0.entries[hash] }) { return hit }
        let analysed = AnalyzedCode(bytes(), hash: hash)
        insert(analysed)
        return analysed
    }

    private func insert(_ code: AnalyzedCode) {
        contents.withLock { c in
            guard c.entries.updateValue(code, forKey: code.hash) == nil else { return }
            c.order.append(code.hash)
            c.bytes += code.bytes.count
            while c.bytes > capacityBytes, c.head < c.order.count - 1 {
                if let old = c.entries.removeValue(forKey: c.order[c.head]) { c.bytes -= old.bytes.count }
                c.head += 1
            }
            if c.head > 1024 && c.head * 2 > c.order.count {
                c.order.removeFirst(c.head)
                c.head = 0
            }
        }
    }

    /// Number of analysed codes held.
    public var count: Int { contents.withLock { $0.entries.count } }
}
