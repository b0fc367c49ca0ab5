import KramaaEPCIS

/// What the operations benchmark needs beyond the public interface: loading synthetic entries
/// through the index's own write path, and a query without the index's narrowing (the full scan
/// it is compared with).
extension EPCISIndex {
    /// Appends `entries` as the block `block` would (benchmarks only).
    @_spi(Benchmark) public func load(_ entries: [Entry], through block: UInt64) throws {
        try read { store in try store.append(entries, parents: [], through: block) }
        setIndexedThrough(block)
    }

    /// How many events match `query`, reading every event (no narrowing).
    @_spi(Benchmark) public func fullScanCount(_ query: EPCISQuery) throws -> Int {
        var matched = 0
        try read { store in
            try store.scan(EPCISIndexNarrowing(EPCISQuery()), after: nil) { batch in
                matched += batch.filter { query.matches($0.entry.event) }.count
                return true
            }
        }
        return matched
    }
}
