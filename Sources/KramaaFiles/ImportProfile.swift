/// How files become DAGs: CID version, leaves, chunk size, links per node, hash, and when
/// directories shard. The three profiles are the ones kubo and IPIP-499 name.
public struct ImportProfile: Sendable, Equatable {
    public enum ShardEstimate: Sendable, Equatable {
        /// The sum of each entry's name and CID bytes (kubo's legacy estimate).
        case links
        /// The encoded size of the directory's dag-pb block (IPIP-499).
        case block
    }

    public var name: String
    public var cidVersion: Int
    public var rawLeaves: Bool
    public var chunkSize: Int
    public var maxLinks: Int
    public var hash: UInt64
    /// A directory whose estimate exceeds this many bytes becomes a HAMT.
    public var shardThreshold: Int
    public var shardEstimate: ShardEstimate
    /// HAMT fanout (a power of two; 256 means 8 bits of the name's hash per level).
    public var fanout: Int

    public init(name: String, cidVersion: Int, rawLeaves: Bool, chunkSize: Int, maxLinks: Int, hash: UInt64 = Multihash.sha2_256,
                shardThreshold: Int = 256 * 1024, shardEstimate: ShardEstimate = .links, fanout: Int = 256) {
        self.name = name
        self.cidVersion = cidVersion
        self.rawLeaves = rawLeaves
        self.chunkSize = chunkSize
        self.maxLinks = maxLinks
        self.hash = hash
        self.shardThreshold = shardThreshold
        self.shardEstimate = shardEstimate
        self.fanout = fanout
    }

    /// `ipfs add --cid-version=1`: CIDv1, raw leaves, 256 KiB chunks, 174 links (the default here).
    public static let kuboV1 = ImportProfile(name: "kubo-cidv1", cidVersion: 1, rawLeaves: true, chunkSize: 262_144, maxLinks: 174)
    /// IPIP-499's `unixfs-v1-2025`: CIDv1, raw leaves, 1 MiB chunks, 1,024 links, shard by block size.
    public static let unixfsV1_2025 = ImportProfile(name: "unixfs-v1-2025", cidVersion: 1, rawLeaves: true, chunkSize: 1_048_576, maxLinks: 1024,
                                                    shardEstimate: .block)
    /// IPIP-499's `unixfs-v0-2015`: kubo's legacy defaults, CIDv0 and dag-pb leaves.
    public static let unixfsV0_2015 = ImportProfile(name: "unixfs-v0-2015", cidVersion: 0, rawLeaves: false, chunkSize: 262_144, maxLinks: 174)

    public static let all: [ImportProfile] = [kuboV1, unixfsV1_2025, unixfsV0_2015]

    /// The profile called `name` (`kubo-cidv1`, `unixfs-v1-2025`, `unixfs-v0-2015`).
    public static func named(_ name: String) -> ImportProfile? { all.first { $0.name == name } }

    /// The CID of a dag-pb node of this profile.
    func nodeCID(_ block: [UInt8]) throws(FilesError) -> CID {
        try CID(version: cidVersion, codec: CID.dagPB, multihash: Multihash(hashing: block, code: hash))
    }
}

/// Where an importer puts the blocks it makes: the node's store, a CAR stream, or nowhere
/// (`--only-hash`).
public protocol BlockSink {
    mutating func put(_ cid: CID, _ block: [UInt8]) throws
}

/// Drops every block: computes CIDs only.
public struct DiscardingSink: BlockSink {
    public init() {}
    public mutating func put(_ cid: CID, _ block: [UInt8]) throws {}
}

/// A link an importer hands up: the child's CID, its total DAG size (Tsize) and the file
/// bytes below it.
public struct ImportedNode: Sendable, Equatable {
    public var cid: CID
    public var tsize: UInt64
    public var fileSize: UInt64

    public init(cid: CID, tsize: UInt64, fileSize: UInt64) {
        self.cid = cid
        self.tsize = tsize
        self.fileSize = fileSize
    }
}
