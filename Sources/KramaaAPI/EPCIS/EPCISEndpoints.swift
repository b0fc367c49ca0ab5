import KramaaJSON
import KramaaAuth
import Foundation
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// The EPCIS 2.0 REST interface under `/epcis` (GS1's OpenAPI): `POST /capture` (capture jobs,
/// `GS1-Capture-Error-Behaviour` rollback or proceed), `GET /capture/{id}`, `GET /capture`,
/// `GET /events?…` (the query language's parameters) and `GET /events/{eventID}`.
///
/// A capture is validated against the EPCIS 2.0 JSON schema, then its accepted events go on
/// chain in one `captureEvents` transaction sent from `Kramaa-From` (an account the node holds)
/// for organisation `Kramaa-Organization`; the job finishes when the block is in. Queries read
/// the node's index of the chain's events.
public final class EPCISEndpoints: HTTPEndpoint, @unchecked Sendable {
    public static let prefix = "/epcis"
    let calls: PlatformCalls
    let index: EPCISIndex
    let validator: EPCISValidator?
    let privateData: PrivateDataAccess
    /// Named queries and subscriptions, and who notifies the subscribers.
    let queries: EPCISQueryStore
    let notifier: EPCISNotifier
    /// Where captures are counted (nil: not counted).
    public var metrics: NodeMetrics?
    private let lock = NSLock()
    private var jobs: [String: CaptureJob] = [:]
    private var jobOrder: [String] = []
    private(set) var router = HTTPRouter()
    /// Capture jobs kept for `GET /capture/{id}`.
    static let keptJobs = 10_000

    /// - Parameter schema: the EPCIS 2.0 JSON schema (GS1's EPCIS-JSON-Schema.json); without it
    ///   captures are refused with a problem saying so.
    ///   `privateData`: the node's holder of private data, for events with private fields (nil:
    ///   this node holds none; such captures are refused, queries show the references).
    ///   `dataDirectory`: where named queries and subscriptions are kept (nil: in memory);
    ///   `webhooks`: how subscribers are notified.
    public init(api: EthAPI, index: EPCISIndex, schema: JSON?, privateData: (any PrivateDataHolder)? = nil, dataDirectory: URL? = nil,
                webhooks: any WebhookSender = URLSessionWebhookSender()) throws {
        calls = PlatformCalls(api: api)
        self.privateData = PrivateDataAccess(calls: calls, holder: privateData)
        self.index = index
        do { queries = try EPCISQueryStore(directory: dataDirectory) } catch {
            throw HTTPProblem(status: 500, title: "Unreadable queries", detail: "\(EPCISQueryStore.fileName) cannot be read: \(error); fix or remove it")
        }
        notifier = EPCISNotifier(store: queries, index: index, sender: webhooks, clock: api.clock)
        notifier.start(node: api.node)
        validator = try schema.map { try EPCISValidator(schema: $0) }
        router = routes()
    }

    /// The schema's file name, as GS1 publishes it.
    public static let schemaFileName = "EPCIS-JSON-Schema.json"

    /// Where the EPCIS 2.0 JSON schema is looked for, in order: `$KRAMAA_EPCIS_SCHEMA`; the
    /// data directory; `$KRAMAA_VECTORS/epcis/schema`; the shared vectors folder beside the
    /// repository a development build runs from (`../shared/vectors`, from the working directory
    /// and from the executable's repository). GS1's terms do not let Kramaa ship the schema.
    public static func schemaCandidates(dataDirectory: URL, executable: URL = Executable.url) -> [String] {
        let environment = ProcessInfo.processInfo.environment
        var paths: [String] = []
        if let path = environment["KRAMAA_EPCIS_SCHEMA"], !path.isEmpty { paths.append(path) }
        paths.append(dataDirectory.appendingPathComponent(schemaFileName).path)
        let inVectors = "epcis/schema/" + schemaFileName
        if let vectors = environment["KRAMAA_VECTORS"], !vectors.isEmpty { paths.append(vectors + "/" + inVectors) }
        paths.append(FileManager.default.currentDirectoryPath + "/../shared/vectors/" + inVectors)
        // <repository>/.build/<configuration>/kramaa → <repository>/../shared/vectors
        let repository = executable.resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        paths.append(repository.deletingLastPathComponent().appendingPathComponent("shared/vectors/" + inVectors).path)
        return paths
    }

