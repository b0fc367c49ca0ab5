import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/collections`: private data collections (docs/PRIVATE-DATA.md). Collections and item
/// records are public; an item's value is answered only to a member organisation's account on a
/// node that holds it.
extension PlatformEndpoints {
    func collectionRoutes(_ r: inout HTTPRouter) {
        r.post("collections") { q in try await write(q) { body, from in try await createCollection(body, from: from) } }
        r.get("collections/{id}") { q in .json(try collection(try q.path("id"))) }
        r.post("collections/{id}/items") { q in
            let id: UInt64 = try q.path("id")
            return try await write(q) { body, from in try await putItem(id, body, from: from) }
        }
        r.get("collections/{id}/items/{key}") { q in
            let id: UInt64 = try q.path("id")
            return .json(try item(id, try Self.itemKey(q.path("key")), reader: privateData.reader(q.request)))
        }
        r.delete("collections/{id}/items/{key}") { q in
            let (id, key): (UInt64, Bytes32) = (try q.path("id"), try Self.itemKey(q.path("key")))
            return try await write(q) { _, from in
                let sent = try await calls.write(from: from, PrivateDataCollections.address, PrivateDataCollections.Method.purge.callData([.uint(UInt256(id)), .fixedBytes(key)]))
                return .json(try item(id, key, reader: nil).merging(sent))
            }
        }
    }

    /// An item's key from text: `0x` and 64 hex digits is the key itself; anything else is a
    /// name, hashed with keccak256 of its UTF-8 bytes (`asset/42/metadata`).
    static func itemKey(_ text: String) throws(HTTPProblem) -> Bytes32 {
        if text.hasPrefix("0x") && text.count == 66 {
            do { return try Bytes32(hex: text) } catch { throw .badRequest("key \(text): \(error)") }
        }
        guard !text.isEmpty else { throw .badRequest("an item's key is a name (hashed with keccak256) or 0x and 64 hex digits") }
        return Keccak256.hash(Array(text.utf8))
    }

    private func collection(_ id: UInt64) throws -> JSON {
        let c = try privateData.collections.collection(id)
        return ["id": .int(id), "name": .string(c.name), "owner": .int(c.owner), "members": .array(c.members.map { JSON.int($0) }),
                "retentionSeconds": .int(c.retentionSeconds), "requiredPeers": .int(c.requiredPeers), "createdAtBlock": .int(c.createdAtBlock)]
    }

    /// `POST /collections {organization, name, members, retentionSeconds, requiredPeers}`.
    private func createCollection(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        guard let members = body["members"]?.arrayValue else { throw HTTPProblem.badRequest("\"members\" must be a list of organisation ids") }
        let ids = try members.map { m throws(HTTPProblem) -> UInt64 in
            guard let id = m.numberValue?.uint64 ?? m.stringValue.flatMap({ UInt64($0) }) else { throw .badRequest("member \(m) is not an organisation id") }
            return id
        }
        let retention = body["retentionSeconds"] == nil ? 0 : try body.uint64("retentionSeconds")
        let peers = body["requiredPeers"] == nil ? 0 : try body.uint64("requiredPeers")
        let sent = try await calls.write(from: from, PrivateDataCollections.address, PrivateDataCollections.Method.create.callData([
            .uint(UInt256(try body.uint64("organization"))), .string(try body.string("name")), .array(ids.map { .uint(UInt256($0)) }),
            .uint(UInt256(retention)), .uint(UInt256(peers))]))
        var d = ABIDecoder(sent.output[...])
        let id = try d.nextUInt64()
        return .json(try collection(id).merging(sent), status: 201, headers: [("location", "\(Self.prefix)/collections/\(id)")])
    }

    /// `POST /collections/{id}/items {value, key?}`: `value` any JSON, kept as its compact
    /// serialization; `key` a name or 32 bytes (a fresh random key when absent).
    private func putItem(_ collection: UInt64, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        guard let value = body["value"] else { throw HTTPProblem.badRequest("\"value\" is required: the private data, any JSON") }
        let key = try body["key"]?.stringValue.map { text throws(HTTPProblem) in try Self.itemKey(text) }
        let item = PrivateDataItem.new(collection: collection, key: key, value: value.serialized())
        if let key, try privateData.collections.item(collection, key) != nil {
            throw HTTPProblem(status: 409, title: "Key taken", detail: "item \(key) is recorded in collection \(collection) already (keys are never reused): nothing was shared")
        }
        let sent = try await privateData.share([item], collection: collection, from: from)
        return .json(try self.item(collection, item.key, reader: from).merging(sent), status: 201,
                     headers: [("location", "\(Self.prefix)/collections/\(collection)/items/\(item.key)")])
    }

    /// The item's record, with its value and salt when `reader` may see them here.
    private func item(_ collection: UInt64, _ key: Bytes32, reader: Address?) throws -> JSON {
        _ = try privateData.collections.collection(collection)
        guard let record = try privateData.collections.item(collection, key) else { throw HTTPProblem.notFound("no item \(key) in collection \(collection)") }
        var out: JSONObject = ["collection": .int(collection), "key": .hash(key), "hash": .hash(record.hash), "recordedAtBlock": .int(record.blockNumber),
                               "recordedAt": .int(record.recordedAt), "recorder": .account(record.recorder),
                               "purgedAt": record.purgedAt == 0 ? .null : .int(record.purgedAt), "expiresAt": record.expiresAt == 0 ? .null : .int(record.expiresAt)]
        switch privateData.disclosed(collection, key, to: reader) {
        case .success(let item):
            out["disclosed"] = .bool(true)
            out["value"] = (try? JSON.parse(item.value)) ?? .data(item.value)
            out["salt"] = .hash(item.salt)
        case .failure(let refusal):
            out["disclosed"] = .bool(false)
            out["reason"] = .string(refusal.description)
        }
        return .object(out)
    }
}
