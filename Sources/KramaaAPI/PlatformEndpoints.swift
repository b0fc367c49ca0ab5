import KramaaJSON
import KramaaAuth
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaEVM
import KramaaGS1
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC
import KramaaChain

/// The platform's REST API under `/api/v1` (described by docs/openapi.yaml): organisations,
/// devices and assets over the system contracts. Reads answer from the head state; writes are
/// transactions from an account the node holds (`from`), answered once included, or refused
/// with the contract's reason (422) before anything is sent.
public struct PlatformEndpoints: HTTPEndpoint {
    public static let prefix = "/api/v1"
    let calls: PlatformCalls
    let index: EPCISIndex?
    let privateData: PrivateDataAccess
    /// The chain's anchors on parent chains, for asset histories (nil: none watched).
    let anchors: (any AnchorDirectory)?
    private var router = HTTPRouter(prefix: Self.prefix)

    /// - Parameter privateData: the node's holder of private data (nil: a node without a node
    ///   key, which holds none; its collection records are still served).
    public init(api: EthAPI, index: EPCISIndex? = nil, privateData: (any PrivateDataHolder)? = nil, anchors: (any AnchorDirectory)? = nil) {
        calls = PlatformCalls(api: api)
        self.index = index
        self.anchors = anchors
        self.privateData = PrivateDataAccess(calls: calls, holder: privateData)
        router = routes()
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await router.respond(to: request)
    }

    /// The route table (docs/openapi.yaml).
    private func routes() -> HTTPRouter {
        var r = HTTPRouter(prefix: Self.prefix)
        r.get("organizations/{id}") { q in .json(try organization(try q.path("id"))) }
        r.get("organizations/{id}/members/{account}") { q in .json(try member(try q.path("id"), try q.path("account"))) }
        r.get("devices/{device}") { q in .json(try device(try q.path("device"))) }
        r.get("keys/{key}") { q in .json(try key(try q.path("key"), atBlock: try q.query("atBlock"))) }
        r.get("assets/{token}") { q in .json(try asset(try tokenId(q.path("token")))) }
        r.get("assets/{token}/history") { q in .json(try history(try tokenId(q.path("token")), reader: privateData.reader(q.request))) }
        r.post("organizations") { q in try await write(q) { body, from in try await createOrganization(body, from: from) } }
        r.put("organizations/{id}/members/{account}") { q in
            let (org, account): (UInt64, Address) = (try q.path("id"), try q.path("account"))
            return try await write(q) { body, from in try await setRoles(org, account, body, from: from) }
        }
        r.get("organizations/{id}/messaging/{peer}") { q in .json(try topicAccess(try q.path("id"), try q.path("peer"))) }
        r.put("organizations/{id}/messaging/{peer}") { q in
            let (org, peer): (UInt64, UInt64) = (try q.path("id"), try q.path("peer"))
            return try await write(q) { body, from in try await setTopicAccess(org, peer, body, from: from) }
        }
        r.post("devices") { q in try await write(q) { body, from in try await registerDevice(body, from: from) } }
        r.post("devices/{device}/status") { q in
            let device: Address = try q.path("device")
            return try await write(q) { body, from in try await deviceStatus(device, body, from: from) }
        }
        r.post("devices/{device}/key") { q in
            let device: Address = try q.path("device")
            return try await write(q) { body, from in try await rotateKey(device, body, from: from) }
        }
        r.get("devices/{device}/agreement-key") { q in .json(try agreementKey(try q.path("device"))) }
        r.post("devices/{device}/agreement-key") { q in
            let device: Address = try q.path("device")
            return try await write(q) { body, from in try await setAgreementKey(device, body, from: from) }
        }
        r.post("devices/{device}/agreement-key/revoke") { q in
            let device: Address = try q.path("device")
            return try await write(q) { _, from in try await revokeAgreementKey(device, from: from) }
        }
        r.get("devices/{device}/readings/{kind}") { q in .json(try latestReading(try q.path("device"), try Self.readingKind(q.path("kind")))) }
        r.post("devices/{device}/readings") { q in
            let device: Address = try q.path("device")
            return try await write(q) { body, from in try await submitReading(device, body, from: from) }
        }
        fileRoutes(&r)
        devicePolicyRoutes(&r)
        collectionRoutes(&r)
        r.post("assets") { q in try await write(q) { body, from in try await mint(body, from: from) } }
        r.post("assets/{token}/{action}") { q in
            let token = try tokenId(q.path("token"))
            return try await write(q) { body, from in try await assetAction(token, q.path("action"), body, from: from) }
        }
        return r
    }

