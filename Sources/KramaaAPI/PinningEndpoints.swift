import Foundation
import KramaaAuth
import KramaaEVM
import KramaaJSON
import KramaaNode
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// The IPFS Pinning Service API (ipfs/pinning-services-api-spec) under `/pins`, over the file
/// registry, so `ipfs pin remote` style clients manage the consortium's pins: a pin request is
/// a `pinFile` transaction from the caller's account (its bearer token's, or `meta["kramaa.from"]`
/// for an operator token), owned by `meta["kramaa.organization"]` or `meta["kramaa.asset"]` (else
/// the node's default organisation), with `meta["kramaa.minReplicas"]`/`["kramaa.maxReplicas"]`
/// (default 1 and 3). The DAG's size comes from this node's store, which must hold it whole
/// (add it here first, or it is fetched from the other nodes). Status: `pinning` until the
/// minimum of holders report it held, then `pinned`; `failed` once the pin is gone from the
/// chain. Requests (ids, names, meta, creation times) are kept in `pin-requests.json` in the
/// data directory. Errors answer the spec's `{"error": {"reason", "details"}}`.
public struct PinningEndpoints: HTTPEndpoint {
    public static let path = "/pins"
    /// The spec's limits on a pin object, and the requests a node keeps.
    static let maximumNameLength = 255, maximumMetaEntries = 1_000, maximumOrigins = 20, maximumRequests = 100_000

    /// How the endpoint learns a DAG's total size: from the store, fetching it first if needed;
    /// throws when it cannot (the reason is the client's answer).
    public typealias DAGSize = @Sendable (_ cid: [UInt8]) async throws -> UInt64

    let calls: PlatformCalls
    let requests: PinRequestLog
    let dagSize: DAGSize
    let defaultOrganization: UInt64?
    /// Where the nodes can be reached (the spec's `delegates`, at least one).
    let delegates: [String]
    private var router = HTTPRouter(prefix: Self.path)

    public init(api: EthAPI, dagSize: @escaping DAGSize, defaultOrganization: UInt64?, delegates: [String]) throws {
        calls = PlatformCalls(api: api)
        requests = try PinRequestLog(path: api.node.dataDirectory.appendingPathComponent("pin-requests.json").path)
        self.dagSize = dagSize
        self.defaultOrganization = defaultOrganization
        self.delegates = delegates.isEmpty ? ["/ip4/127.0.0.1/tcp/0/http"] : delegates
        router = routes()
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse { await router.respond(to: request) }

    private func routes() -> HTTPRouter {
        var r = HTTPRouter(prefix: Self.path)
        r.get("") { q in await answer { try list(q) } }
        r.post("") { q in await answer { try await add(q, replacing: nil) } }
        r.get("{requestid}") { q in await answer { .json(try status(try record(q.path("requestid")))) } }
        r.post("{requestid}") { q in await answer { try await add(q, replacing: try record(q.path("requestid"))) } }
        r.delete("{requestid}") { q in
            await answer {
                let found = try record(q.path("requestid"))
                let from = try account(q, meta: found.meta)
                if (try? FileRegistryClient(calls.reader).pin(found.cid)) != nil {
                    _ = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.unpin.callData([.bytes(found.cid)]))
                }
                try requests.remove(found.requestid)
                return HTTPResponse(status: 202)
            }
        }
        return r
    }

    // MARK: Requests

