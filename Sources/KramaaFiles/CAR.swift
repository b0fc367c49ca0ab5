/// CARv1: a varint-prefixed dag-cbor header `{roots: [CID], version: 1}`, then sections of
/// varint length, CID and block. The writer frames blocks as they come; the reader is fed
/// bytes as they arrive and hands out sections, so neither holds more than one block.
public enum CAR {
    /// Largest header the reader takes.
    public static let maximumHeader = 64 * 1024
    /// Largest section (CID and block) the reader takes: 1 MiB chunks plus their node, with room.
    public static let maximumSection = 4 * 1024 * 1024
    /// `application/vnd.ipld.car`.
    public static let mediaType = "application/vnd.ipld.car"

    /// The header bytes, length prefix included.
    public static func header(roots: [CID]) -> [UInt8] {
        let value = IPLD.map([IPLD.Entry("roots", .list(roots.map { .link($0) })), IPLD.Entry("version", .integer(negative: false, magnitude: 1))])
        let body = try! DagCBOR.encode(value)
        return Varint.encode(UInt64(body.count)) + body
    }

    /// One section's bytes.
    public static func section(_ cid: CID, _ block: [UInt8]) -> [UInt8] {
        let c = cid.bytes
        var out = Varint.encode(UInt64(c.count + block.count))
        out.reserveCapacity(out.count + c.count + block.count)
        out += c
        out += block
        return out
    }

    /// Parses a header's dag-cbor body: the roots of a version 1 CAR.
    static func parseHeader(_ body: [UInt8]) throws(FilesError) -> [CID] {
        let value: IPLD
        do { value = try DagCBOR.decode(body) } catch { throw .malformedCAR("the header is not dag-cbor: \(error)") }
        guard value["version"] == .integer(negative: false, magnitude: 1) else { throw .malformedCAR("only CARv1 is read (version must be 1)") }
        guard case .list(let items) = value["roots"] ?? .null else { throw .malformedCAR("the header has no roots list") }
        var roots: [CID] = []
        for item in items {
            guard case .link(let cid) = item else { throw .malformedCAR("a root is not a CID") }
            roots.append(cid)
        }
        return roots
    }
}

/// Reads a CARv1 stream fed in pieces of any size: `feed`, then `next()` until nil, and
/// `finish()` at the end of input, which fails if a section was cut short.
public struct CARReader {
    private var buffer: [UInt8] = []
    private var start = 0
    public private(set) var roots: [CID]?
    /// Check every block against its CID as it is read.
    public var verify = true

    public init(verify: Bool = true) { self.verify = verify }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The length prefix at `start` and where its payload begins, if all there.
    private func frame(limit: Int, what: String) throws(FilesError) -> (length: Int, payload: Int)? {
        var offset = start
        let length: UInt64
        do { length = try Varint.read(buffer, at: &offset) } catch {
            if buffer.count - start >= 9 { throw .malformedCAR("bad \(what) length: \(error)") }
            return nil
        }
        guard length <= UInt64(limit) else { throw .malformedCAR("\(what) of \(length) bytes is larger than the \(limit) taken") }
        guard length > 0 || what == "header" else { throw .malformedCAR("empty section") }
        return buffer.count - offset >= Int(length) ? (Int(length), offset) : nil
    }

    /// A reader over a CAR held whole (an upload's body): sections are read in place, with no copy
    /// of the bytes; ``nextInPlace()`` hands out where each block is.
    public init(whole bytes: [UInt8], verify: Bool = true) {
        buffer = bytes
        self.verify = verify
    }

    /// The bytes ``nextInPlace()``'s ranges index (what was fed, or the whole CAR).
    public var bytes: [UInt8] { buffer }

    /// The next block, or nil until more bytes are fed. Reads the header first.
    public mutating func next() throws(FilesError) -> (cid: CID, block: [UInt8])? {
        guard let (cid, range) = try nextInPlace() else { return nil }
        return (cid, Array(buffer[range]))
    }

    /// The next block's CID and where its bytes are in ``bytes`` (checked against the CID when
    /// `verify`), or nil until more bytes are fed. The range holds until the next `feed`.
    public mutating func nextInPlace() throws(FilesError) -> (cid: CID, range: Range<Int>)? {
        if roots == nil {
            guard let (length, payload) = try frame(limit: CAR.maximumHeader, what: "header") else { return nil }
            roots = try CAR.parseHeader(Array(buffer[payload..<payload + length]))
            start = payload + length
        }
        guard let (length, payload) = try frame(limit: CAR.maximumSection, what: "section") else { return nil }
        var offset = payload
        let cid: CID
        do { cid = try CID.read(buffer, at: &offset) } catch { throw .malformedCAR("a section does not start with a CID: \(error)") }
        guard offset <= payload + length else { throw .malformedCAR("a section's CID runs past the section") }
        let range = offset..<(payload + length)
        start = payload + length
        if verify { try cid.verify(buffer[range]) }
        return (cid, range)
    }

    /// Ends the input: an error if a header or section is incomplete.
    public func finish() throws(FilesError) {
        guard roots != nil else { throw .malformedCAR("truncated: the stream ended inside the header") }
        guard start == buffer.count else { throw .malformedCAR("truncated: \(buffer.count - start) byte(s) of an incomplete section at the end") }
    }
}
