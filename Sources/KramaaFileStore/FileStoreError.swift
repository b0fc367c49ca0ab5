import KramaaFiles
import KramaaRPC

/// Why the node's file store refused or failed, with the HTTP answer each gets.
public enum FileStoreError: Error, CustomStringConvertible, HTTPProblemConvertible {
    case io(String)
    /// The store would exceed its quota.
    case quotaExceeded(used: UInt64, adding: UInt64, quota: UInt64)
    case notFound(String)
    case invalid(String)
    case incomplete(String)
    case unknownUpload(String)

    public var description: String {
        switch self {
        case .io(let why): "file store I/O error: \(why)"
        case .quotaExceeded(let used, let adding, let quota):
            "the node's storage quota of \(quota) bytes would be exceeded (\(used) used, \(adding) more); unpin and collect garbage (kramaa file gc) or raise --files-quota"
        case .notFound(let what): what
        case .invalid(let why): why
        case .incomplete(let why): why
        case .unknownUpload(let id): "no upload \(id) in progress (it was committed, discarded, or the node restarted); start again"
        }
    }

    public var problem: HTTPProblem {
        switch self {
        case .io: HTTPProblem(status: 500, title: "Storage error", detail: description)
        case .quotaExceeded: HTTPProblem(status: 413, title: "Storage quota exceeded", detail: description)
        case .notFound(let what): .notFound(what)
        case .invalid(let why): .badRequest(why)
        case .incomplete(let why): HTTPProblem(status: 409, title: "Incomplete DAG", detail: why)
        case .unknownUpload: .notFound(description)
        }
    }
}

extension FilesError: HTTPProblemConvertible {
    public var problem: HTTPProblem {
        switch self {
        case .missingBlock: .notFound("\(self): this node does not hold it")
        case .badPath(let why): why.hasPrefix("no ") ? .notFound(why) : .badRequest("\(self)")
        default: .badRequest("\(self)")
        }
    }
}