    /// A write: the caller is authorised for `platform` before the body is read; the body's
    /// optional `from` then names the account the write acts as.
    func write(_ q: RouteRequest, _ body: (JSONObject, Address) async throws -> HTTPResponse) async throws -> HTTPResponse {
        let caller = try calls.caller(q.request, for: .platform)
        let object = try q.request.jsonBody()
        return try await body(object, try caller.actingAccount(object.optionalAddress("from")))
    }

    // MARK: Organisations

    private func organization(_ id: UInt64) throws -> JSON {
        let org = try OrganizationClient(calls.reader).organization(id)
        return ["id": .int(id), "name": .string(org.name), "founder": .account(org.founder),
                "createdAtBlock": .int(org.createdAtBlock), "admins": .int(org.admins)]
    }

    private func member(_ org: UInt64, _ account: Address) throws -> JSON {
        _ = try organization(org)
        let roles = try OrganizationClient(calls.reader).roles(of: account, in: org)
        return ["organization": .int(org), "account": .account(account), "roles": .array(roles.names.map(JSON.string))]
    }

    private func createOrganization(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let sent = try await calls.write(from: from, OrganizationRegistry.address,
                                         OrganizationRegistry.Method.register.callData([.string(try body.string("name"))]))
        var d = ABIDecoder(sent.output[...])
        let id = try d.nextUInt64()
        return .json(try organization(id).merging(sent), status: 201, headers: [("location", "\(Self.prefix)/organizations/\(id)")])
    }

    private func setRoles(_ org: UInt64, _ account: Address, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        guard let names = body["roles"]?.arrayValue else { throw HTTPProblem.badRequest("\"roles\" must be a list of role names") }
        var roles = OrganizationRoles()
        for name in names {
            guard let text = name.stringValue, let role = OrganizationRoles.named.first(where: { $0.0 == text })?.1 else {
                throw HTTPProblem.badRequest("unknown role \(name); roles are \(OrganizationRoles.named.map(\.0).joined(separator: ", "))")
            }
            roles.insert(role)
        }
        let sent = try await calls.write(from: from, OrganizationRegistry.address, OrganizationRegistry.Method.setRoles.callData(
                                                                                           [.uint(UInt256(org)), .address(account), .uint(UInt256(roles.rawValue))]))
        return .json(try member(org, account).merging(sent))
    }

    // MARK: Devices

    private func device(_ address: Address) throws -> JSON {
        let device = try DeviceClient(calls.reader).device(address)
        var out: JSONObject = ["device": .account(address), "organization": .int(device.organization),
                               "status": .string(device.status.map { "\($0)" } ?? "unknown"),
                               "currentKey": .account(device.currentKey), "model": .string(device.model), "firmwareHash": .hash(device.firmwareHash),
                               "registeredAtBlock": .int(device.registeredAtBlock)]
        if case .object(let k) = try key(device.currentKey, atBlock: nil) {
            out["keyType"] = k["keyType"]
            out["publicKey"] = k["publicKey"]
            out["did"] = k["did"]
        }
        return .object(out)
    }

    private func key(_ address: Address, atBlock: UInt64?) throws -> JSON {
        let record = try DeviceClient(calls.reader).key(address)
        var out: JSONObject = ["key": .account(address), "device": .account(record.device), "publicKey": .data(record.publicKey),
                               "validFromBlock": .int(record.validFromBlock), "validUntilBlock": record.validUntilBlock.map(JSON.int) ?? .null]
        if let key = record.parsed {
            out["keyType"] = .string(key.type.rawValue)
            out["did"] = .string(key.didKey.string)
        }
        if let block = atBlock {
            let valid = try DeviceClient(calls.reader).keyValid(address, atBlock: block)
            out["validAtBlock"] = ["block": .int(block), "valid": .bool(valid)]
        }
        return .object(out)
    }

    private func registerDevice(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let typeName = try body.string("keyType")
        let type: KeyType
        do { type = try KeyType(parsing: typeName) } catch { throw HTTPProblem.badRequest("\"keyType\": \(error)") }
        let sent = try await calls.write(from: from, DeviceRegistry.address, DeviceRegistry.Method.register.callData([
            .uint(UInt256(try body.uint64("organization"))), .uint(UInt256(UInt64(type.code))), .bytes(try body.bytes("publicKey")),
            .string(body["model"]?.stringValue ?? ""), .fixedBytes(try body.bytes32("firmwareHash", default: .zero)),
        ]))
        var d = ABIDecoder(sent.output[...])
        let address = try d.nextAddress()
        return .json(try device(address).merging(sent), status: 201, headers: [("location", "\(Self.prefix)/devices/\(address)")])
    }

