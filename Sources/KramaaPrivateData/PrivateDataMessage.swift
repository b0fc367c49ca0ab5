import KramaaNetwork
import KramaaPlatform
import KramaaPrimitives

extension MessageType {
    /// Private data between member nodes (docs/PRIVATE-DATA.md): an item, a node's
    /// acknowledgement that it holds one, and a request for one.
    public static let privateItem: UInt8 = 0x30
    public static let privateHeld: UInt8 = 0x31
    public static let privateWant: UInt8 = 0x32
}

/// The peer messages of private data. An item travels as collection (8 bytes, big-endian),
/// key (32), salt (32), value length (4, big-endian) and value; an acknowledgement and a request
/// as collection and key.
enum PrivateDataMessage: Equatable {
    case item(PrivateDataItem)
    case held(collection: UInt64, key: Bytes32)
    case want(collection: UInt64, key: Bytes32)

    /// The largest value an item message carries.
    static let maxValue = 4 << 20

    var type: UInt8 {
        switch self {
        case .item: MessageType.privateItem
        case .held: MessageType.privateHeld
        case .want: MessageType.privateWant
        }
    }

    var payload: [UInt8] {
        switch self {
        case .item(let item):
            return Self.id(item.collection, item.key) + item.salt.bytes + withUnsafeBytes(of: UInt32(item.value.count).bigEndian, Array.init) + item.value
        case .held(let collection, let key), .want(let collection, let key):
            return Self.id(collection, key)
        }
    }

    static func id(_ collection: UInt64, _ key: Bytes32) -> [UInt8] { withUnsafeBytes(of: collection.bigEndian, Array.init) + key.bytes }

    init(type: UInt8, payload: [UInt8]) throws(PrivateDataError) {
        guard payload.count >= 40 else { throw .malformedMessage("\(payload.count) bytes: too short") }
        let collection = payload[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let key = try! Bytes32(Array(payload[8..<40]))
        switch type {
        case MessageType.privateHeld: self = .held(collection: collection, key: key)
        case MessageType.privateWant: self = .want(collection: collection, key: key)
        case MessageType.privateItem:
            guard payload.count >= 76 else { throw .malformedMessage("an item of \(payload.count) bytes: too short") }
            let length = Int(payload[72..<76].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= Self.maxValue, payload.count == 76 + length else { throw .malformedMessage("an item whose value length \(length) does not match") }
            self = .item(PrivateDataItem(collection: collection, key: key, salt: try! Bytes32(Array(payload[40..<72])), value: Array(payload[76...])))
        default:
            throw .malformedMessage("type \(type) is not a private data message")
        }
    }
}

/// Why private data was not shared, stored or served.
public enum PrivateDataError: Error, Equatable, CustomStringConvertible {
    case noNodeKey
    case notMemberNode(node: Address, collection: UInt64)
    case tooFewPeers(collection: UInt64, required: Int, acknowledged: Int)
    case malformedMessage(String)
    case storage(String)
    case stopped

    public var description: String {
        switch self {
        case .noNodeKey: "this node has no node key (not on the peer network), so it holds no private data: send it to a member organisation's validator node"
        case .notMemberNode(let node, let collection):
            "this node (\(node)) is not a node of a member organisation of collection \(collection): a member organisation's admin grants its address the node role, or send the data to a member's node"
        case .tooFewPeers(let collection, let required, let acknowledged):
            "collection \(collection) needs \(required) other member nodes to hold an item before it is recorded; \(acknowledged) acknowledged in time: nothing was recorded, try again when they are connected"
        case .malformedMessage(let why): "malformed private data message: \(why)"
        case .storage(let why): "cannot store the private data: \(why)"
        case .stopped: "the node's private data service has stopped"
        }
    }
}
