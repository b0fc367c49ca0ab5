import KramaaJSON
import KramaaRPC
import Testing

/// The route table every REST interface of the node is built on.
@Suite struct HTTPRouterTests {
    struct Refusal: Error {}

    static let router: HTTPRouter = {
        var r = HTTPRouter(prefix: "/api/v1")
        r.get("items/{id}") { q in .json(["id": .number(JSONNumber(try q.path("id", as: UInt64.self)))]) }
        r.get("items/latest") { _ in .json(["latest": true]) }
        r.post("items") { q in .json(["limit": q.request.queryValue("limit").map(JSON.string) ?? .null], status: 201) }
        r.put("items/{id}") { _ in throw HTTPProblem(status: 409, detail: "item is locked", headers: [HTTPHeader("retry-after", "5")]) }
        r.get("items/{id}/parts") { q in .json(["limit": .number(JSONNumber(try q.query("limit", as: UInt64.self) ?? 10))]) }
        r.get("fails") { _ in throw Refusal() }
        return r
    }()

    static func answer(_ method: String, _ target: String) async throws -> (status: Int, headers: [String: String], body: JSON) {
        let (path, query) = HTTPRequest.split(uri: target)
        let response = await router.respond(to: HTTPRequest(method: method, path: path, query: query))
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name] = value }
        return (response.status, headers, try JSON.parse(response.body))
    }

    @Test func capturesAreTypedAndALiteralSegmentWinsOverACapture() async throws {
        #expect(try await Self.answer("GET", "/api/v1/items/42").body == ["id": 42])
        #expect(try await Self.answer("GET", "/api/v1/items/latest").body == ["latest": true], "added after {id}, still preferred")
        #expect(try await Self.answer("HEAD", "/api/v1/items/7").status == 200, "HEAD is served by GET")
        let bad = try await Self.answer("GET", "/api/v1/items/x7")
        #expect(bad.status == 400 && bad.headers["content-type"] == "application/problem+json")
        #expect(bad.body["detail"] == "x7 is not a number")
        #expect(try await Self.answer("GET", "/api/v1/items/1/parts?limit=3").body == ["limit": 3])
        #expect(try await Self.answer("GET", "/api/v1/items/1/parts?limit=many").body["detail"] == "limit must be a number")
    }

    @Test func anUnknownPathIs404AndAnotherMethodIs405WithWhatTheResourceTakes() async throws {
        let missing = try await Self.answer("GET", "/api/v1/nothing/here")
        #expect(missing.status == 404 && missing.body["detail"] == "no resource GET /api/v1/nothing/here")
        let wrong = try await Self.answer("DELETE", "/api/v1/items/3")
        #expect(wrong.status == 405 && wrong.headers["allow"] == "GET, HEAD, PUT")
        #expect(wrong.body["detail"]?.stringValue?.hasPrefix("DELETE is not served at /api/v1/items/3") == true)
        #expect(try await Self.answer("GET", "/api/v1/items").headers["allow"] == "POST")
        #expect(try await Self.answer("GET", "/elsewhere/items/3").status == 404)
    }

    @Test func thrownErrorsGoThroughOneMapping() async throws {
        let locked = try await Self.answer("PUT", "/api/v1/items/3")
        #expect(locked.status == 409 && locked.headers["retry-after"] == "5")
        #expect(locked.body == ["type": "about:blank", "title": "Conflict", "status": 409, "detail": "item is locked"])
        let failed = try await Self.answer("GET", "/api/v1/fails")
        #expect(failed.status == 500 && failed.body["title"] == "Internal error")
        var custom = HTTPRouter(answerForError: { _ in .text("custom", contentType: "text/plain", status: 418) })
        custom.get("x") { _ in throw Refusal() }
        #expect(await custom.respond(to: HTTPRequest(method: "GET", path: "/x")).status == 418)
    }
}
