/// Builds a UnixFS directory from its entries, as `ipfs add -r` does: a dag-pb node of
/// `Directory` type with links sorted by name (each link's Tsize the entry's whole DAG), or,
/// when the profile's size estimate exceeds its threshold, a HAMT of `HAMTShard` nodes
/// (names placed by murmur3-x64-64, `fanout` buckets per level, link names the bucket in
/// upper-case hex followed by the entry's name, or alone for a sub-shard).
public enum DirectoryBuilder {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var node: ImportedNode
        public init(name: String, node: ImportedNode) {
            self.name = name
            self.node = node
        }
    }

    /// Emits the directory's blocks to `sink` and returns its root.
    public static func build<Sink: BlockSink>(_ entries: [Entry], profile: ImportProfile, sink: inout Sink) throws -> ImportedNode {
        let sorted = entries.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.name == b.name {
            throw FilesError.cannotEncode("two entries named \(a.name) in one directory")
        }
        let plain = PBNode(links: sorted.map { PBLink(hash: $0.node.cid, name: $0.name, tsize: $0.node.tsize) },
                           data: UnixFSData(kind: .directory).encoded())
        if estimate(plain, profile: profile) <= profile.shardThreshold {
            return try emit(plain, profile: profile, sink: &sink)
        }
        return try shard(sorted.map { ($0, Murmur3.x64_64(Array($0.name.utf8))) }, depth: 0, profile: profile, sink: &sink)
    }

    static func estimate(_ node: PBNode, profile: ImportProfile) -> Int {
        switch profile.shardEstimate {
        case .links: node.links.reduce(0) { $0 + ($1.name?.utf8.count ?? 0) + $1.hash.bytes.count }
        case .block: node.encodedSize
        }
    }

    static func emit<Sink: BlockSink>(_ node: PBNode, profile: ImportProfile, sink: inout Sink) throws -> ImportedNode {
        let block = node.encoded()
        let cid = try profile.nodeCID(block)
        try sink.put(cid, block)
        return ImportedNode(cid: cid, tsize: UInt64(block.count) + node.links.reduce(0) { $0 + ($1.tsize ?? 0) }, fileSize: 0)
    }

    /// The bucket of `hash` at `depth` (bits per level: log2(fanout)); past 64 bits the hash
    /// is exhausted and the names cannot be told apart.
    static func bucket(_ hash: UInt64, depth: Int, bits: Int) throws -> Int {
        let shift = 64 - (depth + 1) * bits
        guard shift >= 0 else { throw FilesError.cannotEncode("HAMT: names collide in all 64 bits of their hash") }
        return Int((hash >> UInt64(shift)) & UInt64((1 << bits) - 1))
    }

    static func shard<Sink: BlockSink>(_ entries: [(Entry, UInt64)], depth: Int, profile: ImportProfile, sink: inout Sink) throws -> ImportedNode {
        let bits = profile.fanout.trailingZeroBitCount
        let width = String(profile.fanout - 1, radix: 16).count
        var buckets: [Int: [(Entry, UInt64)]] = [:]
        for e in entries { buckets[try bucket(e.1, depth: depth, bits: bits), default: []].append(e) }
        var bitfield = [UInt8](repeating: 0, count: max(1, profile.fanout / 8))
        var links: [PBLink] = []
        for index in buckets.keys.sorted() {
            bitfield[bitfield.count - 1 - index / 8] |= 1 << (index % 8)
            let prefix = String(index, radix: 16, uppercase: true).leftPadded(width)
            let members = buckets[index]!
            if members.count == 1 {
                let e = members[0].0
                links.append(PBLink(hash: e.node.cid, name: prefix + e.name, tsize: e.node.tsize))
            } else {
                let child = try shard(members, depth: depth + 1, profile: profile, sink: &sink)
                links.append(PBLink(hash: child.cid, name: prefix, tsize: child.tsize))
            }
        }
        let data = UnixFSData(kind: .hamtShard, data: bitfield, hashType: Multihash.murmur3, fanout: UInt64(profile.fanout))
        return try emit(PBNode(links: links, data: data.encoded()), profile: profile, sink: &sink)
    }
}

extension Multihash {
    public static let murmur3: UInt64 = 0x22
}
