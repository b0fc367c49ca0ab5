/// DAG-CBOR (codec 0x71): CBOR restricted so one value has one encoding. The decoder is strict:
/// minimal integer and length encodings, definite lengths, string map keys sorted length first
/// then bytewise and unique, 64-bit floats that are finite, only tag 42 (a CID), only the
/// simple values false, true and null, nothing after the value.
public enum DagCBOR {
    public static let maximumDepth = 256

    public static func encode(_ value: IPLD) throws(FilesError) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, to: &out)
        return out
    }

    static func head(_ major: UInt8, _ value: UInt64, to out: inout [UInt8]) {
        let m = major << 5
        switch value {
        case 0..<24: out.append(m | UInt8(value))
        case 24..<0x100: out.append(m | 24); out.append(UInt8(value))
        case 0x100..<0x10000: out.append(m | 25); appendBig(value, 2, &out)
        case 0x10000..<0x1_0000_0000: out.append(m | 26); appendBig(value, 4, &out)
        default: out.append(m | 27); appendBig(value, 8, &out)
        }
    }

    static func appendBig(_ value: UInt64, _ count: Int, _ out: inout [UInt8]) {
        for i in (0..<count).reversed() { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    static func write(_ value: IPLD, to out: inout [UInt8]) throws(FilesError) {
        switch value {
        case .null: out.append(0xf6)
        case .bool(let b): out.append(b ? 0xf5 : 0xf4)
        case .integer(let negative, let magnitude): head(negative ? 1 : 0, magnitude, to: &out)
        case .float(let d):
            guard d.isFinite else { throw .cannotEncode("dag-cbor has no NaN or infinities") }
            out.append(0xfb)
            appendBig(d.bitPattern, 8, &out)
        case .string(let s):
            head(3, UInt64(s.utf8.count), to: &out)
            out.append(contentsOf: s.utf8)
        case .bytes(let b):
            head(2, UInt64(b.count), to: &out)
            out.append(contentsOf: b)
        case .list(let items):
            head(4, UInt64(items.count), to: &out)
            for item in items { try write(item, to: &out) }
        case .map(let entries):
            head(5, UInt64(entries.count), to: &out)
            for entry in entries.sorted(by: { keyOrder(Array($0.key.utf8), Array($1.key.utf8)) }) {
                head(3, UInt64(entry.key.utf8.count), to: &out)
                out.append(contentsOf: entry.key.utf8)
                try write(entry.value, to: &out)
            }
        case .link(let cid):
            out.append(0xd8); out.append(42)
            let bytes = [0] + cid.bytes
            head(2, UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        }
    }

    /// DAG-CBOR's key order: shorter first, then bytewise.
    static func keyOrder(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
    }

    public static func decode(_ bytes: [UInt8]) throws(FilesError) -> IPLD {
        var reader = Reader(bytes: bytes)
        let value = try reader.value(depth: 0)
        guard reader.offset == bytes.count else { throw .malformedBlock("dag-cbor: \(bytes.count - reader.offset) byte(s) after the value") }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws(FilesError) -> UInt8 {
            guard offset < bytes.count else { throw .malformedBlock("dag-cbor: truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: UInt64) throws(FilesError) -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count - offset) else { throw .malformedBlock("dag-cbor: truncated (\(count) bytes announced)") }
            defer { offset += Int(count) }
            return bytes[offset..<offset + Int(count)]
        }

        /// The argument of a head whose low bits are `info`, checked minimal.
        mutating func argument(_ info: UInt8) throws(FilesError) -> UInt64 {
            let value: UInt64
            switch info {
            case 0..<24: return UInt64(info)
            case 24: value = UInt64(try byte()); guard value >= 24 else { throw .malformedBlock("dag-cbor: integer not minimally encoded") }
            case 25, 26, 27:
                let n = 1 << (info - 24)
                var v: UInt64 = 0
                for b in try take(UInt64(n)) { v = v << 8 | UInt64(b) }
                let floor: UInt64 = n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x1_0000_0000
                guard v >= floor else { throw .malformedBlock("dag-cbor: integer not minimally encoded") }
                value = v
            default: throw .malformedBlock("dag-cbor: indefinite lengths and reserved additional information are not allowed")
            }
            return value
        }

        mutating func value(depth: Int) throws(FilesError) -> IPLD {
            guard depth < DagCBOR.maximumDepth else { throw .malformedBlock("dag-cbor: nested deeper than \(DagCBOR.maximumDepth)") }
            let initial = try byte()
            let major = initial >> 5, info = initial & 0x1f
            switch major {
            case 0: return .integer(negative: false, magnitude: try argument(info))
            case 1: return .integer(negative: true, magnitude: try argument(info))
            case 2: return .bytes(Array(try take(try argument(info))))
            case 3:
                guard let s = IPLD.utf8(try take(try argument(info))) else { throw .malformedBlock("dag-cbor: string is not valid UTF-8") }
                return .string(s)
            case 4:
                let count = try argument(info)
                guard count <= UInt64(bytes.count - offset) else { throw .malformedBlock("dag-cbor: list of \(count) items is truncated") }
                var items: [IPLD] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<count { items.append(try value(depth: depth + 1)) }
                return .list(items)
            case 5:
                let count = try argument(info)
                guard count <= UInt64(bytes.count - offset) else { throw .malformedBlock("dag-cbor: map of \(count) entries is truncated") }
                var entries: [IPLD.Entry] = []
                var previous: [UInt8]?
                for _ in 0..<count {
                    let keyHead = try byte()
                    guard keyHead >> 5 == 3 else { throw .malformedBlock("dag-cbor: map keys must be strings") }
                    let keyBytes = try take(try argument(keyHead & 0x1f))
                    guard let key = IPLD.utf8(keyBytes) else { throw .malformedBlock("dag-cbor: map key is not valid UTF-8") }
                    let raw = Array(keyBytes)
                    if let previous {
                        if previous == raw { throw .malformedBlock("dag-cbor: duplicate map key \"\(key)\"") }
                        guard DagCBOR.keyOrder(previous, raw) else { throw .malformedBlock("dag-cbor: map keys not sorted at \"\(key)\"") }
                    }
                    previous = raw
                    entries.append(IPLD.Entry(key, try value(depth: depth + 1)))
                }
                return .map(entries)
            case 6:
                let tag = try argument(info)
                guard tag == 42 else { throw .malformedBlock("dag-cbor: tag \(tag) is not allowed (only 42, a CID)") }
                guard case .bytes(let b) = try value(depth: depth + 1), b.first == 0, b.count > 1 else {
                    throw .malformedBlock("dag-cbor: tag 42 must hold bytes: 0x00 then a binary CID")
                }
                do { return .link(try CID(bytes: Array(b.dropFirst()))) } catch { throw .malformedBlock("dag-cbor: \(error)") }
            default:
                switch info {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22: return .null
                case 27:
                    var v: UInt64 = 0
                    for b in try take(8) { v = v << 8 | UInt64(b) }
                    let d = Double(bitPattern: v)
                    guard d.isFinite else { throw .malformedBlock("dag-cbor: NaN and infinities are not allowed") }
                    return .float(d)
                case 25, 26: throw .malformedBlock("dag-cbor: floats must be 64-bit")
                default: throw .malformedBlock("dag-cbor: simple value \(info) is not allowed")
                }
            }
        }
    }
}
