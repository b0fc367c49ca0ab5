import KramaaChain
import KramaaEVM
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/files/{cid}`, `/storage-nodes/{node}`, `/organizations/{id}/file-quota`: the file
/// registry's pins, storage nodes and quotas (docs/FILES.md, "The file registry"). CIDs are
/// read in base32, base58btc or hex and written as base32 CIDv1.
extension PlatformEndpoints {
    func fileRoutes(_ r: inout HTTPRouter) {
        r.get("files/{cid}") { q in .json(try pin(try cid(q.path("cid")))) }
        r.post("files") { q in try await write(q) { body, from in try await pinFile(body, from: from) } }
        r.delete("files/{cid}") { q in
            let cid = try cid(q.path("cid"))
            return try await write(q) { _, from in try await fileWrite(cid, FileRegistry.Method.unpin, from: from, ["unpinned": true]) }
        }
        r.post("files/{cid}/repair") { q in
            let cid = try cid(q.path("cid"))
            return try await write(q) { _, from in try await fileWrite(cid, FileRegistry.Method.repair, from: from) }
        }
        r.get("files/{cid}/readers/{account}") { q in
            let (cid, account): (CIDBytes, Address) = (try cid(q.path("cid")), try q.path("account"))
            let may = try FileRegistryClient(calls.reader).mayRead(cid.canonical, account: account)
            return .json(["cid": .string(cid.text), "account": .account(account), "mayRead": .bool(may)])
        }
        r.get("files/{cid}/keys/{keyHash}") { q in
            let (cid, keyHash): (CIDBytes, Bytes32) = (try cid(q.path("cid")), try q.path("keyHash"))
            guard let wrapped = try FileRegistryClient(calls.reader).readerKey(cid.canonical, recipientKeyHash: keyHash) else {
                throw HTTPProblem.notFound("no file key of \(cid.text) wrapped for key \(keyHash)")
            }
            return .json(["cid": .string(cid.text), "keyHash": .hash(keyHash), "wrappedKey": .data(wrapped)])
        }
        r.put("files/{cid}/keys/{keyHash}") { q in
            let (cid, keyHash): (CIDBytes, Bytes32) = (try cid(q.path("cid")), try q.path("keyHash"))
            return try await write(q) { body, from in
                let wrapped = try body.bytes("wrappedKey")
                let sent = try await calls.write(from: from, FileRegistry.address,
                                                 FileRegistry.Method.setReaderKey.callData([.bytes(cid.canonical), .fixedBytes(keyHash), .bytes(wrapped)]))
                return .json(JSON.object(["cid": .string(cid.text), "keyHash": .hash(keyHash), "wrappedKey": .data(wrapped)]).merging(sent))
            }
        }
        r.get("storage-nodes/{node}") { q in .json(try storageNode(try q.path("node"))) }
        r.post("storage-nodes") { q in try await write(q) { body, from in try await registerStorageNode(body, from: from) } }
        r.post("storage-nodes/{node}/heartbeat") { q in
            let node: Address = try q.path("node")
            return try await write(q) { body, from in
                guard from == node else { throw HTTPProblem.badRequest("a heartbeat is sent by the node itself: from must be \(node)") }
                let sent = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.heartbeat.callData([.uint(UInt256(try body.uint64("freeBytes")))]))
                return .json(try storageNode(node).merging(sent))
            }
        }
        r.delete("storage-nodes/{node}") { q in
            let node: Address = try q.path("node")
            return try await write(q) { _, from in
                let sent = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.deregisterNode.callData([.address(node)]))
                return .json(JSON.object(["node": .account(node), "deregistered": .bool(true)]).merging(sent))
            }
        }
        r.get("assets/{token}/files") { q in .json(try assetFiles(try tokenId(q.path("token")))) }
        r.get("organizations/{id}/file-quota") { q in
            let org: UInt64 = try q.path("id")
            let quota = try FileRegistryClient(calls.reader).quota(of: org)
            return .json(["organization": .int(org), "used": .int(quota.used), "limit": .int(quota.limit)])
        }
    }

    private func cid(_ text: String) throws -> CIDBytes {
        do { return try CIDBytes(text: text) } catch { throw HTTPProblem.badRequest("\(error)") }
    }

    private func pin(_ cid: CIDBytes) throws -> JSON {
        let pin = try FileRegistryClient(calls.reader).pin(cid.canonical)
        let owner: JSONObject = switch pin.owner {
        case .organization(let org): ["organization": .int(org)]
        case .asset(let token): ["asset": .string(Hex.encode(token.bigEndianBytes))]
        }
        let readers: JSONObject = switch pin.readers {
        case .anyone: ["policy": .string("public")]
        case .members(let org, let roles): ["policy": .string("members"), "organization": .int(org), "roles": .array(roles.names.map(JSON.string))]
        case .assetHolder(let token): ["policy": .string("assetHolder"), "asset": .string(Hex.encode(token.bigEndianBytes))]
        }
        let holders = pin.holders.map { JSON.object(["node": .account($0.node), "held": .bool($0.held), "live": .bool($0.live)]) }
        return ["cid": .string(cid.text), "owner": .object(owner), "size": .int(pin.size), "minReplicas": .int(pin.minReplicas),
                "maxReplicas": .int(pin.maxReplicas), "readers": .object(readers), "pinnedAtBlock": .int(pin.pinnedAtBlock), "holders": .array(holders)]
    }

    /// `POST /files {cid, size, owner: {organization} | {asset}, minReplicas, maxReplicas, readers?}`.
    private func pinFile(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let cid = try cid(try body.string("cid"))
        guard let ownerObject = body["owner"]?.objectValue else { throw HTTPProblem.badRequest("\"owner\" must be {\"organization\": id} or {\"asset\": token}") }
        let owner: FileOwner = ownerObject["asset"] != nil ? .asset(try tokenId(try ownerObject.string("asset")))
            : .organization(try ownerObject.uint64("organization"))
        let request = FilePinRequest(size: try body.uint64("size"), owner: owner, minReplicas: try body.uint64("minReplicas"),
                                     maxReplicas: try body.uint64("maxReplicas"), readers: try readers(body["readers"]?.objectValue))
        let sent = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.pin.callData(request.arguments(cid.canonical)))
        return .json(try pin(cid).merging(sent), status: 201, headers: [("location", "\(Self.prefix)/files/\(cid.text)")])
    }

    private func readers(_ object: JSONObject?) throws -> FileReaders {
        guard let object else { return .anyone }
        switch object["policy"]?.stringValue {
        case "public": return .anyone
        case "members":
            var roles = OrganizationRoles()
            for name in object["roles"]?.arrayValue ?? [] {
                guard let role = OrganizationRoles.named.first(where: { $0.0 == name.stringValue })?.1 else {
                    throw HTTPProblem.badRequest("unknown role \(name); roles are \(OrganizationRoles.named.map(\.0).joined(separator: ", "))")
                }
                roles.insert(role)
            }
            return .members(of: try object.uint64("organization"), roles: roles)
        case "assetHolder": return .assetHolder(try tokenId(try object.string("asset")))
        default: throw HTTPProblem.badRequest("\"readers.policy\" must be public, members or assetHolder")
        }
    }

    /// A write on a pinned file; answers the pin as it is afterwards (or `gone` when it is no more).
    private func fileWrite(_ cid: CIDBytes, _ method: SystemMethod, from: Address, _ gone: JSONObject? = nil) async throws -> HTTPResponse {
        let sent = try await calls.write(from: from, FileRegistry.address, method.callData([.bytes(cid.canonical)]))
        guard var gone else { return .json(try pin(cid).merging(sent)) }
        gone["cid"] = .string(cid.text)
        return .json(JSON.object(gone).merging(sent))
    }

    /// The files an asset owns (pinned with the asset as owner and still pinned), oldest first,
    /// each with the transaction that pinned it: the CID is what the chain recorded, so the
    /// document is provably the one attached.
    private func assetFiles(_ token: UInt256) throws -> JSON {
        let filter = LogFilter(fromBlock: 0, toBlock: calls.chain.latest.number, addresses: [FileRegistry.address],
                               topics: [[FileRegistry.Event.pinned], nil, [Bytes32(UInt256(FileRegistry.OwnerKind.asset.rawValue))], [Bytes32(token)]])
        let logs: [LocatedLog]
        do { logs = try calls.chain.logs(filter, limit: 10_000) } catch { throw HTTPProblem(status: 503, title: "Logs unavailable", detail: "\(error)") }
        var files: [JSON] = []
        for located in logs {
            guard let bytes = FileRegistry.cid(in: located.log), let cid = try? CIDBytes(bytes),
                  var pin = try? pin(cid).objectValue, pin["pinnedAtBlock"] == .int(located.blockNumber) else { continue }  // unpinned or pinned again since
            pin["pinnedIn"] = .object(["blockNumber": .int(located.blockNumber), "transactionHash": .hash(located.transactionHash)])
            files.append(.object(pin))
        }
        return .array(files)
    }

    /// The files an EPCIS event names by `ipfs://CID` URI (a `certificationInfo`, a sensor
    /// report's `uriValue`, a document in an extension), as base32 CIDs; the event's hash on chain
    /// covers them.
    static func filesNamed(in event: JSON) -> [JSON] {
        CIDBytes.named(in: event).map(JSON.string)
    }

    private func storageNode(_ node: Address) throws -> JSON {
        let record = try FileRegistryClient(calls.reader).storageNode(node)
        return ["node": .account(node), "organization": .int(record.organization), "capacity": .int(record.capacity),
                "freeBytes": .int(record.freeBytes), "allocatedBytes": .int(record.allocatedBytes),
                "lastHeartbeat": record.lastHeartbeat.map { .int($0) } ?? .null, "live": .bool(record.live)]
    }

    /// `POST /storage-nodes {organization, node, capacity}` (admins of the organisation; again: a new capacity).
    private func registerStorageNode(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let node = try body.address("node")
        let sent = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.registerNode.callData([
            .uint(UInt256(try body.uint64("organization"))), .address(node), .uint(UInt256(try body.uint64("capacity")))]))
        return .json(try storageNode(node).merging(sent), status: 201, headers: [("location", "\(Self.prefix)/storage-nodes/\(node)")])
    }
}
