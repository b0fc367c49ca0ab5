import Foundation
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaJSON
import KramaaPrimitives
import KramaaAuth
import KramaaRPC

/// `/queries`: named queries, their events and their subscriptions (EPCIS 2.0 REST binding).
/// Creating and deleting need the `epcis` role, like capture; reads are reads.
extension EPCISEndpoints {
    func addQueryRoutes(to r: inout HTTPRouter) {
        r.get("queries") { [unowned self] q in
            let all = queries.allQueries.map(Self.json)
            let (page, next) = try Self.page(all, q.request)
            return Self.listAnswer(page, next: next, request: q.request)
        }
        r.post("queries") { [unowned self] q in try createQuery(q.request) }
        r.get("queries/{name}") { [unowned self] q in .json(Self.json(try named(q.path("name"))), headers: Self.versionHeaders) }
        r.delete("queries/{name}") { [unowned self] q in
            _ = try calls.caller(q.request, for: .epcis)
            guard try queries.remove(q.path("name")) else { throw HTTPProblem.notFound("no query named \(q.path("name"))") }
            return HTTPResponse(status: 204, headers: Self.versionHeaders)
        }
        r.get("queries/{name}/events") { [unowned self] q in
            let stored = try named(q.path("name"))
            let items = EPCISNotifier.items(of: stored.query).map { ($0.0, $0.1 ?? "") } + q.request.query
            return try queryDocument(items, for: q.request, queryName: stored.name)
        }
        r.get("queries/{name}/subscriptions") { [unowned self] q in
            let name = try named(q.path("name")).name
            let (page, next) = try Self.page(queries.subscriptions(of: name).map(Self.json), q.request)
            return Self.listAnswer(page, next: next, request: q.request)
        }
        r.post("queries/{name}/subscriptions") { [unowned self] q in try subscribe(try named(q.path("name")), q.request) }
        r.get("queries/{name}/subscriptions/{id}") { [unowned self] q in
            guard let s = queries.subscription(q.path("id")), s.queryName == q.path("name") else {
                throw HTTPProblem.notFound("no subscription \(q.path("id")) of query \(q.path("name"))")
            }
            return .json(Self.json(s), headers: Self.versionHeaders)
        }
        r.delete("queries/{name}/subscriptions/{id}") { [unowned self] q in
            _ = try calls.caller(q.request, for: .epcis)
            guard queries.subscription(q.path("id"))?.queryName == q.path("name"), try queries.removeSubscription(q.path("id")) else {
                throw HTTPProblem.notFound("no subscription \(q.path("id")) of query \(q.path("name"))")
            }
            return HTTPResponse(status: 204, headers: Self.versionHeaders)
        }
        // Page tokens hold no resources here (they are positions): releasing one is a no-op.
        r.delete("nextPageToken/{token}") { _ in HTTPResponse(status: 204, headers: Self.versionHeaders) }
    }

    func named(_ name: String) throws -> EPCISQueryStore.NamedQuery {
        guard let stored = queries.query(name) else { throw HTTPProblem.notFound("no query named \(name)") }
        return stored
    }