    private func deviceStatus(_ address: Address, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let name = try body.string("status")
        guard let status = [("active", DeviceStatus.active), ("suspended", .suspended), ("revoked", .revoked)].first(where: { $0.0 == name })?.1 else {
            throw HTTPProblem.badRequest("\"status\" must be active, suspended or revoked")
        }
        let sent = try await calls.write(from: from, DeviceRegistry.address,
                                         DeviceRegistry.Method.setStatus.callData([.address(address), .uint(UInt256(status.rawValue))]))
        return .json(try device(address).merging(sent))
    }

    private func rotateKey(_ address: Address, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let type: KeyType
        do { type = try KeyType(parsing: try body.string("keyType")) } catch let e as HTTPProblem { throw e } catch {
            throw HTTPProblem.badRequest("\"keyType\": \(error)")
        }
        let sent = try await calls.write(from: from, DeviceRegistry.address, DeviceRegistry.Method.rotate.callData([
            .address(address), .uint(UInt256(UInt64(type.code))), .bytes(try body.bytes("publicKey")), .bytes(try body.bytes("proof")),
        ]))
        return .json(try device(address).merging(sent))
    }

    // MARK: Assets

    /// A token id from a decimal or 0x-hex number, an EPC URI or a GS1 Digital Link.
    func tokenId(_ text: String) throws -> UInt256 { try Self.tokenId(text) }

    static func tokenId(_ text: String) throws -> UInt256 {
        if text.hasPrefix("0x"), let id = try? UInt256(hex: text) { return id }
        if let id = try? UInt256(decimal: text) { return id }
        do {
            if text.hasPrefix("http://") || text.hasPrefix("https://") { return try AssetRegistry.tokenId(digitalLink: text) }
            return try AssetRegistry.tokenId(epc: text).0
        } catch {
            throw HTTPProblem.badRequest("\(text): \(error)")
        }
    }

    private func asset(_ token: UInt256) throws -> JSON {
        let assets = AssetClient(calls.reader)
        let (asset, uri) = (try assets.asset(token), try assets.tokenURI(token))
        var out: JSONObject = ["tokenId": .string(Hex.encode(token.bigEndianBytes)), "epc": .string(asset.epc), "organization": .int(asset.organization),
                               "owner": .account(asset.owner), "custodian": .account(asset.custodian), "metadataHash": .hash(asset.metadataHash),
                               "status": .string(asset.status.map { "\($0)" } ?? "unknown"),
                               "mintedAtBlock": .int(asset.mintedAtBlock), "tokenURI": .string(uri)]
        if let dl = try? EPCURI.parse(asset.epc).digitalLinkURI(stem: "https://id.gs1.org") { out["digitalLink"] = .string(dl) }
        let (devices, tags) = try bindings(token, minted: asset.mintedAtBlock)
        out["devices"] = .array(devices.map { .account($0) })
        out["tags"] = .array(tags.map { .string(Hex.encode($0, prefix: false).uppercased()) })
        return .object(out)
    }

    /// The devices and tag UIDs bound to the asset, in binding order, from its `DeviceBound`
    /// and `TagBound` events since it was minted. No address in the filter: the log index then
    /// narrows by the events' topic, to the blocks that bound something, rather than to every
    /// block the asset registry logged in; the address is checked per log instead.
    private func bindings(_ token: UInt256, minted: UInt64) throws -> (devices: [Address], tags: [[UInt8]]) {
        let filter = LogFilter(fromBlock: minted, toBlock: calls.node.latest.number,
                               topics: [[AssetRegistry.Event.deviceBound, AssetRegistry.Event.tagBound], [Bytes32(token)]])
        var devices: [Address] = [], tags: [[UInt8]] = []
        for located in try calls.chain.logs(filter, limit: 10_000) where located.log.address == AssetRegistry.address {
            let log = located.log
            if log.topics[0] == AssetRegistry.Event.deviceBound, log.topics.count > 2 {
                let device = try! Address(log.topics[2].bytes.suffix(20))
                if !devices.contains(device) { devices.append(device) }
            } else if log.topics[0] == AssetRegistry.Event.tagBound, log.data.count >= 7 {
                let uid = Array(log.data.prefix(7))
                if !tags.contains(uid) { tags.append(uid) }
            }
        }
        return (devices, tags)
    }

