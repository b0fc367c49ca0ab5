/// The UnixFS `Data` message carried in a dag-pb node's Data: what the node is (file,
/// directory, HAMT shard, symlink, raw), inline bytes, file size, the sizes of its children's
/// file data, and a HAMT's hash function and fanout. Optional mode and mtime are kept.
public struct UnixFSData: Equatable, Sendable {
    public enum Kind: UInt64, Sendable {
        case raw = 0, directory = 1, file = 2, metadata = 3, symlink = 4, hamtShard = 5
    }

    public var kind: Kind
    public var data: [UInt8]?
    public var fileSize: UInt64?
    public var blockSizes: [UInt64] = []
    public var hashType: UInt64?
    public var fanout: UInt64?
    public var mode: UInt32?
    /// Seconds and nanoseconds since the epoch.
    public var mtime: (seconds: Int64, nanoseconds: UInt32)?

    public init(kind: Kind, data: [UInt8]? = nil, fileSize: UInt64? = nil, blockSizes: [UInt64] = [],
                hashType: UInt64? = nil, fanout: UInt64? = nil) {
        self.kind = kind
        self.data = data
        self.fileSize = fileSize
        self.blockSizes = blockSizes
        self.hashType = hashType
        self.fanout = fanout
    }

    public static func == (a: UnixFSData, b: UnixFSData) -> Bool {
        a.kind == b.kind && a.data == b.data && a.fileSize == b.fileSize && a.blockSizes == b.blockSizes
            && a.hashType == b.hashType && a.fanout == b.fanout && a.mode == b.mode
            && a.mtime?.seconds == b.mtime?.seconds && a.mtime?.nanoseconds == b.mtime?.nanoseconds
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [0x08]
        Varint.write(kind.rawValue, to: &out)
        if let data {
            out.append(0x12)
            Varint.write(UInt64(data.count), to: &out)
            out.append(contentsOf: data)
        }
        if let fileSize { out.append(0x18); Varint.write(fileSize, to: &out) }
        for size in blockSizes { out.append(0x20); Varint.write(size, to: &out) }
        if let hashType { out.append(0x28); Varint.write(hashType, to: &out) }
        if let fanout { out.append(0x30); Varint.write(fanout, to: &out) }
        if let mode { out.append(0x38); Varint.write(UInt64(mode), to: &out) }
        if let mtime {
            var inner: [UInt8] = [0x08]
            Varint.write(UInt64(bitPattern: mtime.seconds), to: &inner)
            if mtime.nanoseconds != 0 {
                inner.append(0x15)
                for i in 0..<4 { inner.append(UInt8(truncatingIfNeeded: mtime.nanoseconds >> (8 * UInt32(i)))) }
            }
            out.append(0x42)
            Varint.write(UInt64(inner.count), to: &out)
            out += inner
        }
        return out
    }

    public init(decoding bytes: [UInt8]) throws(FilesError) {
        var reader = Protobuf.Reader(bytes: bytes[...])
        var kind: Kind?
        self.kind = .raw
        while !reader.atEnd {
            let (field, wire) = try reader.key()
            switch (field, wire) {
            case (1, 0):
                let v = try reader.varint()
                guard let k = Kind(rawValue: v) else { throw .malformedBlock("UnixFS: unknown type \(v)") }
                kind = k
            case (2, 2): data = Array(try reader.lengthDelimited())
            case (3, 0): fileSize = try reader.varint()
            case (4, 0): blockSizes.append(try reader.varint())
            case (4, 2):
                var packed = Protobuf.Reader(bytes: try reader.lengthDelimited())
                while !packed.atEnd { blockSizes.append(try packed.varint()) }
            case (5, 0): hashType = try reader.varint()
            case (6, 0): fanout = try reader.varint()
            case (7, 0): mode = UInt32(truncatingIfNeeded: try reader.varint())
            case (8, 2):
                var inner = Protobuf.Reader(bytes: try reader.lengthDelimited())
                var seconds: Int64 = 0
                var nanos: UInt32 = 0
                while !inner.atEnd {
                    let (f, w) = try inner.key()
                    if f == 1 && w == 0 { seconds = Int64(bitPattern: try inner.varint()) }
                    else if f == 2 && w == 5 {
                        guard inner.bytes.count >= 4 else { throw .malformedBlock("UnixFS: truncated mtime") }
                        nanos = inner.bytes.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
                        inner.bytes = inner.bytes.dropFirst(4)
                    } else { try inner.skip(wire: w) }
                }
                mtime = (seconds, nanos)
            default: try reader.skip(wire: wire)
            }
        }
        guard let kind else { throw .malformedBlock("UnixFS: the Type field is missing") }
        self.kind = kind
    }
}
