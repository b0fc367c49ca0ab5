/// The IPLD data model: what dag-cbor, dag-json and dag-pb blocks decode to and encode from,
/// so one value can be written in another codec (and its CID recomputed there).
public indirect enum IPLD: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer from -2^64 to 2^64-1: `magnitude` when not `negative`, else -1 - `magnitude`
    /// (CBOR's own split, so every integer dag-cbor holds fits).
    case integer(negative: Bool, magnitude: UInt64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([IPLD])
    /// Entries in the order decoded (codecs sort them on encoding); keys are unique.
    case map([Entry])
    case link(CID)

    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: IPLD
        public init(_ key: String, _ value: IPLD) {
            self.key = key
            self.value = value
        }
    }

    public static func int(_ value: Int64) -> IPLD {
        value >= 0 ? .integer(negative: false, magnitude: UInt64(value)) : .integer(negative: true, magnitude: UInt64(-(value + 1)))
    }

    /// The entry `key` of a map.
    public subscript(key: String) -> IPLD? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The value as a non-negative integer that fits in `UInt64`.
    public var unsigned: UInt64? {
        if case .integer(false, let m) = self { return m }
        return nil
    }

    /// A short name of the kind, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .integer: "int"
        case .float: "float"
        case .string: "string"
        case .bytes: "bytes"
        case .list: "list"
        case .map: "map"
        case .link: "link"
        }
    }

    /// The UTF-8 text of `bytes`, or nil when they are not valid UTF-8.
    static func utf8(_ bytes: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}