    private func mint(_ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let epc: String
        if let link = body["digitalLink"]?.stringValue {
            guard let length = body["companyPrefixLength"]?.numberValue?.int else {
                throw HTTPProblem.badRequest("\"companyPrefixLength\" is required with \"digitalLink\" (to write the EPC URI)")
            }
            do { epc = try EPCURI(digitalLink: DigitalLink.parse(link), companyPrefixLength: length).urn } catch {
                throw HTTPProblem.badRequest("\"digitalLink\": \(error)")
            }
        } else {
            epc = try body.string("epc")
        }
        let owner = body["owner"] == nil ? from : try body.address("owner")
        let sent = try await calls.write(from: from, AssetRegistry.address, AssetRegistry.Method.mint.callData([
            .uint(UInt256(try body.uint64("organization"))), .string(epc), .address(owner),
            .fixedBytes(try body.bytes32("metadataHash", default: .zero)), .string(body["tokenURI"]?.stringValue ?? ""),
        ]))
        var d = ABIDecoder(sent.output[...])
        let token = try d.nextUInt()
        return .json(try asset(token).merging(sent), status: 201,
                     headers: [("location", "\(Self.prefix)/assets/\(Hex.encode(token.bigEndianBytes))")])
    }

    /// The EPCIS events of an asset (and of what it was aggregated in), oldest first, each with
    /// what proves it: the block and transaction, the event's CBV hash, and the storage slot of
    /// its record in the provenance contract (`eth_getProof` against the block's state root;
    /// `kramaa_getCommitCertificate` shows the block final).
    /// Private fields are put back where `reader` may see them (docs/PRIVATE-DATA.md).
    private func history(_ token: UInt256, reader: Address?) throws -> JSON {
        _ = try asset(token)
        guard let index else { throw HTTPProblem(status: 503, title: "No EPCIS index", detail: "this node does not index EPCIS events") }
        return .array((try index.history(of: token)).map { entry in
            let slot = ProvenanceRegistry.recordSlot(entry.hash)
            return [
                "event": privateData.disclose([entry.event.json], to: reader)[0], "eventHash": .string(EPCISEventHash.hashID(digest: entry.hash)),
                "files": .array(Self.filesNamed(in: entry.event.json)),
                "organization": .int(entry.organization), "recorder": .account(entry.recorder),
                "device": entry.device == .zero ? .null : .account(entry.device),
                "proof": ["blockNumber": .int(entry.blockNumber), "blockHash": .hash(entry.blockHash),
                          "transactionHash": .hash(entry.transactionHash), "transactionIndex": .int(entry.transactionIndex),
                          "contract": .account(ProvenanceRegistry.address), "recordSlot": .hash(Bytes32(slot)),
                          "eventHashHex": .hash(entry.hash)],
                "anchors": .array((anchors?.anchors(of: entry.blockNumber) ?? []).map(\.json)),
            ]
        })
    }

    /// `POST /assets/{id}/transfer|custody|status|devices|tags`.
    private func assetAction(_ token: UInt256, _ action: String, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        let data: [UInt8]
        switch action {
        case "transfer":
            let owner = try AssetClient(calls.reader).owner(of: token)
            data = AssetRegistry.Method.transferFrom.callData([.address(owner), .address(try body.address("to")), .uint(token)])
        case "custody": data = AssetRegistry.Method.transferCustody.callData([.uint(token), .address(try body.address("to"))])
        case "status":
            let name = try body.string("status")
            guard let status = [("recalled", AssetStatus.recalled), ("destroyed", .destroyed), ("consumed", .consumed)].first(where: { $0.0 == name })?.1 else {
                throw HTTPProblem.badRequest("\"status\" must be recalled, destroyed or consumed")
            }
            data = AssetRegistry.Method.setStatus.callData([.uint(token), .uint(UInt256(status.rawValue))])
        case "devices": data = AssetRegistry.Method.bindDevice.callData([.uint(token), .address(try body.address("device"))])
        case "tags":
            let uid = try body.bytes("uid")
            guard uid.count == 7 else { throw HTTPProblem.badRequest("\"uid\" must be the tag's 7-byte UID in hex") }
            data = AssetRegistry.Method.bindTag.callData([.uint(token), .fixedBytes(AssetRegistry.tagWord(uid))])
        default:
            throw HTTPProblem.notFound("no asset action \(action)")
        }
        let sent = try await calls.write(from: from, AssetRegistry.address, data)
        return .json(try asset(token).merging(sent))
    }
}

extension JSON {
    /// This object with the transaction that changed it.
    func merging(_ sent: (hash: Bytes32, block: UInt64, output: [UInt8])) -> JSON {
        guard case .object(var o) = self else { return self }
        o["transactionHash"] = .hash(sent.hash)
        o["blockNumber"] = .int(sent.block)
        return .object(o)
    }
}
