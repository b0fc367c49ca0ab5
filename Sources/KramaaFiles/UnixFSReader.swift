/// Reads UnixFS DAGs back: what a CID is (file, directory, raw, other codec), a path inside
/// directories (plain and HAMT), a directory's entries, and a file's bytes over a range,
/// streamed a block at a time. It records the blocks it had to read, which is what a
/// trustless gateway's CAR must hold to let a client repeat the same steps.
public struct UnixFSReader<Source: BlockSource> {
    public let source: Source

    public init(source: Source) { self.source = source }

    public enum Entity: Equatable, Sendable {
        /// A UnixFS file or a raw block: its total size.
        case file(size: UInt64)
        case directory(sharded: Bool)
        case symlink(target: String)
        /// A block of another codec (dag-cbor, dag-json, ...), or dag-pb without UnixFS.
        case other
    }

    public struct DirectoryEntry: Equatable, Sendable {
        public var name: String
        public var cid: CID
        public var tsize: UInt64?
    }

    /// The node of a dag-pb block and its UnixFS data (nil when it has none or it is not UnixFS).
    func node(_ cid: CID, _ trail: inout [CID]) throws -> (PBNode, UnixFSData?) {
        let block = try source.required(cid)
        trail.append(cid)
        let node = try PBNode(decoding: block)
        return (node, node.data.flatMap { try? UnixFSData(decoding: $0) })
    }

    /// What `cid` names.
    public func entity(_ cid: CID) throws -> Entity {
        var trail: [CID] = []
        return try entity(cid, &trail)
    }

    func entity(_ cid: CID, _ trail: inout [CID]) throws -> Entity {
        switch cid.codec {
        case CID.raw:
            if cid.multihash.code == Multihash.identity { return .file(size: UInt64(cid.multihash.digest.count)) }
            guard let block = try source.block(cid) else { throw FilesError.missingBlock(cid.string) }
            trail.append(cid)
            return .file(size: UInt64(block.count))
        case CID.dagPB:
            let (_, unixfs) = try node(cid, &trail)
            guard let unixfs else { return .other }
            switch unixfs.kind {
            case .file, .raw: return .file(size: unixfs.fileSize ?? UInt64(unixfs.data?.count ?? 0))
            case .directory: return .directory(sharded: false)
            case .hamtShard: return .directory(sharded: true)
            case .symlink: return .symlink(target: String(decoding: unixfs.data ?? [], as: UTF8.self))
            case .metadata: return .other
            }
        default:
            trail.append(cid)
            return .other
        }
    }

    /// Follows `path` (names, already split and percent-decoded) from `root`; `trail` gets
    /// every block read on the way (the path's blocks, HAMT shards included).
    public func resolve(_ root: CID, path: [String], trail: inout [CID]) throws -> CID {
        var current = root
        for name in path {
            guard !name.isEmpty, name != ".", name != ".." else { throw FilesError.badPath("'\(name)' is not a name inside a directory") }
            guard current.codec == CID.dagPB else { throw FilesError.badPath("\(current) is not a directory, so it has no \(name)") }
            let (node, unixfs) = try node(current, &trail)
            switch unixfs?.kind {
            case .directory?:
                guard let link = node.links.first(where: { $0.name == name }) else { throw FilesError.badPath("no \(name) in \(current)") }
                current = link.hash
            case .hamtShard?:
                current = try hamtLookup(node, unixfs!, name: name, depth: 0, trail: &trail)
            default:
                throw FilesError.badPath("\(current) is not a directory, so it has no \(name)")
            }
        }
        return current
    }

    func hamtLookup(_ node: PBNode, _ data: UnixFSData, name: String, depth: Int, trail: inout [CID]) throws -> CID {
        let fanout = Int(data.fanout ?? 256)
        guard fanout > 1, fanout.nonzeroBitCount == 1, data.hashType == Multihash.murmur3 else {
            throw FilesError.malformedBlock("HAMT shard with fanout \(fanout) and hash \(data.hashType ?? 0) is not supported")
        }
        let width = String(fanout - 1, radix: 16).count
        let index = try DirectoryBuilder.bucket(Murmur3.x64_64(Array(name.utf8)), depth: depth, bits: fanout.trailingZeroBitCount)
        let prefix = String(index, radix: 16, uppercase: true).leftPadded(width)
        for link in node.links where (link.name ?? "").hasPrefix(prefix) {
            let linkName = link.name ?? ""
            if linkName == prefix + name { return link.hash }
            if linkName.count == width {
                let (child, childData) = try self.node(link.hash, &trail)
                guard let childData, childData.kind == .hamtShard else { throw FilesError.malformedBlock("HAMT sub-shard \(link.hash) is not a shard") }
                return try hamtLookup(child, childData, name: name, depth: depth + 1, trail: &trail)
            }
        }
        throw FilesError.badPath("no \(name) in the sharded directory")
    }

