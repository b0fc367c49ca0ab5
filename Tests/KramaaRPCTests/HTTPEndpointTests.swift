import KramaaJSON
import Foundation
import KramaaRPC
import KramaaTestSupport
import Testing

/// Plain HTTP endpoints served next to JSON-RPC on the same port.
@Suite struct HTTPEndpointTests {
    /// Answers with what it received, so the tests can see the parsing.
    struct Echo: HTTPEndpoint {
        let name: String
        func respond(to request: HTTPRequest) async -> HTTPResponse {
            .json([
                "endpoint": .string(name), "method": .string(request.method), "path": .string(request.path),
                "query": .array(request.query.map { [.string($0.name), .string($0.value)] }),
                "body": .string(String(decoding: request.body, as: UTF8.self)),
                "accept": request.header("accept").map(JSON.string) ?? .null,
            ], status: request.method == "POST" ? 201 : 200, headers: [("location", "/x")])
        }
    }

    static var routes: HTTPRoutes {
        var routes = HTTPRoutes()
        routes.mount("/api/v1", Echo(name: "api"))
        routes.mount("/api/v1/special", Echo(name: "special"))
        routes.mount("/verify", Echo(name: "verify"))
        return routes
    }

    @Test func routesByLongestPrefixWithDecodedQueryAndBody() async throws {
        try await withServer(routes: Self.routes) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port)
                var reply = try socket.request("GET", path: "/api/v1/assets?epc=urn%3Aepc%3Aid%3Asgtin%3A1.2.3&x=a+b&flag",
                                               headers: ["Accept": "application/json"], contentType: nil)
                #expect(reply.status == 200)
                #expect(reply.headers["content-type"] == "application/json")
                #expect(try reply.json() == ["endpoint": "api", "method": "GET", "path": "/api/v1/assets",
                                              "query": [["epc", "urn:epc:id:sgtin:1.2.3"], ["x", "a b"], ["flag", ""]],
                                              "body": "", "accept": "application/json"])
                reply = try socket.request("POST", path: "/api/v1/special/thing", body: #"{"a":1}"#)
                #expect(reply.status == 201 && reply.headers["location"] == "/x")
                #expect(try reply.json()["endpoint"] == "special" && reply.json()["body"] == #"{"a":1}"#)
                reply = try socket.request("GET", path: "/verify?picc_data=AB&cmac=CD", contentType: nil)
                #expect(try reply.json()["endpoint"] == "verify")
                // JSON-RPC at / is unchanged on the same connection.
                reply = try socket.request(body: callBody("echo", "[7]"))
                #expect(try reply.json()["result"] == [7])
            }
        }
    }

    @Test func pathsOutsideEveryPrefixAreNotFound() async throws {
        try await withServer(routes: Self.routes) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port)
                for path in ["/api/v10", "/apiv1", "/nothing", "/verifyx"] {
                    #expect(try socket.request("GET", path: path, contentType: nil).status == 404, "\(path)")
                }
            }
        }
    }

    @Test func oversizedBodiesAreRefusedBeforeTheEndpointRuns() async throws {
        try await withServer(routes: Self.routes, configure: { $0.maxBodyBytes = 100 }) { server in
            try await offload { [port = server.port] in
                let reply = try LoopbackSocket(port: port).request("POST", path: "/api/v1/x", body: String(repeating: "a", count: 500))
                #expect(reply.status == 413)
            }
        }
    }
}
