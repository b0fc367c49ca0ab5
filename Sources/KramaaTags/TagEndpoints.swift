import KramaaAuth
import KramaaJSON
import KramaaNFC
import KramaaPrimitives
import KramaaRPC

/// The tag authentication interface on the node's HTTP port:
///
/// - `GET /verify?picc_data=…&enc=…&cmac=…` (any SUN URL layout `SUNURL` reads), the URL tags
///   are programmed with; `GET /verify?url=<tag URL>` for tags that point elsewhere;
///   `GET /verify?qr=<payload>` for signed QR codes. JSON for `Accept: application/json`
///   (and anything but HTML), a page for browsers. 400 with a problem body for malformed input.
/// - `POST /api/v1/tags` registers a tag and its SDM keys; `GET /api/v1/tags/{uid}` shows a
///   registration (never the keys).
public struct TagEndpoints: HTTPEndpoint {
    public static let verifyPath = "/verify"
    public static let tagsPath = "/api/v1/tags"

    public let verifier: TagVerifier
    /// Who may register tags (the `tags` role); verification is open to anyone.
    public let access: AccessPolicy
    /// Told of every verdict given (`nfc` or `qr`, the verdict; `malformed` for a 400), for the
    /// operator's metrics.
    public let onVerdict: (@Sendable (_ kind: String, _ verdict: String) -> Void)?

    private var router = HTTPRouter()

    public init(verifier: TagVerifier, access: AccessPolicy = .closed,
                onVerdict: (@Sendable (_ kind: String, _ verdict: String) -> Void)? = nil) {
        self.verifier = verifier
        self.access = access
        self.onVerdict = onVerdict
        router = routes()
    }

    /// Mounts `/verify` and `/api/v1/tags`.
    public func mount(on routes: inout HTTPRoutes) {
        routes.mount(Self.verifyPath, self)
        routes.mount(Self.tagsPath, self)
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await router.respond(to: request)
    }

    /// A tap (`GET /verify` with SUN parameters) is answered on the connection's event loop:
    /// keys and counters are in memory, the counter's sync is awaited, and a chain read that
    /// would wait runs on the concurrency pool (`TagVerifier`). QR payloads read the chain, and
    /// registrations write the database: those stay on the pool.
    public func answersOnEventLoop(_ request: HTTPRequest) -> Bool {
        request.method == "GET" && request.path == Self.verifyPath && request.queryValue("qr") == nil
    }

    /// The route table: verification (open to anyone), registration, replication, a registration's record.
    private func routes() -> HTTPRouter {
        var r = HTTPRouter()
        r.get(Self.verifyPath) { q in
            let answer = await verify(q.request)
            return Self.prefersHTML(q.request.header("accept")) ? Self.asPage(answer) : answer
        }
        r.post(Self.tagsPath) { q in await register(q.request) }
        r.post(TagReplicator.path) { q in
            guard let replicator = verifier.replicator else { throw HTTPProblem.notFound("this node has no tag peers (--tag-peer)") }
            return await replicator.handle(q.request.body, store: verifier.store)
        }
        r.get(Self.tagsPath + "/{uid}") { q in
            let text = q.path("uid")
            guard let uid = try? TagUID(hex: text) else { throw HTTPProblem.badRequest("'\(text)' is not a tag UID (14 hex digits)") }
            guard let record = verifier.store.record(uid) else { throw HTTPProblem.notFound("tag \(uid) is not registered on this node") }
            return .json(TagJSON.record(record))
        }
        return r
    }

    // MARK: /verify

    private func verify(_ request: HTTPRequest) async -> HTTPResponse {
        let result: Verification
        let kind = request.queryValue("qr") == nil ? "nfc" : "qr"
        do {
            if let qr = request.queryValue("qr") {
                result = try verifier.verify(qr: qr)
            } else if let url = request.queryValue("url") {
                result = try await verifier.verify(sunURL: url)
            } else {
                guard !request.query.isEmpty else {
                    return Self.problem(400, "no SUN parameters: give picc_data (or e, p, uid/ctr), enc and cmac as the tag writes them, url=<tag URL>, or qr=<payload>")
                }
                let host = request.header("x-forwarded-host") ?? request.header("host") ?? "localhost"
                result = try await verifier.verify(sunURL: "https://" + host + request.target)
            }
        } catch {
            switch error {
            case .malformed(let why):
                onVerdict?(kind, "malformed")
                return Self.problem(400, why)
            case .storage(let failure): return Self.problem(503, failure.description)
            case .unconfirmed(let why): return Self.problem(503, why)
            }
        }
        onVerdict?(kind, result.verdict.rawValue)
        if Self.prefersHTML(request.header("accept")) {
            return .text(TagPage.html(result), contentType: "text/html; charset=utf-8")
        }
        return .json(TagJSON.verification(result))
    }

    /// A problem answer turned into a page, for browsers (every answer they get is a page).
    static func asPage(_ answer: HTTPResponse) -> HTTPResponse {
        guard answer.headers.contains(where: { $0.name == "content-type" && $0.value == "application/problem+json" }) else { return answer }
        let detail = (try? JSON.parse(answer.body))?["detail"]?.stringValue ?? "HTTP \(answer.status)"
        return HTTPResponse(status: answer.status, headers: [("content-type", "text/html; charset=utf-8")],
                            body: Array(TagPage.errorPage(status: answer.status, detail: detail).utf8))
    }