    /// The entries of a directory (a HAMT's entries in shard order, with their names).
    public func list(_ cid: CID) throws -> [DirectoryEntry] {
        var trail: [CID] = []
        let (node, unixfs) = try node(cid, &trail)
        switch unixfs?.kind {
        case .directory?: return node.links.map { DirectoryEntry(name: $0.name ?? "", cid: $0.hash, tsize: $0.tsize) }
        case .hamtShard?:
            var out: [DirectoryEntry] = []
            try listShard(node, unixfs!, into: &out, trail: &trail)
            return out
        default: throw FilesError.badPath("\(cid) is not a directory")
        }
    }

    func listShard(_ node: PBNode, _ data: UnixFSData, into out: inout [DirectoryEntry], trail: inout [CID]) throws {
        let width = String(Int(data.fanout ?? 256) - 1, radix: 16).count
        for link in node.links {
            let name = link.name ?? ""
            if name.count == width {
                let (child, childData) = try self.node(link.hash, &trail)
                guard let childData, childData.kind == .hamtShard else { throw FilesError.malformedBlock("HAMT sub-shard \(link.hash) is not a shard") }
                try listShard(child, childData, into: &out, trail: &trail)
            } else {
                out.append(DirectoryEntry(name: String(name.dropFirst(width)), cid: link.hash, tsize: link.tsize))
            }
        }
    }

    /// Streams the bytes `range` (half-open, clipped to the file) of the file `cid`;
    /// `visitBlock` sees each block read, in depth-first order, before its bytes are emitted.
    public func read(_ cid: CID, range: Range<UInt64>? = nil, visitBlock: (CID, [UInt8]) throws -> Void = { _, _ in },
                     emit: (ArraySlice<UInt8>) throws -> Void) throws {
        try read(cid, offset: 0, range: range ?? 0..<UInt64.max, visitBlock: visitBlock, emit: emit)
    }

    private func read(_ cid: CID, offset: UInt64, range: Range<UInt64>, visitBlock: (CID, [UInt8]) throws -> Void,
                      emit: (ArraySlice<UInt8>) throws -> Void) throws {
        let block = try source.required(cid)
        try visitBlock(cid, block)
        func emitClipped(_ bytes: ArraySlice<UInt8>) throws {
            let lo = max(range.lowerBound, offset), hi = min(range.upperBound, offset + UInt64(bytes.count))
            guard lo < hi else { return }
            let s = bytes.startIndex + Int(lo - offset)
            try emit(bytes[s..<s + Int(hi - lo)])
        }
        if cid.codec == CID.raw { return try emitClipped(block[...]) }
        guard cid.codec == CID.dagPB else { throw FilesError.badPath("\(cid) (\(cid.codecName)) is not a UnixFS file") }
        let node = try PBNode(decoding: block)
        guard let data = node.data, let unixfs = try? UnixFSData(decoding: data), unixfs.kind == .file || unixfs.kind == .raw else {
            throw FilesError.badPath("\(cid) is not a UnixFS file")
        }
        if let inline = unixfs.data { try emitClipped(inline[...]) }
        var childOffset = offset + UInt64(unixfs.data?.count ?? 0)
        guard node.links.count == unixfs.blockSizes.count || node.links.isEmpty else {
            throw FilesError.malformedBlock("\(cid): \(node.links.count) links but \(unixfs.blockSizes.count) block sizes")
        }
        for (link, size) in zip(node.links, unixfs.blockSizes) {
            let span = childOffset..<childOffset + size
            if span.overlaps(range) || (size == 0 && range.contains(childOffset)) {
                try read(link.hash, offset: childOffset, range: range, visitBlock: visitBlock, emit: emit)
            }
            childOffset += size
            if childOffset >= range.upperBound { break }
        }
    }
}