    /// `POST /queries {name, query}`: the query is checked (it must parse as EPCIS query
    /// parameters) before it is kept.
    private func createQuery(_ request: HTTPRequest) throws -> HTTPResponse {
        _ = try calls.caller(request, for: .epcis)
        let body = try request.jsonBody()
        let name = try body.string("name")
        guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw HTTPProblem.badRequest("a query name has 1 to 128 letters, digits, '-', '_' or '.'")
        }
        guard let query = body["query"]?.objectValue else { throw HTTPProblem.badRequest("\"query\" must be an object of EPCIS query parameters") }
        _ = try EPCISQuery(queryItems: EPCISNotifier.items(of: query))
        do { try queries.add(.init(name: name, query: query, createdAt: EPCISNotifier.timestamp(calls.api.clock))) } catch let conflict as HTTPConflict {
            throw HTTPProblem(status: 409, title: "Conflict", detail: conflict.description)
        }
        return .json(["name": .string(name), "query": .object(query)], status: 201,
                     headers: [("location", "\(Self.prefix)/queries/\(name)")] + Self.versionHeaders)
    }

    /// `POST /queries/{name}/subscriptions {dest, signatureToken?, stream | schedule, reportIfEmpty?, initialRecordTime?}`.
    private func subscribe(_ query: EPCISQueryStore.NamedQuery, _ request: HTTPRequest) throws -> HTTPResponse {
        _ = try calls.caller(request, for: .epcis)
        let body = try request.jsonBody()
        let dest = try body.string("dest")
        guard let url = URL(string: dest), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw HTTPProblem.badRequest("\"dest\" must be an http or https URL: where the notifications are POSTed")
        }
        let stream = body["stream"]?.boolValue ?? false
        let schedule = try body["schedule"].map { value throws -> EPCISSchedule in
            guard let object = value.objectValue else { throw HTTPProblem.badRequest("\"schedule\" must be an object (second, minute, hour, …)") }
            return try EPCISSchedule(json: object)
        }
        guard stream != (schedule != nil) else {
            throw HTTPProblem.badRequest("a subscription sets \"stream\": true or gives a \"schedule\", not both and not neither")
        }
        if let token = body["signatureToken"], token.stringValue?.isEmpty != false {
            throw HTTPProblem.badRequest("\"signatureToken\" must be a non-empty string")
        }
        let initial = body["initialRecordTime"]?.stringValue
        if let initial, EPCISTimestamp(rfc3339: initial) == nil { throw HTTPProblem.badRequest("\"initialRecordTime\" must be an RFC 3339 date-time") }
        let subscription = EPCISQueryStore.Subscription(
            id: UUID().uuidString.lowercased(), queryName: query.name, dest: dest, signatureToken: body["signatureToken"]?.stringValue, stream: stream,
            schedule: schedule, reportIfEmpty: body["reportIfEmpty"]?.boolValue ?? false, initialRecordTime: initial,
            createdAt: EPCISNotifier.timestamp(calls.api.clock), lastNotifiedAt: nil, cursor: initial == nil ? try index.endPosition() : "s0")
        do { try queries.add(subscription) } catch let conflict as HTTPConflict {
            throw HTTPProblem(status: 409, title: "Conflict", detail: conflict.description)
        }
        return .json(Self.json(subscription), status: 201,
                     headers: [("location", "\(Self.prefix)/queries/\(query.name)/subscriptions/\(subscription.id)")] + Self.versionHeaders)
    }

    static func json(_ q: EPCISQueryStore.NamedQuery) -> JSON { ["name": .string(q.name), "query": .object(q.query)] }

    /// A subscription as listed: its token is not shown, only whether there is one.
    static func json(_ s: EPCISQueryStore.Subscription) -> JSON {
        var o: JSONObject = ["subscriptionID": .string(s.id), "dest": .string(s.dest), "createdAt": .string(s.createdAt)]
        if s.stream { o["stream"] = true }
        if let schedule = s.schedule {
            o["schedule"] = .object(schedule.json)
            o["reportIfEmpty"] = .bool(s.reportIfEmpty)
        }
        if let t = s.initialRecordTime { o["initialRecordTime"] = .string(t) }
        if let t = s.lastNotifiedAt { o["lastNotifiedAt"] = .string(t) }
        o["signed"] = .bool(s.signatureToken != nil)
        if let error = s.lastError { o["lastError"] = .string(error) }
        return .object(o)
    }

    /// One page of a list (`perPage`, `nextPageToken` as an offset).
    static func page(_ all: [JSON], _ request: HTTPRequest) throws -> ([JSON], Int?) {
        let perPage = try request.query.first { $0.name == "perPage" }.map { item throws -> Int in
            guard let n = Int(item.value), n > 0 else { throw HTTPProblem.badRequest("perPage must be a positive integer") }
            return n
        } ?? EPCISQuery.defaultPerPage
        let start = try request.query.first { $0.name == "nextPageToken" }.map { item throws -> Int in
            guard item.value.hasPrefix("o"), let n = Int(item.value.dropFirst()), n >= 0 else { throw HTTPProblem.badRequest("nextPageToken \(item.value) is not one this list issued") }
            return n
        } ?? 0
        let end = min(all.count, start + perPage)
        return (start < end ? Array(all[start..<end]) : [], end < all.count ? end : nil)
    }

    static func listAnswer(_ items: [JSON], next: Int?, request: HTTPRequest) -> HTTPResponse {
        var headers = Self.versionHeaders
        if let next {
            let kept = request.query.filter { $0.name != "nextPageToken" } + [(name: "nextPageToken", value: "o\(next)")]
            headers.append(("link", "<\(request.path)?\(kept.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&"))>; rel=\"next\""))
        }
        return .json(.array(items), headers: headers)
    }
}

/// `GET /epcis/queries/{name}/subscriptions?stream=true` with `Upgrade: websocket`: a
/// subscription over WebSocket (EPCIS 2.0 REST binding), one `EPCISQueryDocument` per message
/// as matching events are recorded; `initialRecordTime` also sends what matches from then on.
/// A read: refused (answered as plain HTTP) where reads need a token the request lacks.
extension EPCISEndpoints: WebSocketStreamProvider {
    public func webSocketStream(for request: HTTPRequest) -> AsyncStream<String>? {
        let parts = request.path.split(separator: "/")
        guard parts.count == 4, parts[0] == "epcis", parts[1] == "queries", parts[3] == "subscriptions",
              request.query.contains(where: { $0.name == "stream" && $0.value == "true" }),
              (try? calls.api.access.authorizeRead(request.credentials)) != nil,
              let named = queries.query(HTTPRequest.formDecode(parts[2])) else { return nil }
        let initial = request.query.first { $0.name == "initialRecordTime" }?.value
        if let initial, EPCISTimestamp(rfc3339: initial) == nil { return nil }
        guard let cursor = initial == nil ? try? index.endPosition() : "s0" else { return nil }
        return notifier.openStream(queryName: named.name, initialRecordTime: initial, cursor: cursor)
    }
}
