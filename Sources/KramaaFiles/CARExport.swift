/// What a trustless gateway's CAR holds after the path's blocks (IPIP-402 `dag-scope`).
public enum DAGScope: String, Sendable {
    /// Only the blocks that resolve the path, ending with the terminal block.
    case block
    /// The terminal entity: a whole file (or the blocks of `entity-bytes`), a directory's own
    /// node (every shard of a HAMT), any other block by itself.
    case entity
    /// Everything under the terminal block.
    case all
}

/// A byte range of `entity-bytes=from:to`: `to` inclusive or nil (`*`), negative values counting
/// from the end.
public struct EntityBytes: Sendable, Equatable {
    public var from: Int64
    public var to: Int64?

    public init(from: Int64, to: Int64?) {
        self.from = from
        self.to = to
    }

    /// Parses `from:to`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let from = Int64(parts[0]) else { return nil }
        if parts[1] == "*" { to = nil } else if let t = Int64(parts[1]) { to = t } else { return nil }
        self.from = from
        if let to, to >= 0, from >= 0, to < from { return nil }
    }

    /// The half-open range in a file of `size` bytes.
    public func range(size: UInt64) -> Range<UInt64> {
        let s = Int64(clamping: size)
        let lo = from < 0 ? max(0, s + from) : min(from, s)
        var hi = to.map { $0 < 0 ? s + $0 + 1 : $0 + 1 } ?? s
        hi = min(max(hi, lo), s)
        return UInt64(lo)..<UInt64(hi)
    }
}

/// The blocks of a gateway CAR request, in the order they are sent: the blocks that resolve the
/// path from the root, then the terminal's per `scope`, depth first, each block once.
public struct CARExport<Source: BlockSource> {
    public let source: Source

    public init(source: Source) { self.source = source }

    public func blocks(root: CID, path: [String], scope: DAGScope, entityBytes: EntityBytes?,
                       emit: (CID, [UInt8]) throws -> Void) throws {
        var sent = Set<CID>()
        func send(_ cid: CID, _ block: [UInt8]? = nil) throws {
            guard sent.insert(cid).inserted else { return }
            try emit(cid, try block ?? source.required(cid))
        }
        let reader = UnixFSReader(source: source)
        var trail: [CID] = []
        let terminal = try reader.resolve(root, path: path, trail: &trail)
        for cid in trail { try send(cid) }
        switch scope {
        case .block:
            try send(terminal)
        case .all:
            try DAGWalker(source: source).walk(terminal, skipping: &sent) { cid, block in try emit(cid, block) }
        case .entity:
            var entityTrail: [CID] = []
            switch try reader.entity(terminal, &entityTrail) {
            case .file(let size):
                let range = entityBytes?.range(size: size)
                if range?.isEmpty == true { return try send(terminal) }
                try reader.read(terminal, range: range, visitBlock: { cid, block in try send(cid, block) }, emit: { _ in })
            case .directory(let sharded):
                try send(terminal)
                if sharded {
                    var shards: [CID] = []
                    _ = try reader.listShards(terminal, trail: &shards)
                    for cid in shards { try send(cid) }
                }
            case .symlink, .other:
                try send(terminal)
            }
        }
    }
}

extension UnixFSReader {
    /// Every shard node of the HAMT at `cid` (depth first), into `trail`.
    func listShards(_ cid: CID, trail: inout [CID]) throws -> [DirectoryEntry] {
        let (node, unixfs) = try node(cid, &trail)
        guard let unixfs, unixfs.kind == .hamtShard else { return [] }
        var out: [DirectoryEntry] = []
        try listShard(node, unixfs, into: &out, trail: &trail)
        return out
    }
}
