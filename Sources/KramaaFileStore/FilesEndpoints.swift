import Foundation
import KramaaAuth
import KramaaFiles
import KramaaJSON
import KramaaRPC

/// The node's own block store under `/api/v1/store` (`/api/v1/files` is the consortium's file registry): uploads (CAR batches staged, then committed and
/// pinned), pins, status, directory listings, usage and garbage collection. Writes need the
/// `files` role (bearer token, or open loopback on the devnet); reads follow the node's read gate.
///
///     POST   /api/v1/store/uploads                 {"size": n}        → 201 {"id"}
///     PUT    /api/v1/store/uploads/{id}            CAR (≤ body limit) → {"blocks", "bytes"}
///     POST   /api/v1/store/uploads/{id}/commit     {"root", "name"}   → status of the root, pinned
///     DELETE /api/v1/store/uploads/{id}
///     GET    /api/v1/store/pins                    PUT/DELETE /api/v1/store/pins/{cid}
///     GET    /api/v1/store/status/{cid}            GET /api/v1/store/ls/{cid}
///     GET    /api/v1/store                         usage; POST /api/v1/store/gc
public struct FilesEndpoints: HTTPEndpoint {
    public static let prefix = "/api/v1/store"
    let router: HTTPRouter

    public var acceptedBodyTypes: Set<String> { router.acceptedBodyTypes }

    public init(store: FileStore, access: AccessPolicy) {
        var r = HTTPRouter(prefix: Self.prefix, acceptedBodyTypes: HTTPMediaType.json.union([CAR.mediaType]))
        @Sendable func authorize(_ request: RouteRequest) throws {
            try access.authorize(request.request.credentials, for: .files)
        }
        @Sendable func cid(_ request: RouteRequest, _ name: String = "cid") throws -> CID {
            do { return try CID(request.path(name)) } catch { throw HTTPProblem.badRequest("\(error)") }
        }
        @Sendable func body(_ request: RouteRequest) throws -> JSONObject {
            if request.request.body.isEmpty { return [:] }
            guard case .object(let o)? = try? JSON.parse(request.request.body) else { throw HTTPProblem.badRequest("the body must be a JSON object") }
            return o
        }
        r.get("") { _ in
            let usage = store.blocks.usage
            return .json(.object(["bytes": .number(JSONNumber(usage.bytes)), "blocks": .number(JSONNumber(usage.blocks)),
                                  "quota": .number(JSONNumber(store.quota)), "pins": .number(JSONNumber(store.pinned.count))]))
        }
        r.post("uploads") { request in
            try authorize(request)
            var size: UInt64?
            if case .number(let n)? = try body(request)["size"] { size = UInt64(n.description) }
            let id = try store.beginUpload(size: size)
            return .json(.object(["id": .string(id)]), status: 201, headers: [("location", "\(Self.prefix)/uploads/\(id)")])
        }
        r.put("uploads/{id}") { request in
            try authorize(request)
            guard HTTPMediaType.of(request.request.header("content-type")) == CAR.mediaType else {
                throw HTTPProblem(status: 415, detail: "send the blocks as \(CAR.mediaType)")
            }
            let added = try store.addToUpload(request.path("id"), car: request.request.body)
            return .json(.object(["blocks": .number(JSONNumber(added.blocks)), "bytes": .number(JSONNumber(added.bytes))]))
        }
        r.post("uploads/{id}/commit") { request in
            try authorize(request)
            let fields = try body(request)
            guard case .string(let text)? = fields["root"] else { throw HTTPProblem.badRequest("give the upload's root CID as \"root\"") }
            let root: CID
            do { root = try CID(text) } catch { throw HTTPProblem.badRequest("\(error)") }
            var name = ""
            if case .string(let n)? = fields["name"] { name = n }
            return .json(Self.json(try store.commitUpload(request.path("id"), root: root, name: name)), status: 201)
        }
        r.on("DELETE", "uploads/{id}") { request in
            try authorize(request)
            try store.discardUpload(request.path("id"))
            return HTTPResponse(status: 204)
        }
        r.get("pins") { _ in
            .json(.object(["pins": .array(store.pinned.map { .object(["cid": .string($0.cid.string), "name": .string($0.name)]) })]))
        }
        r.put("pins/{cid}") { request in
            try authorize(request)
            let c = try cid(request)
            try store.pin(c)
            return .json(Self.json(try store.status(c)))
        }
        r.on("DELETE", "pins/{cid}") { request in
            try authorize(request)
            try store.unpin(try cid(request))
            return HTTPResponse(status: 204)
        }
        r.get("status/{cid}") { request in .json(Self.json(try store.status(try cid(request)))) }
        r.get("ls/{cid}") { request in
            let c = try cid(request)
            guard store.blocks.has(c) else { throw HTTPProblem.notFound("\(c) is not held by this node") }
            let entries = try UnixFSReader(source: store.blocks).list(c)
            return .json(.object(["cid": .string(c.string), "entries": .array(entries.map { e in
                .object(["name": .string(e.name), "cid": .string(e.cid.string), "size": e.tsize.map { .number(JSONNumber($0)) } ?? .null])
            })]))
        }
        r.post("gc") { request in
            try authorize(request)
            let removed = try store.collectGarbage()
            return .json(.object(["removedBlocks": .number(JSONNumber(removed.blocks)), "removedBytes": .number(JSONNumber(removed.bytes))]))
        }
        router = r
    }

    static func json(_ s: FileStore.Status) -> JSON {
        .object(["cid": .string(s.cid.string), "pinned": .bool(s.pinned), "complete": .bool(s.complete),
                 "blocks": .number(JSONNumber(s.blocks)), "bytes": .number(JSONNumber(s.bytes)),
                 "missing": .array(s.missing.prefix(10).map { .string($0.string) })])
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse { await router.respond(to: request) }
}
