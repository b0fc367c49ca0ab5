import Foundation
import KramaaAuth
import KramaaJSON
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// Private data as the REST and EPCIS interfaces serve it (docs/PRIVATE-DATA.md): items are
/// shared with the collection's member nodes before their hashes go on chain, and disclosed
/// only to a caller acting as an account with a role in a member organisation, on a node that
/// holds them. Everyone else gets the record: the salted hash and what happened to it.
struct PrivateDataAccess: Sendable {
    let calls: PlatformCalls
    let holder: (any PrivateDataHolder)?

    var collections: PrivateDataClient<NodeContractReader> { PrivateDataClient(calls.reader) }

    /// The account a read of private data acts as: a token's own account (a `Kramaa-From` naming
    /// another is ignored); for a caller bound to none (open loopback, in process), the account
    /// `Kramaa-From` names, if the node holds its key. Nil: the caller is anonymous.
    func reader(_ request: HTTPRequest) -> Address? {
        guard let caller = try? calls.api.access.authorize(request.credentials, for: .read) else { return nil }
        let named = request.header("kramaa-from").flatMap { try? Address(hex: $0) }
        if let bound = caller.account { return bound }
        guard let named, calls.api.devAccounts.key(for: named) != nil else { return nil }
        return named
    }

    /// The item for `reader`, or why it is not disclosed.
    func disclosed(_ collection: UInt64, _ key: Bytes32, to reader: Address?) -> Result<PrivateDataItem, Refusal> {
        guard let reader else { return .failure(.anonymous) }
        guard (try? collections.mayAccess(collection, reader)) == true else { return .failure(.notMember(reader)) }
        guard let holder else { return .failure(.notHeld) }
        guard let item = holder.item(collection: collection, key: key) else { return .failure(.notHeld) }
        return .success(item)
    }

    enum Refusal: Error, CustomStringConvertible {
        case anonymous, notMember(Address), notHeld

        var description: String {
            switch self {
            case .anonymous: "the caller acts as no account: name one with Kramaa-From (a key this node holds) or use a token bound to one"
            case .notMember(let a): "\(a) holds no role in a member organisation of the collection"
            case .notHeld: "this node does not hold the value (it is not a member organisation's node, or the item was purged or expired)"
            }
        }
    }

    /// Shares `items` (all of `collection`) with the member nodes, then records their hashes
    /// from `from` in one transaction. Nothing stays behind when either step fails.
    func share(_ items: [PrivateDataItem], collection: UInt64, from: Address) async throws -> (hash: Bytes32, block: UInt64, output: [UInt8]) {
        guard let holder else {
            throw HTTPProblem(status: 503, title: "No private data here", detail: "\(PrivateDataUnavailable())")
        }
        let record = try collections.collection(collection)
        guard try collections.mayAccess(collection, from) else {
            throw HTTPProblem(status: 403, title: "Not a member", detail: "\(from) holds no role in a member organisation of collection \(collection): nothing was shared or recorded")
        }
        var shared: [PrivateDataItem] = []
        do {
            for item in items {
                try await holder.share(item, requiredPeers: Int(record.requiredPeers))
                shared.append(item)
            }
            return try await calls.write(from: from, PrivateDataCollections.address, PrivateDataCollections.Method.recordMany.callData([
                .uint(UInt256(collection)), .array(items.map { .fixedBytes($0.key) }), .array(items.map { .fixedBytes($0.hash) })]))
        } catch {
            for item in shared { holder.discard(collection: collection, key: item.key) }
            if let problem = error as? HTTPProblem { throw problem }
            throw HTTPProblem(status: 503, title: "Not shared", detail: "\(error)")
        }
    }

    /// EPCIS events with the private fields put back where `reader` may see them and this node
    /// holds them; the others keep their reference (collection, key, salted hash).
    func disclose(_ events: [JSON], to reader: Address?) -> [JSON] {
        events.map { event in
            guard let object = event.objectValue, let reference = PrivateEPCISFields.Reference(in: object),
                  case .success(let item) = disclosed(reference.collection, reference.key, to: reader) else { return event }
            return .object(PrivateEPCISFields.disclose(object, item))
        }
    }
}

/// A node without private data service (no node key): it holds no private data.
struct PrivateDataUnavailable: CustomStringConvertible {
    var description: String { "this node has no node key, so it holds no private data: send it to a member organisation's validator node" }
}

/// A capture's request to keep some event fields private: `Kramaa-Private-Collection: ID` and
/// `Kramaa-Private-Fields: bizTransactionList,example:price` (the event members to split off).
struct PrivateCapture {
    let collection: UInt64
    let fields: [String]

    /// Nil when the request names no collection; a collection without fields (or the reverse) is refused.
    init?(_ request: HTTPRequest) throws(HTTPProblem) {
        let collection = request.header("kramaa-private-collection"), fields = request.header("kramaa-private-fields")
        guard collection != nil || fields != nil else { return nil }
        guard let id = collection.flatMap({ UInt64($0.trimmingCharacters(in: .whitespaces)) }), id > 0 else {
            throw .badRequest("Kramaa-Private-Collection must be the id of the collection that keeps the private fields (with Kramaa-Private-Fields)")
        }
        let names = (fields ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw .badRequest("Kramaa-Private-Fields must list the event members to keep private, comma-separated (e.g. bizTransactionList)") }
        self.collection = id
        self.fields = names
    }
}