    /// The first schema found among `schemaCandidates`, with its path; nil when there is none.
    /// `$KRAMAA_EPCIS_SCHEMA` naming a missing or invalid file is an error, not a fallback.
    public static func locateSchema(dataDirectory: URL) throws -> (schema: JSON, path: String)? {
        let explicit = ProcessInfo.processInfo.environment["KRAMAA_EPCIS_SCHEMA"].flatMap { $0.isEmpty ? nil : $0 }
        for path in schemaCandidates(dataDirectory: dataDirectory) {
            guard let data = FileManager.default.contents(atPath: path) else {
                if path == explicit { throw HTTPProblem(status: 500, title: "No schema", detail: "cannot read KRAMAA_EPCIS_SCHEMA=\(path)") }
                continue
            }
            do { return (try JSON.parse(Array(data)), (path as NSString).standardizingPath) } catch {
                throw HTTPProblem(status: 500, title: "Invalid schema", detail: "\(path) is not JSON: \(error)")
            }
        }
        return nil
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        if request.method == "OPTIONS" { return await discovery(request) }
        return await router.respond(to: request)
    }

    /// The route table: capture jobs, events, and the top-level resources.
    private func routes() -> HTTPRouter {
        var r = HTTPRouter(prefix: Self.prefix, answerForError: Self.answer(for:))
        r.post("capture") { [unowned self] q in try await capture(q.request) }
        r.get("capture") { [unowned self] _ in .json(.array(lock.withLock { jobOrder.suffix(100).compactMap { jobs[$0]?.json } })) }
        r.get("capture/{id}") { [unowned self] q in
            let id = q.path("id")
            guard let job = lock.withLock({ jobs[id] }) else { throw HTTPProblem.notFound("no capture job \(id)") }
            return .json(job.json)
        }
        r.get("events") { [unowned self] q in try queryDocument(q.request.query, for: q.request) }
        r.get("events/{id}") { [unowned self] q in
            let page = try index.query(try EPCISQuery(queryItems: [("EQ_eventID", q.path("id"))]))
            guard !page.events.isEmpty else { throw HTTPProblem.notFound("no event with eventID \(q.path("id")) on this node's chain") }
            return queryDocument(page, for: q.request)
        }
        addTopLevelResources(to: &r)
        addQueryRoutes(to: &r)
        addDiscoveryRoutes(to: &r)
        return r
    }

    /// EPCIS exceptions as the standard writes them; anything else a handler throws is a bad request.
    static func answer(for error: any Error) -> HTTPResponse? {
        switch error {
        case let rejection as CaptureRejection:
            return .json(rejection.problem.json, status: rejection.status, headers: [("content-type", "application/problem+json")])
        case let conflict as HTTPConflict:
            return HTTPProblem(status: 409, title: "Conflict", detail: conflict.description).response
        case let exception as QueryParameterException:
            return .json(EPCISProblem(type: QueryParameterException.problemType, title: "Invalid query", status: 400, detail: "\(exception)").json,
                         status: 400, headers: [("content-type", "application/problem+json")])
        default:
            return HTTPProblem(status: 400, title: "Bad request", detail: "\(error)").response
        }
    }

    private func capture(_ request: HTTPRequest) async throws -> HTTPResponse {
        let (job, _) = try await runCapture(request, body: request.body)
        return .json(job.json, status: 202, headers: [("location", "\(Self.prefix)/capture/\(job.captureID)")] + Self.versionHeaders)
    }

    /// Validates and records the EPCIS document `body` (as `POST /capture` does, for `request`'s
    /// caller and headers); the finished job, kept for `GET /capture/{id}`, and the events sent.
    func runCapture(_ request: HTTPRequest, body: [UInt8]) async throws -> (CaptureJob, [EPCISEvent]) {
        let caller = try calls.caller(request, for: .epcis)
        guard let validator else {
            throw HTTPProblem(status: 503, title: "Capture unavailable",
                              detail: "this node has no EPCIS 2.0 JSON schema: start it with KRAMAA_EPCIS_SCHEMA set to GS1's EPCIS-JSON-Schema.json")
        }
        var requested: Address?
        if let fromText = request.header("kramaa-from") {
            guard let address = try? Address(hex: fromText) else {
                throw HTTPProblem.badRequest("the Kramaa-From header must be the capturing account's address (one whose key the node holds)")
            }
            requested = address
        }
        let from = try caller.actingAccount(requested)
        let organization = try Self.organization(request.header("kramaa-organization"))
        let behaviour = try CaptureErrorBehaviour(header: request.header("gs1-capture-error-behaviour"))
        let privacy = try PrivateCapture(request)
        let plan = try EPCISCapture.plan(body: body, validator: validator, behaviour: behaviour,
                                         captureLimit: ProvenanceRegistry.maxEventsPerCapture)
        let created = now()
        let id = UUID().uuidString.lowercased()
        var job = plan.job(captureID: id, createdAt: created)
        if !plan.acceptedEvents.isEmpty && (plan.success || behaviour == .proceed) {
            do {
                let (document, items) = try Self.document(body, keeping: plan.acceptedEvents, privacy: privacy)
                let data = ProvenanceRegistry.Method.capture.callData([.uint(UInt256(organization)), .bytes(document)])
                if let privacy, !items.isEmpty {
                    // Refused captures share nothing: the capture is tried first, then the items go to the member nodes and on chain.
                    try calls.simulate(from: from, ProvenanceRegistry.address, data)
                    _ = try await privateData.share(items, collection: privacy.collection, from: from)
                }
                _ = try await calls.write(from: from, ProvenanceRegistry.address, data)
            } catch {
                let problem = (error as? any HTTPProblemConvertible)?.problem ?? HTTPProblem.badRequest("\(error)")
                job.success = false
                job.errors.append(EPCISProblem(type: "epcisException:CaptureRefused", title: problem.title ?? HTTPResponse.reason(problem.status),
                                               status: problem.status, detail: problem.detail))
            }
        }
        job.running = false
        job.finishedAt = now()
        if let metrics {
            metrics.counter("kramaa_epcis_captures_total", [("outcome", job.success ? "success" : "refused")]).increment()
            if job.success { metrics.counter("kramaa_epcis_events_captured_total").increment(by: plan.acceptedEvents.count) }
        }
        lock.withLock {
            jobs[id] = job
            jobOrder.append(id)
            if jobOrder.count > Self.keptJobs { jobs[jobOrder.removeFirst()] = nil }
        }
        return (job, plan.acceptedEvents)
    }

