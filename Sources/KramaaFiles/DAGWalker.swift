/// Where a walk or an export reads blocks from: the node's store, a CAR being checked, memory.
public protocol BlockSource {
    /// The block's bytes, or nil when this source does not have it.
    func block(_ cid: CID) throws -> [UInt8]?
}

/// Blocks in memory (tests, small DAGs).
public struct MemoryBlocks: BlockSource, BlockSink {
    public var blocks: [CID: [UInt8]] = [:]
    public init() {}
    public func block(_ cid: CID) throws -> [UInt8]? { blocks[cid] ?? blocks.first { $0.key.multihash == cid.multihash }?.value }
    public mutating func put(_ cid: CID, _ block: [UInt8]) throws { blocks[cid] = block }
}

extension BlockSource {
    /// The block, which must be there (identity CIDs carry their own bytes).
    public func required(_ cid: CID) throws -> [UInt8] {
        if cid.multihash.code == Multihash.identity { return cid.multihash.digest }
        guard let bytes = try block(cid) else { throw FilesError.missingBlock(cid.string) }
        return bytes
    }
}

/// The links out of a block, in its codec's order (dag-pb: link order; dag-cbor and dag-json:
/// the order they are encoded in); raw and unknown codecs have none.
public enum BlockLinks {
    public static func of(_ cid: CID, _ block: [UInt8]) throws -> [CID] {
        switch cid.codec {
        case CID.dagPB: return try PBNode(decoding: block).links.map(\.hash)
        case CID.dagCBOR: return collect(try DagCBOR.decode(block))
        case CID.dagJSON: return collect(try DagJSON.decode(block))
        default: return []
        }
    }

    static func collect(_ value: IPLD) -> [CID] {
        var out: [CID] = []
        func visit(_ v: IPLD) {
            switch v {
            case .link(let c): out.append(c)
            case .list(let items): items.forEach(visit)
            case .map(let entries): entries.forEach { visit($0.value) }
            default: break
            }
        }
        visit(value)
        return out
    }
}

/// Depth-first, pre-order walks of a DAG: every block once, parents before children, children
/// in link order (the order CAR exports and verifiers expect).
public struct DAGWalker<Source: BlockSource> {
    public let source: Source

    public init(source: Source) { self.source = source }

    /// Visits every block under `root` (each distinct block once). `visit` may throw to stop.
    public func walk(_ root: CID, skipping seen: inout Set<CID>, visit: (CID, [UInt8]) throws -> Void) throws {
        var stack = [root]
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted else { continue }
            let block = try source.required(cid)
            try visit(cid, block)
            stack.append(contentsOf: try BlockLinks.of(cid, block).reversed())
        }
    }

    /// Walks the DAG's shape without reading its leaves: blocks that can have links are read and
    /// their links followed; raw blocks (file data, most of the bytes) are only looked up with
    /// `leafSize`. `visit` gets each block once with its size, or nil when it is missing.
    public func walkShape(_ root: CID, skipping seen: inout Set<CID>, leafSize: (CID) throws -> UInt64?,
                          visit: (CID, UInt64?) throws -> Void) throws {
        var stack = [root]
        while let cid = stack.popLast() {
            guard seen.insert(cid).inserted else { continue }
            if cid.codec == CID.raw && cid.multihash.code != Multihash.identity {
                try visit(cid, try leafSize(cid))
                continue
            }
            let block = cid.multihash.code == Multihash.identity ? cid.multihash.digest : try source.block(cid)
            try visit(cid, block.map { UInt64($0.count) })
            if let block { stack.append(contentsOf: try BlockLinks.of(cid, block).reversed()) }
        }
    }

    /// Every CID reachable from `root`.
    public func reachable(_ root: CID) throws -> Set<CID> {
        var seen = Set<CID>()
        try walk(root, skipping: &seen) { _, _ in }
        return seen
    }
}
