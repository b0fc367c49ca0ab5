import KramaaJSON
import KramaaPrimitives

/// One item of a private data collection as its member nodes hold it: the value, and the salt
/// that makes its on-chain hash useless for guessing a low-entropy value (a price, a quantity).
public struct PrivateDataItem: Sendable, Equatable {
    public var collection: UInt64
    public var key: Bytes32
    public var salt: Bytes32
    public var value: [UInt8]

    public init(collection: UInt64, key: Bytes32, salt: Bytes32, value: [UInt8]) {
        self.collection = collection
        self.key = key
        self.salt = salt
        self.value = value
    }

    /// A new item under a fresh random key (unless given) with a fresh random salt.
    public static func new(collection: UInt64, key: Bytes32? = nil, value: [UInt8]) -> PrivateDataItem {
        PrivateDataItem(collection: collection, key: key ?? .random(), salt: .random(), value: value)
    }

    /// What the chain holds: `keccak256(salt ‖ value)`.
    public var hash: Bytes32 { Self.hash(salt: salt, value: value) }

    public static func hash(salt: Bytes32, value: [UInt8]) -> Bytes32 { Keccak256.hash(salt.bytes + value) }
}

extension Bytes32 {
    /// 32 bytes from the system's cryptographic generator.
    public static func random() -> Bytes32 {
        var generator = SystemRandomNumberGenerator()
        return try! Bytes32((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}

/// The node's holder of private data, as the API and EPCIS endpoints use it (the node's peer
/// service implements it; docs/PRIVATE-DATA.md).
public protocol PrivateDataHolder: Sendable {
    /// This node's peer address, if it has one: whether it holds a collection's data is the
    /// `node` role of that address in a member organisation.
    var nodeAccount: Address? { get }
    /// Keeps `item` on this node and hands it to the collection's other member nodes; returns
    /// once `requiredPeers` of them acknowledged holding it, so its hash may be recorded. Throws
    /// (keeping nothing) when this node is not a member node or too few peers answered in time.
    func share(_ item: PrivateDataItem, requiredPeers: Int) async throws
    /// Erases an item that was shared but whose hash will not be recorded.
    func discard(collection: UInt64, key: Bytes32)
    /// The item, if this node holds it and it is neither purged nor expired.
    func item(collection: UInt64, key: Bytes32) -> PrivateDataItem?
}

/// Private fields of EPCIS events (docs/PRIVATE-DATA.md): the named members of an event leave it
/// for a collection item, and the event keeps a reference in their place, so the chain commits
/// (through the event hash) to the item's salted hash and never to the fields.
public enum PrivateEPCISFields {
    /// The extension member that replaces the private fields.
    public static let referenceMember = "kramaa:privateData"
    /// The JSON-LD namespace of `kramaa:` members, added to a document's `@context` when absent.
    public static let namespace = "https://kramaa.io/ns/epcis/"

    /// Where an event's private fields are: their collection, key and salted hash, and which members they were.
    public struct Reference: Sendable, Equatable {
        public var collection: UInt64
        public var key: Bytes32
        public var hash: Bytes32
        public var fields: [String]

        public var json: JSON {
            ["collection": .string(String(collection)), "key": .string(key.description), "hash": .string(hash.description),
             "fields": .array(fields.map(JSON.string))]
        }

        public init(collection: UInt64, key: Bytes32, hash: Bytes32, fields: [String]) {
            self.collection = collection
            self.key = key
            self.hash = hash
            self.fields = fields
        }

        /// The reference in an event object, if it has a well-formed one.
        public init?(in event: JSONObject) {
            guard let r = event[PrivateEPCISFields.referenceMember]?.objectValue, let c = r["collection"]?.stringValue.flatMap({ UInt64($0) }),
                  let k = r["key"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }), let h = r["hash"]?.stringValue.flatMap({ try? Bytes32(hex: $0) }) else { return nil }
            self.init(collection: c, key: k, hash: h, fields: (r["fields"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
    }

    /// Splits `event` into its public form and the item holding `fields` (those it has). Nil
    /// when it has none of them; an event carrying a reference already is refused.
    public static func redact(_ event: JSONObject, fields: [String], collection: UInt64) throws(PrivateFieldsError) -> (event: JSONObject, item: PrivateDataItem)? {
        guard event[referenceMember] == nil else { throw .referencePresent }
        for field in fields where ["type", "eventTime", "eventTimeZoneOffset", "eventID", "@context", referenceMember].contains(field) {
            throw .notPrivatizable(field)
        }
        var hidden = JSONObject(), shown = JSONObject()
        for (name, value) in event {
            if fields.contains(name) { hidden[name] = value } else { shown[name] = value }
        }
        guard !hidden.isEmpty else { return nil }
        let item = PrivateDataItem.new(collection: collection, value: JSON.object(hidden).serialized())
        shown[referenceMember] = Reference(collection: collection, key: item.key, hash: item.hash, fields: hidden.keys).json
        return (shown, item)
    }

    /// `event` with the private fields of `item` back in place, if `item` is what its reference
    /// names (same key, and the salted hash matches); the event unchanged otherwise.
    public static func disclose(_ event: JSONObject, _ item: PrivateDataItem) -> JSONObject {
        guard let reference = Reference(in: event), reference.key == item.key, reference.collection == item.collection,
              reference.hash == item.hash, let hidden = try? JSON.parse(item.value).objectValue else { return event }
        var out = event
        for (name, value) in hidden where out[name] == nil { out[name] = value }
        return out
    }

    /// A document `@context` that declares the `kramaa:` prefix (added when missing).
    public static func declaringNamespace(_ context: JSON?) -> JSON {
        let declaration: JSON = ["kramaa": .string(namespace)]
        switch context {
        case nil, .null?: return .array([.string("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"), declaration])
        case .array(let items)?:
            if items.contains(where: { $0["kramaa"] != nil }) { return .array(items) }
            return .array(items + [declaration])
        case let other?:
            if other["kramaa"] != nil { return other }
            return .array([other, declaration])
        }
    }
}

/// Why private fields could not be split off an event.
public enum PrivateFieldsError: Error, Equatable, CustomStringConvertible {
    case referencePresent
    case notPrivatizable(String)

    public var description: String {
        switch self {
        case .referencePresent: "the event carries \(PrivateEPCISFields.referenceMember) already: the node writes that member, a capture may not"
        case .notPrivatizable(let field): "\(field) cannot be private: an event's type, time, time zone and eventID stay public"
        }
    }
}