    /// The `Kramaa-Organization` header: an organisation id; absent means 0 (a device's own
    /// organisation is used for device keys). Anything else is refused rather than read as 0.
    static func organization(_ header: String?) throws(HTTPProblem) -> UInt64 {
        guard let header else { return 0 }
        guard let id = UInt64(header.trimmingCharacters(in: .whitespaces)) else {
            throw .badRequest("the Kramaa-Organization header \"\(header)\" is not an organisation id: give the decimal id (e.g. 1)")
        }
        return id
    }

    /// The captured document with only `events` in its event list (proceed keeps the valid ones),
    /// their private fields split off into items when the capture asks for it.
    static func document(_ body: [UInt8], keeping events: [EPCISEvent], privacy: PrivateCapture? = nil) throws -> (document: [UInt8], items: [PrivateDataItem]) {
        guard case .object(var document) = try JSON.parse(body), case .object(var epcisBody)? = document["epcisBody"] else {
            throw HTTPProblem.badRequest("the body must be an EPCISDocument")
        }
        var list = events.map(\.json), items: [PrivateDataItem] = []
        if let privacy {
            list = try list.map { event in
                guard let object = event.objectValue else { return event }
                do {
                    guard let (shown, item) = try PrivateEPCISFields.redact(object, fields: privacy.fields, collection: privacy.collection) else { return event }
                    items.append(item)
                    return .object(shown)
                } catch { throw HTTPProblem.badRequest("\(error)") }
            }
            if !items.isEmpty { document["@context"] = PrivateEPCISFields.declaringNamespace(document["@context"]) }
        }
        epcisBody["eventList"] = .array(list)
        document["epcisBody"] = .object(epcisBody)
        return (JSON.object(document).serialized(), items)
    }

    /// The page of indexed events the query parameters select, as a query document; a `Link`
    /// header (`rel="next"`) names the next page when there is one.
    func queryDocument(_ items: [(name: String, value: String)], for request: HTTPRequest, queryName: String = "SimpleEventQuery") throws -> HTTPResponse {
        let page = try index.query(try EPCISQuery(queryItems: items.map { ($0.name, Optional($0.value)) }))
        var response = queryDocument(page, for: request, queryName: queryName)
        if let token = page.nextPageToken {
            let kept = request.query.filter { $0.name != "nextPageToken" } + [(name: "nextPageToken", value: token)]
            let query = kept.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
            response.headers.append(("link", "<\(request.path)?\(query)>; rel=\"next\""))
        }
        return response
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? text
    }

    /// The versions every EPCIS answer states (EPCIS 2.0 REST binding).
    static let versionHeaders: [(name: String, value: String)] = [("gs1-epcis-version", "2.0.0"), ("gs1-cbv-version", "2.0.0")]

    /// A query document listing a page of events, private fields disclosed where the caller may see them.
    func queryDocument(_ page: EPCISQueryPage, for request: HTTPRequest, queryName: String = "SimpleEventQuery") -> HTTPResponse {
        let listed = privateData.disclose(page.events.map(\.json), to: privateData.reader(request))
        let document: JSON = [
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": .string(now().description),
            "epcisBody": ["queryResults": ["queryName": .string(queryName), "resultsBody": ["eventList": .array(listed)]]],
        ]
        return .json(document, headers: [("content-type", "application/ld+json")] + Self.versionHeaders)
    }

    /// Now on the node's clock (`EthAPI.clock`).
    func now() -> EPCISTimestamp {
        let t = calls.api.clock.sinceEpoch.components
        return EPCISTimestamp(secondsSinceEpoch: t.seconds, nanoseconds: Int32(t.attoseconds / 1_000_000_000))
    }
}
