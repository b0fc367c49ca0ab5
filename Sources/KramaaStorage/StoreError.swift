/// Why the chain database cannot be used, in words that say what to do.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case notInitialized(path: String)
    case alreadyInitialized(path: String)
    case stateMismatch(head: UInt64, expected: String, found: String)
    case write(String)
    case decode(String)
    /// A log query matched more than `limit` logs (nothing is returned).
    case tooManyResults(limit: Int)
    /// What was asked for is not kept by this store (pruned state, a block before a snapshot).
    case unavailable(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open the chain database at \(path): \(reason). Check the path and its permissions."
        case .corrupt(let path, let reason):
            return "the chain database at \(path) is damaged (\(reason)). Restore it from a backup or start over with a fresh data directory."
        case .notInitialized(let path):
            return "no chain in \(path): run `kramaa init --genesis FILE --datadir DIR` first."
        case .alreadyInitialized(let path):
            return "\(path) already holds a chain; use another data directory to start a new one."
        case .stateMismatch(let head, let expected, let found):
            return "the stored state does not match block \(head): its header says state root \(expected), the stored accounts give \(found). The database is inconsistent; restore it or start over."
        case .write(let reason): return "cannot write to the chain database: \(reason)"
        case .decode(let reason): return "cannot read a stored record: \(reason)"
        case .tooManyResults(let limit): return "query returned more than \(limit) results: narrow the block range or the filter"
        case .unavailable(let reason): return reason
        }
    }
}