    private func add(_ q: RouteRequest, replacing old: PinRequest?) async throws -> HTTPResponse {
        let body = try q.request.jsonBody()
        let cid = try Self.cid(try body.string("cid"))
        var meta: [String: String] = [:]
        let name = body["name"]?.stringValue, origins = body["origins"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard (name?.count ?? 0) <= Self.maximumNameLength else { throw HTTPProblem.badRequest("name is longer than \(Self.maximumNameLength) characters") }
        guard origins.count <= Self.maximumOrigins else { throw HTTPProblem.badRequest("more than \(Self.maximumOrigins) origins") }
        guard (body["meta"]?.objectValue?.count ?? 0) <= Self.maximumMetaEntries else {
            throw HTTPProblem.badRequest("more than \(Self.maximumMetaEntries) meta entries")
        }
        guard old != nil || requests.count < Self.maximumRequests else {
            throw HTTPProblem.badRequest("this node keeps \(Self.maximumRequests) pin requests already: delete some first")
        }
        if let given = body["meta"]?.objectValue {
            for (k, v) in given {
                guard let text = v.stringValue else { throw HTTPProblem.badRequest("meta values are strings (\(k))") }
                meta[k] = text
            }
        }
        let from = try account(q, meta: meta)
        let owner: FileOwner
        if let asset = meta["kramaa.asset"] {
            owner = .asset(try PlatformEndpoints.tokenId(asset))
        } else if let text = meta["kramaa.organization"] {
            guard let org = UInt64(text) else { throw HTTPProblem.badRequest("meta kramaa.organization must be a number") }
            owner = .organization(org)
        } else if let defaultOrganization {
            owner = .organization(defaultOrganization)
        } else {
            throw HTTPProblem.badRequest("name the file's owner: meta kramaa.organization or kramaa.asset (this node has no default organisation)")
        }
        let minimum = try Self.count(meta["kramaa.minReplicas"], default: 1, "kramaa.minReplicas")
        let maximum = try Self.count(meta["kramaa.maxReplicas"], default: max(3, minimum), "kramaa.maxReplicas")
        let size = try await dagSize(cid.canonical)
        if let old, old.cid != cid.canonical, (try? FileRegistryClient(calls.reader).pin(old.cid)) != nil {
            _ = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.unpin.callData([.bytes(old.cid)]))
        }
        let request = FilePinRequest(size: size, owner: owner, minReplicas: minimum, maxReplicas: maximum)
        if (try? FileRegistryClient(calls.reader).pin(cid.canonical)) == nil {
            _ = try await calls.write(from: from, FileRegistry.address, FileRegistry.Method.pin.callData(request.arguments(cid.canonical)))
        }
        let record = PinRequest(requestid: old?.requestid ?? UUID().uuidString.lowercased(), cid: cid.canonical, name: name,
                                origins: origins, meta: meta, created: old?.created ?? Date())
        try requests.put(record)
        return .json(try status(record), status: 202)
    }

    private func list(_ q: RouteRequest) throws -> HTTPResponse {
        let cids = try q.request.queryValue("cid").map { try $0.split(separator: ",").map { try Self.cid(String($0)).canonical } }
        let statuses = Set((q.request.queryValue("status") ?? "pinned").split(separator: ",").map(String.init))
        for s in statuses where !["queued", "pinning", "pinned", "failed"].contains(s) { throw HTTPProblem.badRequest("unknown status \(s)") }
        let limit = try q.query("limit", as: UInt64.self) ?? 10
        guard (1...1000).contains(limit) else { throw HTTPProblem.badRequest("limit must be 1 to 1000") }
        let name = q.request.queryValue("name"), match = q.request.queryValue("match") ?? "exact"
        let before = try q.request.queryValue("before").map(Self.date), after = try q.request.queryValue("after").map(Self.date)
        var results: [JSON] = []
        var count = 0
        for record in requests.all.sorted(by: { $0.created > $1.created }) {
            if let cids, !cids.contains(record.cid) { continue }
            if let name, !Self.matches(record.name, name, match) { continue }
            if let before, record.created >= before { continue }
            if let after, record.created <= after { continue }
            let json = try status(record)
            guard let s = json.objectValue?["status"]?.stringValue, statuses.contains(s) else { continue }
            count += 1
            if results.count < limit { results.append(json) }
        }
        return .json(["count": .int(UInt64(count)), "results": .array(results)])
    }

