import KramaaGS1
import KramaaPrimitives

/// The EPCIS Event Hash ID of GS1 CBV 2.0: a fingerprint of an event that does not depend on its
/// syntax (JSON-LD or XML), member order, time zone, timestamp precision, URN vs Web URI
/// vocabulary or EPC URI vs Digital Link identifiers.
///
/// Each event becomes a canonical *pre-hash string* (its fields in the CBV property order, values
/// canonical, lists sorted, user extensions last, `eventID`, `recordTime`, `errorDeclaration` and
/// comments left out); the ID is `ni:///sha-256;<hex>?ver=CBV2.0` over the string's UTF-8 bytes.
/// Behaviour follows the reference implementation (RalphTro/epcis-event-hash-generator) where
/// the standard leaves room.
public enum EPCISEventHash {
    /// The hash algorithm and CBV version the ID names.
    public static let prefix = "ni:///sha-256;"
    public static let suffix = "?ver=CBV2.0"

    /// The pre-hash string of a JSON-LD event.
    /// `links` normalises its identifiers: pass one memo for the events of a document, so an
    /// identifier they share is normalised once.
    public static func preHash(of event: EPCISEvent, ignoring: Set<String> = [], links: CanonicalDigitalLink.Memo = .init()) -> String {
        EPCISPreHashBuilder(ignoredFields: ignoring, links: links).preHash(eventType: event.type.name, children: EPCISHashNode.eventChildren(of: event))
    }

    /// The pre-hash string of an event already read into hash nodes (from XML, say). `ignoring`
    /// names event members to leave out besides the standard ones (`{namespace}local`).
    public static func preHash(of event: EPCISHashEvent, ignoring: Set<String> = []) -> String {
        EPCISPreHashBuilder(ignoredFields: ignoring).preHash(eventType: event.type, children: event.children)
    }

    /// The SHA-256 digest of a pre-hash string (what the chain stores as bytes32).
    public static func digest(ofPreHash preHash: String) -> Bytes32 {
        SHA256Digest.hash(utf8: preHash)
    }

    /// `ni:///sha-256;<64 lowercase hex digits>?ver=CBV2.0` for a digest.
    public static func hashID(digest: Bytes32) -> String {
        prefix + digest.withUnsafeBytes { Hex.encode($0, prefix: false) } + suffix
    }

    /// The raw 32-byte event hash of a JSON-LD event.
    public static func digest(of event: EPCISEvent, links: CanonicalDigitalLink.Memo = .init()) -> Bytes32 {
        digest(ofPreHash: preHash(of: event, links: links))
    }

    /// The EPCIS Event Hash ID of a JSON-LD event.
    public static func hashID(of event: EPCISEvent) -> String { hashID(digest: digest(of: event)) }

    /// The EPCIS Event Hash ID of an event read into hash nodes.
    public static func hashID(of event: EPCISHashEvent, ignoring: Set<String> = []) -> String {
        hashID(digest: digest(ofPreHash: preHash(of: event, ignoring: ignoring)))
    }

    /// Why an event's `eventID` cannot stand for the event, or nil when it can: an `eventID`
    /// written as a hash ID (`ni:///…`) must be the event's own CBV 2.0 hash (any hex case,
    /// any `?ver=`), else it would name another event. Other IDs (UUID URNs, …) are free.
    public static func eventIDProblem(_ event: EPCISEvent, digest: Bytes32) -> String? {
        guard let id = event.eventID, id.lowercased().hasPrefix("ni:///") else { return nil }
        let expected = hashID(digest: digest)
        let body = id.lowercased().dropFirst(prefix.utf8.count).prefix { $0 != "?" }
        guard id.lowercased().hasPrefix(prefix), body.utf8.count == 64, let given = try? Bytes32(hex: body) else {
            return "eventID \(id) is a hash ID but not a SHA-256 CBV 2.0 one: use \(expected) or a UUID URN"
        }
        guard given == digest else {
            return "eventID \(id) is not this event's hash: the event's hash ID is \(expected); give that, or a UUID URN"
        }
        return nil
    }

    /// The digest inside an Event Hash ID, or nil when `id` is not a SHA-256 CBV 2.0 hash ID.
    public static func digest(fromHashID id: String) -> Bytes32? {
        guard id.hasPrefix(prefix), id.hasSuffix(suffix), id.utf8.count == prefix.utf8.count + 64 + suffix.utf8.count else { return nil }
        let hex = id.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return try? Bytes32(hex: hex)
    }
}

extension EPCISDocument {
    /// The pre-hash string of every event, in document order (leaving out the fields of a
    /// document-level `ignoreFields` list, as for XML).
    public var eventPreHashes: [String] {
        let ignored = ignoredFields
        return events.map { EPCISEventHash.preHash(of: $0, ignoring: ignored) }
    }

    /// The EPCIS Event Hash ID of every event, in document order.
    public var eventHashIDs: [String] { eventPreHashes.map { EPCISEventHash.hashID(digest: EPCISEventHash.digest(ofPreHash: $0)) } }

    /// The reference implementation's document-level `ignoreFields` extension (not part of CBV
    /// 2.0), in JSON-LD: a member whose name expands to `{https://repository-x.example.com/}ignoreFields`
    /// listing field names (an array of names, or an object whose keys are the names), each
    /// expanded by the document's context as event members are.
    public var ignoredFields: Set<String> {
        guard case .object(let object) = json else { return [] }
        let prefixes = EPCISHashNode.prefixes(of: contextJSON)
        func expand(_ key: String) -> String {
            guard let colon = key.firstIndex(of: ":"), let namespace = prefixes[String(key[..<colon])] else { return key }
            return "{" + namespace + "}" + key[key.index(after: colon)...]
        }
        var out = Set<String>()
        for (key, value) in object where expand(key) == EPCISXMLDocument.ignoreFieldsElement {
            switch value {
            case .array(let names): out.formUnion(names.compactMap(\.stringValue).map(expand))
            case .object(let names): out.formUnion(names.keys.map(expand))
            case .string(let name): out.insert(expand(name))
            default: break
            }
        }
        return out
    }
}

/// An event read into hash nodes: its type name and its members (see ``EPCISHashNode``).
public struct EPCISHashEvent: Sendable, Equatable {
    /// `ObjectEvent`, `AggregationEvent`, … (or an extension event's element name).
    public var type: String
    public var children: [EPCISHashNode]

    public init(type: String, children: [EPCISHashNode]) {
        self.type = type
        self.children = children
    }

    /// The hash nodes of a JSON-LD event.
    public init(_ event: EPCISEvent) {
        self.init(type: event.type.name, children: EPCISHashNode.eventChildren(of: event))
    }
}
