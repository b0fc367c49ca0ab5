/// Imports one file as UnixFS: fixed-size chunks, a balanced DAG of at most `maxLinks` links
/// per node, as kubo builds it. Fed bytes as they are read, it holds one chunk and, per level
/// of the tree, the links not yet gathered into a parent, so memory is O(chunk + depth ×
/// maxLinks) whatever the file's size.
public struct FileBuilder<Sink: BlockSink> {
    public let profile: ImportProfile
    public var sink: Sink
    private var chunk: [UInt8]
    /// Links waiting for a parent, level 0 being the leaves.
    private var levels: [[ImportedNode]] = [[]]
    private var total: UInt64 = 0

    public init(profile: ImportProfile, sink: Sink) {
        self.profile = profile
        self.sink = sink
        chunk = []
        chunk.reserveCapacity(profile.chunkSize)
    }

    /// Bytes of the file, in order.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = min(profile.chunkSize - chunk.count, rest.count)
            chunk.append(contentsOf: rest.prefix(n))
            rest = rest.dropFirst(n)
            if chunk.count == profile.chunkSize { try flushChunk() }
        }
    }

    public mutating func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// The file's root: the single leaf of a one-chunk file, else the balanced tree's root.
    public mutating func finish() throws -> ImportedNode {
        if !chunk.isEmpty || total == 0 && levels[0].isEmpty { try flushChunk() }
        var level = 0
        while true {
            if level == levels.count - 1 && levels[level].count == 1 { return levels[level][0] }
            let links = levels[level]
            levels[level] = []
            let parent = try makeParent(links)
            if level + 1 == levels.count { levels.append([]) }
            try add(parent, level: level + 1)
            level += 1
        }
    }

    private mutating func flushChunk() throws {
        let leaf: ImportedNode
        let size = UInt64(chunk.count)
        if profile.rawLeaves {
            let cid = try CID(version: 1, codec: CID.raw, multihash: Multihash(hashing: chunk, code: profile.hash))
            try sink.put(cid, chunk)
            leaf = ImportedNode(cid: cid, tsize: size, fileSize: size)
        } else {
            let unixfs = UnixFSData(kind: .file, data: chunk.isEmpty ? nil : chunk, fileSize: size)
            let block = PBNode(data: unixfs.encoded()).encoded()
            let cid = try profile.nodeCID(block)
            try sink.put(cid, block)
            leaf = ImportedNode(cid: cid, tsize: UInt64(block.count), fileSize: size)
        }
        total += size
        chunk.removeAll(keepingCapacity: true)
        try add(leaf, level: 0)
    }

    /// Adds a link at `level`, first gathering a full level into a parent one level up.
    private mutating func add(_ node: ImportedNode, level: Int) throws {
        if levels[level].count == profile.maxLinks {
            let parent = try makeParent(levels[level])
            levels[level] = []
            if level + 1 == levels.count { levels.append([]) }
            try add(parent, level: level + 1)
        }
        levels[level].append(node)
    }

    private mutating func makeParent(_ links: [ImportedNode]) throws -> ImportedNode {
        let fileSize = links.reduce(0) { $0 + $1.fileSize }
        let unixfs = UnixFSData(kind: .file, fileSize: fileSize, blockSizes: links.map(\.fileSize))
        let node = PBNode(links: links.map { PBLink(hash: $0.cid, name: "", tsize: $0.tsize) }, data: unixfs.encoded())
        let block = node.encoded()
        let cid = try profile.nodeCID(block)
        try sink.put(cid, block)
        return ImportedNode(cid: cid, tsize: UInt64(block.count) + links.reduce(0) { $0 + $1.tsize }, fileSize: fileSize)
    }
}
