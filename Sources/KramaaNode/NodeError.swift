import KramaaChain
import KramaaStorage

/// Why the node cannot start or take a request.
public enum NodeError: Error, CustomStringConvertible {
    case store(StoreError)
    case genesis(Genesis.FormatError)
    case dataDirectory(String)
    case decode(TransactionError)
    case pool(TxPoolError)

    public var description: String {
        switch self {
        case .store(let e): return e.description
        case .genesis(let e): return e.description
        case .dataDirectory(let reason): return "data directory: \(reason)"
        case .decode(let e): return e.description
        case .pool(let e): return e.description
        }
    }
}
