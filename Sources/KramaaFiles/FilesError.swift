/// What was wrong with content-addressed input (a CID, a multihash, a block, a CAR, an import):
/// each case says what was found and, where it helps, what to do instead.
public enum FilesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A varint that is truncated, longer than 9 bytes, or not minimally encoded.
    case malformedVarint(String)
    /// Multibase text that names an unknown base or holds characters outside it.
    case malformedMultibase(String)
    /// A multihash whose length does not match its digest, or a hash function we cannot compute.
    case malformedMultihash(String)
    case unsupportedHash(String)
    /// A CID that does not parse.
    case malformedCID(String)
    /// A block whose bytes do not decode in its codec (dag-pb, dag-cbor, dag-json, UnixFS).
    case malformedBlock(String)
    /// A value that cannot be encoded in the codec asked for.
    case cannotEncode(String)
    /// A block whose bytes do not hash to the CID it came with.
    case hashMismatch(cid: String, actual: String)
    /// A CAR stream that is not CARv1 or stops part way.
    case malformedCAR(String)
    /// A block the DAG needs that the block source does not have.
    case missingBlock(String)
    /// A path inside a DAG that does not exist or leaves it.
    case badPath(String)

    public var description: String {
        switch self {
        case .malformedVarint(let why): "malformed varint: \(why)"
        case .malformedMultibase(let why): "malformed multibase text: \(why)"
        case .malformedMultihash(let why): "malformed multihash: \(why)"
        case .unsupportedHash(let why): "unsupported hash function: \(why)"
        case .malformedCID(let why): "malformed CID: \(why)"
        case .malformedBlock(let why): "malformed block: \(why)"
        case .cannotEncode(let why): "cannot encode: \(why)"
        case .hashMismatch(let cid, let actual): "block does not match its CID \(cid): its bytes hash to \(actual)"
        case .malformedCAR(let why): "malformed CAR: \(why)"
        case .missingBlock(let cid): "block \(cid) is not available"
        case .badPath(let why): "bad path: \(why)"
        }
    }
}
