/// DAG-PB (codec 0x70), the protobuf format UnixFS lives in: a node is its links (hash,
/// optional name, optional total size) followed by optional data. Decoding is strict per the
/// IPLD dag-pb spec: fields in canonical order (all links, then data, each link's fields in
/// order), length-delimited or varint wire types only where defined, every link with a hash
/// that is a CID, no unknown fields, nothing truncated.
public struct PBNode: Equatable, Sendable {
    public var links: [PBLink]
    public var data: [UInt8]?

    public init(links: [PBLink] = [], data: [UInt8]? = nil) {
        self.links = links
        self.data = data
    }

    /// The canonical encoding (links in the order given: callers sort them by name).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedSize)
        for link in links {
            out.append(0x12)
            Protobuf.writeVarint(UInt64(link.encodedSize), to: &out)
            link.write(to: &out)
        }
        if let data {
            out.append(0x0a)
            Protobuf.writeVarint(UInt64(data.count), to: &out)
            out.append(contentsOf: data)
        }
        return out
    }

    /// The length of `encoded()`, without encoding.
    public var encodedSize: Int {
        var n = 0
        for link in links { n += 1 + Protobuf.varintSize(UInt64(link.encodedSize)) + link.encodedSize }
        if let data { n += 1 + Protobuf.varintSize(UInt64(data.count)) + data.count }
        return n
    }

    public init(decoding bytes: [UInt8]) throws(FilesError) {
        var reader = Protobuf.Reader(bytes: bytes[...])
        var links: [PBLink] = []
        var data: [UInt8]?
        while !reader.atEnd {
            let (field, wire) = try reader.key()
            guard wire == 2 else { throw .malformedBlock("dag-pb: field \(field) has wire type \(wire), expected length-delimited") }
            switch field {
            case 1:
                guard data == nil else { throw .malformedBlock("dag-pb: duplicate Data section") }
                data = Array(try reader.lengthDelimited())
            case 2:
                guard data == nil else { throw .malformedBlock("dag-pb: duplicate Links section (links after Data)") }
                links.append(try PBLink(decoding: try reader.lengthDelimited()))
            default: throw .malformedBlock("dag-pb: unknown field \(field) in PBNode")
            }
        }
        self.links = links
        self.data = data
    }

    /// The IPLD data model form: `{"Data": bytes?, "Links": [{"Hash", "Name"?, "Tsize"?}]}`.
    public var ipld: IPLD {
        var entries: [IPLD.Entry] = []
        if let data { entries.append(IPLD.Entry("Data", .bytes(data))) }
        entries.append(IPLD.Entry("Links", .list(links.map { link in
            var e = [IPLD.Entry("Hash", .link(link.hash))]
            if let name = link.name { e.append(IPLD.Entry("Name", .string(name))) }
            if let tsize = link.tsize { e.append(IPLD.Entry("Tsize", .integer(negative: false, magnitude: tsize))) }
            return .map(e)
        })))
        return .map(entries)
    }

    /// A node from its data model form, refusing any other shape (the dag-pb encode negative
    /// fixtures) and links not sorted by name.
    public init(ipld value: IPLD) throws(FilesError) {
        guard case .map(let entries) = value else { throw .cannotEncode("Invalid DAG-PB form: a \(value.kind), not a map") }
        for e in entries where e.key != "Data" && e.key != "Links" { throw .cannotEncode("Invalid DAG-PB form (extraneous properties): \(e.key)") }
        var data: [UInt8]?
        if let d = value["Data"] {
            guard case .bytes(let b) = d else { throw .cannotEncode("Invalid DAG-PB form (Data must be bytes)") }
            data = b
        }
        guard case .list(let items) = value["Links"] ?? .null else { throw .cannotEncode("Invalid DAG-PB form (Links must be a list)") }
        var links: [PBLink] = []
        for item in items {
            guard case .map(let fields) = item else { throw .cannotEncode("Invalid DAG-PB form (bad link)") }
            for f in fields where !["Hash", "Name", "Tsize"].contains(f.key) { throw .cannotEncode("Invalid DAG-PB form (extraneous properties on link)") }
            guard let hash = item["Hash"] else { throw .cannotEncode("Invalid DAG-PB form (link must have a Hash)") }
            guard case .link(let cid) = hash else { throw .cannotEncode("Invalid DAG-PB form (link Hash must be a CID)") }
            var link = PBLink(hash: cid)
            if let name = item["Name"] {
                guard case .string(let s) = name else { throw .cannotEncode("Invalid DAG-PB form (link Name must be a string)") }
                link.name = s
            }
            if let tsize = item["Tsize"] {
                guard case .integer(let negative, let m) = tsize else { throw .cannotEncode("Invalid DAG-PB form (link Tsize must be an integer)") }
                guard !negative else { throw .cannotEncode("Invalid DAG-PB form (link Tsize cannot be negative)") }
                link.tsize = m
            }
            links.append(link)
        }
        for (a, b) in zip(links, links.dropFirst()) where Array((b.name ?? "").utf8).lexicographicallyPrecedes(Array((a.name ?? "").utf8)) {
            throw .cannotEncode("Invalid DAG-PB form (links must be sorted by Name bytes)")
        }
        self.init(links: links, data: data)
    }
}