    /// A browser's Accept names text/html; API clients ask for JSON or send `*/*`.
    static func prefersHTML(_ accept: String?) -> Bool {
        guard let accept = accept?.lowercased() else { return false }
        return accept.contains("text/html") && !accept.hasPrefix("application/json")
    }

    // MARK: /api/v1/tags

    private func register(_ request: HTTPRequest) async -> HTTPResponse {
        let caller: Caller
        do { caller = try access.authorize(request.credentials, for: .tags) } catch { return error.response }
        guard let body = try? JSON.parse(request.body), body.objectValue != nil else {
            return Self.problem(400, "the body must be a JSON object {uid, mode, metaReadKey, fileReadKey, macInputStart, urlLayout, organization}")
        }
        let registration: TagRegistration
        do {
            registration = try Self.registration(body)
        } catch {
            return Self.problem(400, error.description)
        }
        do {
            try TagRegistrationPolicy(assets: verifier.assets).check(registration, by: caller, requested: Self.from(body))
        } catch {
            return error.response
        }
        do {
            let record = try verifier.store.register(registration)
            var answer = TagJSON.record(record)
            if let replicator = verifier.replicator {
                let stored = await replicator.replicate(registration, lastReadCounter: nil)
                if case .object(var object) = answer {
                    object["replicatedTo"] = ["peers": .number(JSONNumber(replicator.peers.count)), "stored": .number(JSONNumber(stored))]
                    answer = .object(object)
                }
            }
            return .json(answer, status: 201, headers: [("location", Self.tagsPath + "/" + record.uid.description)])
        } catch {
            if case .alreadyRegistered = error {
                let holder = verifier.store.record(registration.uid)?.organisation
                let detail = holder.map { $0 == registration.organisation ? error.description
                    : "tag \(registration.uid) is registered by organisation \($0); another organisation cannot register it" } ?? error.description
                return Self.problem(409, detail)
            }
            if case .invalid = error { return Self.problem(400, error.description) }
            return Self.problem(503, error.description)
        }
    }

    static func registration(_ body: JSON) throws(TagStoreError) -> TagRegistration {
        func string(_ key: String, required: Bool = true) throws(TagStoreError) -> String? {
            guard let value = body[key], !value.isNull else {
                if required { throw .invalid(field: key, "missing") }
                return nil
            }
            guard let text = value.stringValue else { throw .invalid(field: key, "must be a string") }
            return text
        }
        func hex(_ key: String, required: Bool) throws(TagStoreError) -> [UInt8]? {
            guard let text = try string(key, required: required) else { return nil }
            guard let bytes = try? Hex.decode(text), bytes.count == 16 else { throw .invalid(field: key, "must be 32 hex digits (an AES-128 key)") }
            return bytes
        }
        let uidText = try string("uid") ?? ""
        guard let uid = try? TagUID(hex: uidText) else { throw .invalid(field: "uid", "'\(uidText)' is not 14 hex digits (7 bytes)") }
        let mode = try SDMMode(parsing: try string("mode") ?? "")
        let meta = try hex("metaReadKey", required: false)
        let file = try hex("fileReadKey", required: true) ?? []
        let start: SDMMACInputStart
        switch body["macInputStart"] {
        case nil, .null?: start = .conventional
        case .string(let text)?: start = try MACInputStartName.parse(text)
        case .number(let number)?:
            guard let offset = number.int, offset >= 0 else { throw .invalid(field: "macInputStart", "an offset is 0 or more") }
            start = .offset(offset)
        default: throw .invalid(field: "macInputStart", "must be a name or an offset")
        }
        // `organization` is the spelling of every interface; `organisation` is still read for one release.
        let organisation: UInt64
        switch body["organization"] ?? body["organisation"] {
        case .number(let number)?:
            guard let value = number.uint64 else { throw .invalid(field: "organization", "must be an organization id (0 or more)") }
            organisation = value
        case .string(let text)?:
            guard let value = UInt64(text) else { throw .invalid(field: "organization", "'\(text)' is not an organization id") }
            organisation = value
        default: throw .invalid(field: "organization", "missing (the on-chain organization id)")
        }
        return try TagRegistration(uid: uid, mode: mode, metaReadKey: meta, fileReadKey: file, macInputStart: start,
                                   urlLayout: try string("urlLayout", required: false), organisation: organisation)
    }

    /// The optional `from` of a registration body (the account acting, when the caller is not
    /// bound to one); a malformed one is an access error.
    static func from(_ body: JSON) throws(AccessError) -> Address? {
        guard let value = body["from"], !value.isNull else { return nil }
        guard let text = value.stringValue, let address = try? Address(hex: text) else {
            throw .invalidRequest("\"from\" must be an address (0x and 40 hex digits)")
        }
        return address
    }

    // MARK: Answers

    static func problem(_ status: Int, _ detail: String) -> HTTPResponse {
        HTTPProblem(status: status, detail: detail).response
    }
}