    private func status(_ record: PinRequest) throws -> JSON {
        let cid = try CIDBytes(record.cid)
        var info: JSONObject = [:]
        let state: String
        if let pin = try? FileRegistryClient(calls.reader).pin(record.cid) {
            let held = pin.holders.filter(\.held).count
            state = UInt64(held) >= pin.minReplicas ? "pinned" : "pinning"
            info["holders"] = .string("\(held) of \(pin.holders.count) hold it; \(pin.minReplicas) needed")
        } else {
            state = "failed"
            info["reason"] = .string("not pinned on chain (unpinned, or the pin was refused)")
        }
        var pin: JSONObject = ["cid": .string(cid.text)]
        if let name = record.name { pin["name"] = .string(name) }
        if !record.origins.isEmpty { pin["origins"] = .array(record.origins.map(JSON.string)) }
        if !record.meta.isEmpty { pin["meta"] = .object(JSONObject(record.meta.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })) }
        return ["requestid": .string(record.requestid), "status": .string(state), "created": .string(Self.format(record.created)),
                "pin": .object(pin), "delegates": .array(delegates.map(JSON.string)), "info": .object(info)]
    }

    private func record(_ id: String) throws -> PinRequest {
        guard let found = requests.get(id) else { throw HTTPProblem.notFound("no pin request \(id)") }
        return found
    }

    private func account(_ q: RouteRequest, meta: [String: String]) throws -> Address {
        let caller = try calls.caller(q.request, for: .platform)
        let asked = try meta["kramaa.from"].map { text throws(HTTPProblem) -> Address in
            guard let a = try? Address(hex: text) else { throw .badRequest("meta kramaa.from must be an address") }
            return a
        }
        return try caller.actingAccount(asked)
    }

    // MARK: Helpers

    /// Runs a handler, answering errors in the spec's shape.
    private func answer(_ body: () async throws -> HTTPResponse) async -> HTTPResponse {
        do { return try await body() } catch {
            let problem = (error as? any HTTPProblemConvertible)?.problem ?? .badRequest("\(error)")
            let reason = (problem.title ?? "error").uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
            return .json(["error": ["reason": .string(String(reason)), "details": .string(problem.detail)]], status: problem.status)
        }
    }

    static func cid(_ text: String) throws -> CIDBytes {
        do { return try CIDBytes(text: text) } catch { throw HTTPProblem.badRequest("\(error)") }
    }

    static func count(_ text: String?, default value: UInt64, _ name: String) throws -> UInt64 {
        guard let text else { return value }
        guard let n = UInt64(text), n >= 1 else { throw HTTPProblem.badRequest("meta \(name) must be a positive number") }
        return n
    }

    static func matches(_ name: String?, _ wanted: String, _ how: String) -> Bool {
        guard let name else { return false }
        switch how {
        case "iexact": return name.lowercased() == wanted.lowercased()
        case "partial": return name.contains(wanted)
        case "ipartial": return name.lowercased().contains(wanted.lowercased())
        default: return name == wanted
        }
    }

    static func format(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    static func date(_ text: String) throws -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        guard let d = f.date(from: text) else { throw HTTPProblem.badRequest("\(text) is not an RFC 3339 time") }
        return d
    }
}

/// One pin request made through this node.
struct PinRequest: Sendable, Equatable {
    var requestid: String
    var cid: [UInt8]
    var name: String?
    var origins: [String]
    var meta: [String: String]
    var created: Date
}

/// The pin requests made through this node, in a JSON file rewritten whole (write, fsync,
/// rename) on each change: requests are few and small next to the files they name.
final class PinRequestLog: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var records: [String: PinRequest] = [:]

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard case .array(let items)? = try? JSON.parse(Array(data)) else { throw HTTPProblem.badRequest("\(path) is not a pin request list") }
        for item in items {
            guard let o = item.objectValue, let id = o["requestid"]?.stringValue, let cid = o["cid"]?.stringValue.flatMap({ try? Hex.decode($0) }),
                  let created = o["created"]?.stringValue.flatMap({ try? PinningEndpoints.date($0) }) else { continue }
            var meta: [String: String] = [:]
            for (k, v) in o["meta"]?.objectValue ?? [:] { meta[k] = v.stringValue }
            records[id] = PinRequest(requestid: id, cid: cid, name: o["name"]?.stringValue,
                                     origins: o["origins"]?.arrayValue?.compactMap(\.stringValue) ?? [], meta: meta, created: created)
        }
    }

    var all: [PinRequest] { lock.withLock { Array(records.values) } }
    var count: Int { lock.withLock { records.count } }
    func get(_ id: String) -> PinRequest? { lock.withLock { records[id] } }
    func put(_ record: PinRequest) throws { try change { $0[record.requestid] = record } }
    func remove(_ id: String) throws { try change { $0[id] = nil } }

    private func change(_ body: (inout [String: PinRequest]) -> Void) throws {
        try lock.withLock {
            body(&records)
            let items: [JSON] = records.values.sorted { $0.created < $1.created }.map { r in
                var o: JSONObject = ["requestid": .string(r.requestid), "cid": .string(Hex.encode(r.cid)), "created": .string(PinningEndpoints.format(r.created)),
                                     "origins": .array(r.origins.map(JSON.string)),
                                     "meta": .object(JSONObject(r.meta.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))]
                if let name = r.name { o["name"] = .string(name) }
                return .object(o)
            }
            try PrivateFile.replace(path: path, content: JSON.array(items).serialized())
        }
    }
}