/// A dag-pb link.
public struct PBLink: Equatable, Sendable {
    public var hash: CID
    public var name: String?
    /// The total size of the linked DAG (its blocks' bytes).
    public var tsize: UInt64?

    public init(hash: CID, name: String? = nil, tsize: UInt64? = nil) {
        self.hash = hash
        self.name = name
        self.tsize = tsize
    }

    var encodedSize: Int {
        let h = hash.bytes.count
        var n = 1 + Protobuf.varintSize(UInt64(h)) + h
        if let name { n += 1 + Protobuf.varintSize(UInt64(name.utf8.count)) + name.utf8.count }
        if let tsize { n += 1 + Protobuf.varintSize(tsize) }
        return n
    }

    func write(to out: inout [UInt8]) {
        let h = hash.bytes
        out.append(0x0a)
        Protobuf.writeVarint(UInt64(h.count), to: &out)
        out.append(contentsOf: h)
        if let name {
            out.append(0x12)
            Protobuf.writeVarint(UInt64(name.utf8.count), to: &out)
            out.append(contentsOf: name.utf8)
        }
        if let tsize {
            out.append(0x18)
            Protobuf.writeVarint(tsize, to: &out)
        }
    }

    init(decoding bytes: ArraySlice<UInt8>) throws(FilesError) {
        var reader = Protobuf.Reader(bytes: bytes)
        var hash: CID?
        var name: String?
        var tsize: UInt64?
        var last = 0
        while !reader.atEnd {
            let (field, wire) = try reader.key()
            guard field > last else { throw .malformedBlock("dag-pb: link field \(field) out of order or repeated") }
            last = field
            switch (field, wire) {
            case (1, 2):
                do { hash = try CID(bytes: Array(try reader.lengthDelimited())) } catch {
                    throw .malformedBlock("dag-pb: Invalid Hash field found in link, expected CID (\(error))")
                }
            case (2, 2):
                guard let s = IPLD.utf8(try reader.lengthDelimited()) else { throw .malformedBlock("dag-pb: link Name is not valid UTF-8") }
                name = s
            case (3, 0): tsize = try reader.varint()
            default: throw .malformedBlock("dag-pb: unexpected field \(field) (wire type \(wire)) in PBLink")
            }
        }
        guard let hash else { throw .malformedBlock("dag-pb: Invalid Hash field found in link, expected CID") }
        self.init(hash: hash, name: name, tsize: tsize)
    }
}

/// Protobuf's wire format, as far as dag-pb and UnixFS need it.
enum Protobuf {
    static func writeVarint(_ value: UInt64, to out: inout [UInt8]) { Varint.write(value, to: &out) }
    static func varintSize(_ value: UInt64) -> Int { Varint.size(value) }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var atEnd: Bool { bytes.isEmpty }

        /// A protobuf varint (up to 10 bytes, 64 bits).
        mutating func varint() throws(FilesError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let byte = bytes.popFirst() else { throw .malformedBlock("protobuf: truncated varint") }
                guard shift < 64, shift < 63 || byte <= 1 else { throw .malformedBlock("protobuf: varint overflows 64 bits") }
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }

        mutating func key() throws(FilesError) -> (field: Int, wire: Int) {
            let k = try varint()
            let field = Int(truncatingIfNeeded: k >> 3)
            guard field > 0, k >> 3 < 1 << 29 else { throw .malformedBlock("protobuf: invalid field number") }
            return (field, Int(k & 7))
        }

        mutating func lengthDelimited() throws(FilesError) -> ArraySlice<UInt8> {
            let n = try varint()
            guard n <= UInt64(bytes.count) else { throw .malformedBlock("protobuf: field of \(n) bytes is truncated") }
            defer { bytes = bytes.dropFirst(Int(n)) }
            return bytes.prefix(Int(n))
        }

        /// Skips a field of an unknown number (UnixFS tolerates them, dag-pb does not).
        mutating func skip(wire: Int) throws(FilesError) {
            switch wire {
            case 0: _ = try varint()
            case 1: guard bytes.count >= 8 else { throw .malformedBlock("protobuf: truncated") }; bytes = bytes.dropFirst(8)
            case 2: _ = try lengthDelimited()
            case 5: guard bytes.count >= 4 else { throw .malformedBlock("protobuf: truncated") }; bytes = bytes.dropFirst(4)
            default: throw .malformedBlock("protobuf: wire type \(wire) not supported")
            }
        }
    }
}
