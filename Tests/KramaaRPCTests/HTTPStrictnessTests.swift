import KramaaJSON
import Foundation
import KramaaRPC
import KramaaTestSupport
import Testing

/// What the server refuses before an endpoint sees a request, and the one form it refuses in:
/// `application/problem+json` everywhere but the JSON-RPC path, which keeps JSON-RPC errors.
@Suite struct HTTPStrictnessTests {
    static func problem(_ reply: HTTPReply) throws -> (status: Int, detail: String) {
        #expect(reply.headers["content-type"] == "application/problem+json")
        let body = try reply.json()
        #expect(body["type"] == "about:blank" && body["status"] == .number(JSONNumber(reply.status)))
        return (reply.status, body["detail"]?.stringValue ?? "")
    }

    @Test func endpointBodiesMustBeJSONByTheirContentType() async throws {
        try await withServer(routes: HTTPEndpointTests.routes) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port)
                // What a browser may send cross-origin without a preflight: refused, unseen by the endpoint.
                for type in ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                    let reply = try socket.request("POST", path: "/api/v1/orgs", body: #"{"a":1}"#, contentType: type)
                    #expect(reply.status == 415, "\(type)")
                    let detail = try Self.problem(reply).detail
                    #expect(detail.hasPrefix("the body's Content-Type is ") && detail.hasSuffix("send it as application/json or application/ld+json"), "\(detail)")
                }
                let missing = try socket.request("PUT", path: "/api/v1/orgs/1", body: #"{"a":1}"#, contentType: nil)
                #expect(try Self.problem(missing) == (415, "the body's Content-Type is missing; send it as application/json or application/ld+json"))
                // JSON and JSON-LD (with parameters) are taken; a body-less POST needs no type.
                #expect(try socket.request("POST", path: "/api/v1/orgs", body: "{}", contentType: "Application/JSON; charset=utf-8").status == 201)
                #expect(try socket.request("POST", path: "/api/v1/orgs", body: "{}", contentType: "application/ld+json").status == 201)
                #expect(try socket.request("POST", path: "/api/v1/orgs", contentType: nil).status == 201)
            }
        }
    }

    @Test func tooLargeAndUnknownPathsAreProblemsOffTheJSONRPCPath() async throws {
        try await withServer(routes: HTTPEndpointTests.routes, configure: { $0.maxBodyBytes = 1024 }) { server in
            try await offload { [port = server.port] in
                let big = String(repeating: " ", count: 2048)
                let rest = try LoopbackSocket(port: port).request("POST", path: "/api/v1/orgs", body: big)
                #expect(try Self.problem(rest) == (413, "the body is 2048 bytes; at most 1024 are taken"))
                let unknown = try LoopbackSocket(port: port).request("GET", path: "/nothing/here", contentType: nil)
                #expect(try Self.problem(unknown) == (404, "no resource at /nothing/here: JSON-RPC is served at /"))
                // The JSON-RPC path keeps JSON-RPC errors.
                let rpc = try LoopbackSocket(port: port).request(body: big)
                #expect(rpc.status == 413 && rpc.headers["content-type"] == "application/json")
                #expect(try rpc.json()["error"]?["code"] == -32600)
                let put = try LoopbackSocket(port: port).request("PUT", body: callBody("echo"))
                #expect(put.status == 405 && put.headers["allow"] == "POST, GET, OPTIONS" && put.headers["content-type"] == "application/json")
            }
        }
    }

    @Test func problemAnswersShareOneForm() throws {
        let answer = HTTPResponse.methodNotAllowed("DELETE", path: "/api/v1/x", allowed: ["GET", "POST"])
        #expect(answer.status == 405)
        #expect(answer.headers.contains { $0 == ("allow", "GET, POST") })
        #expect(try JSON.parse(answer.body) == ["type": "about:blank", "title": "Method Not Allowed", "status": 405,
                                                "detail": "DELETE is not served at /api/v1/x: use GET or POST"])
    }
}
