import KramaaJSON
import Foundation
import KramaaRPC
import KramaaTestSupport
import Testing

/// The server's limits on misbehaving clients, over real sockets: each test has one client
/// misbehave and checks that the server bounds it (closes, refuses) while another client keeps
/// being answered. The bounds here are loose (seconds), since every suite shares the machine when
/// the whole test run goes in parallel; the figures in docs/LIMITS.md (milliseconds) come from
/// tests/python/test_limits.py on a real node.
@Suite struct ServerLimitsTests {
    /// How long another client may wait, and a bounded client may take to be cut off, while the
    /// whole suite runs in parallel on two cores (CPU-bound suites beside these take seconds of
    /// scheduling at a time); far below the 120 s idle timeout the deadlines replace.
    static let loadedBound = 20.0

    /// Seconds a well-behaved call takes on a fresh connection.
    static func timedCall(port: Int) throws -> Double {
        let started = Date()
        let reply = try LoopbackSocket(port: port, timeoutSeconds: 30).request(body: callBody("echo", "[1]"))
        #expect(try reply.json()["result"] == [1])
        return Date().timeIntervalSince(started)
    }

    @Test func slowlorisHeadersAreCutOffAtTheHeaderTimeout() async throws {
        try await withServer(configure: { $0.headerTimeout = .milliseconds(400) }) { server in
            try await offload { [port = server.port] in
                let slow = try LoopbackSocket(port: port, timeoutSeconds: 30)
                try slow.send("POST / HTTP/1.1\r\nHost: x\r\n")
                let started = Date()
                var closedAfter: Double?
                var worst = 0.0
                // One header byte every 50 ms: each byte would reset an idle timer, not this deadline.
                for _ in 0..<120 {
                    do { try slow.send("X") } catch {
                        closedAfter = Date().timeIntervalSince(started)
                        break
                    }
                    worst = max(worst, try Self.timedCall(port: port))
                    Thread.sleep(forTimeInterval: 0.05)
                }
                if closedAfter == nil, try slow.waitForClose() { closedAfter = Date().timeIntervalSince(started) }
                #expect(closedAfter != nil && closedAfter! < Self.loadedBound, "closed after \(String(describing: closedAfter)) s")
                #expect(worst < Self.loadedBound, "another client waited \(worst) s")
            }
        }
    }

    /// A connection that never sends a request is dropped at the header deadline, not held for
    /// the (longer) idle timeout.
    @Test func silentNewConnectionsAreDroppedAtTheHeaderTimeout() async throws {
        try await withServer(configure: { $0.headerTimeout = .milliseconds(300); $0.idleTimeout = .seconds(60) }) { server in
            try await offload { [port = server.port] in
                let silent = try LoopbackSocket(port: port, timeoutSeconds: 30)
                let started = Date()
                #expect(try silent.waitForClose())
                #expect(Date().timeIntervalSince(started) < Self.loadedBound)
            }
        }
    }

    /// On a connection reused for several requests the deadlines stay those of the current
    /// phase: idle longer than the header timeout, it is kept (the idle timeout is longer) and
    /// answers again; a head trickled on it is then cut at the header timeout.
    @Test func aReusedConnectionKeepsEachPhasesDeadline() async throws {
        try await withServer(configure: { $0.headerTimeout = .milliseconds(300); $0.idleTimeout = .seconds(60) }) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port, timeoutSeconds: 30)
                for i in 0..<3 { #expect(try socket.request(body: callBody("echo", "[\(i)]")).json()["result"] == [.number(JSONNumber(i))]) }
                Thread.sleep(forTimeInterval: 1.0)
                #expect(try socket.request(body: callBody("echo", "[7]")).json()["result"] == [7], "idle for 1 s, under the 60 s idle timeout")
                try socket.send("POST / HTTP/1.1\r\nHost: x\r\n")
                let started = Date()
                var closedAfter: Double?
                for _ in 0..<120 {
                    do { try socket.send("X") } catch {
                        closedAfter = Date().timeIntervalSince(started)
                        break
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                if closedAfter == nil, try socket.waitForClose() { closedAfter = Date().timeIntervalSince(started) }
                #expect(closedAfter != nil && closedAfter! < Self.loadedBound, "closed after \(String(describing: closedAfter)) s")
            }
        }
    }

    /// A client that asks for a large answer and never reads it is disconnected at the write
    /// timeout, so the unread answer is not held.
    @Test func unreadAnswersAreDroppedAtTheWriteTimeout() async throws {
        try await withServer(configure: { $0.writeTimeout = .milliseconds(500) }) { server in
            try await offload { [port = server.port] in
                let reader = try LoopbackSocket(port: port, timeoutSeconds: 30)
                #expect(try reader.request(body: callBody("echo", "[1]")).status == 200)
                let lazy = try LoopbackSocket(port: port, timeoutSeconds: 30)
                try lazy.send(LoopbackSocket.requestText(body: callBody("big", #"["0x1000000"]"#)))  // 16 MiB, never read
                let started = Date()
                Thread.sleep(forTimeInterval: 0.2)
                #expect(server.connectionCount == 2)
                while server.connectionCount > 1 && Date().timeIntervalSince(started) < 30 { Thread.sleep(forTimeInterval: 0.05) }
                #expect(server.connectionCount == 1, "the lazy reader was not disconnected")
                #expect(Date().timeIntervalSince(started) < Self.loadedBound)
                #expect(try reader.request(body: callBody("echo", "[2]")).status == 200)
            }
        }
    }

    @Test func halfSentBodiesAreCutOffAtTheBodyTimeout() async throws {
        try await withServer(configure: { $0.bodyTimeout = .milliseconds(300); $0.idleTimeout = .seconds(60) }) { server in
            try await offload { [port = server.port] in
                let partial = try LoopbackSocket(port: port, timeoutSeconds: 30)
                try partial.send("POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                let started = Date()
                #expect(try Self.timedCall(port: port) < Self.loadedBound)
                #expect(try partial.waitForClose())
                #expect(Date().timeIntervalSince(started) < Self.loadedBound)
            }
        }
    }

    /// Deadlines never cut a call short: pipelined calls each longer than the idle timeout are
    /// all answered (the next call starts as the previous answer is written).
    @Test func pipelinedSlowCallsOutliveTheIdleTimeout() async throws {
        try await withServer(configure: { $0.idleTimeout = .milliseconds(200); $0.bodyTimeout = .milliseconds(200) }) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port, timeoutSeconds: 30)
                try socket.send((0..<3).map { LoopbackSocket.requestText(body: callBody("slow", #"["0x190"]"#, id: "\($0)")) }.joined())
                for i in 0..<3 {
                    let reply = try socket.readResponse().json()
                    #expect(reply["id"] == .number(JSONNumber(i)) && reply["result"] == "slow done")
                }
            }
        }
    }

    @Test func unfinishedBodiesShareOneServerWideBudget() async throws {
        try await withServer(configure: {
            $0.maxBodyBytes = 256 * 1024
            $0.maxPendingRequestBytes = 1024 * 1024
        }) { server in
            try await offload { [port = server.port] in
                // Each sends a head and 200 KB of a 256 KB body, then stops.
                let head = "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: \(256 * 1024)\r\n\r\n"
                let part = head + String(repeating: " ", count: 200 * 1024)
                var holders: [LoopbackSocket] = []
                var refused: HTTPReply?
                for _ in 0..<12 {
                    let socket = try LoopbackSocket(port: port, timeoutSeconds: 1)
                    try socket.send(part)
                    holders.append(socket)
                    #expect(try Self.timedCall(port: port) < Self.loadedBound)
                    #expect(server.pendingRequestBytes <= 1024 * 1024)
                }
                // The connections past the budget were answered 503 and closed.
                var closed = 0
                for socket in holders {
                    if let reply = try? socket.readResponse() {
                        refused = reply
                        #expect(try socket.waitForClose())
                        closed += 1
                    }
                }
                #expect(closed >= 6, "\(closed) of 12 refused")
                #expect(refused?.status == 503 && refused?.headers["connection"] == "close")
                let message = try refused?.json()["error"]?["message"]?.stringValue ?? ""
                #expect(message.hasPrefix("the server is holding too many unfinished requests (1048576 bytes)"), "\(message)")
                // Closing the holders gives the budget back.
                holders.removeAll()
                for _ in 0..<50 where server.pendingRequestBytes > 0 { Thread.sleep(forTimeInterval: 0.02) }
                #expect(server.pendingRequestBytes == 0)
                let whole = try LoopbackSocket(port: port, timeoutSeconds: 30).request(body: callBody("echo", "[3]") + String(repeating: " ", count: 200 * 1024))
                #expect(try whole.json()["result"] == [3])
            }
        }
    }

    @Test func webSocketUpgradeNeedsAValidKey() async throws {
        try await withServer { server in
            try await offload { [port = server.port] in
                let base = ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"]
                for key in [nil, "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZSE=", "!!!!!!!!!!!!!!!!!!!!!!==", ""] {
                    var headers = base
                    if let key { headers["Sec-WebSocket-Key"] = key }
                    let socket = try LoopbackSocket(port: port)
                    let reply = try socket.request("GET", headers: headers, contentType: nil)
                    #expect(reply.status == 400, "\(String(describing: key))")
                    let message = try reply.json()["error"]?["message"]?.stringValue ?? ""
                    #expect(message.hasPrefix("invalid upgrade request: ") && message.contains("Sec-WebSocket-Key"), "\(message)")
                }
                let ws = try LoopbackWebSocket(port: port)
                #expect(try ws.answer(to: callBody("echo", "[4]"))["result"] == [4])
            }
        }
    }

    @Test func webSocketFramesHaveTheSameDeadlineAndBudget() async throws {
        try await withServer(configure: {
            $0.bodyTimeout = .milliseconds(300)
            $0.maxBodyBytes = 256 * 1024
            $0.maxPendingRequestBytes = 512 * 1024
        }) { server in
            try await offload { [port = server.port] in
                // A frame announcing 100 KB, of which 10 KB arrive: closed at the deadline.
                let stalled = try LoopbackWebSocket(port: port, timeoutSeconds: 30)
                try stalled.socket.send(Self.frameHead(length: 100_000) + [UInt8](repeating: 0x20, count: 10_000))
                let started = Date()
                #expect(try Self.timedCall(port: port) < Self.loadedBound)
                #expect(try stalled.socket.waitForClose())
                #expect(Date().timeIntervalSince(started) < Self.loadedBound)
                // A frame larger than the whole budget: closed with 1013 (try again later).
                let flood = try LoopbackWebSocket(port: port, timeoutSeconds: 30)
                try flood.socket.send(Self.frameHead(length: 1_000_000) + [UInt8](repeating: 0x20, count: 600_000))
                let close = try flood.readFrame()
                #expect(close.opcode == 0x8 && close.payload.prefix(2) == [0x03, 0xf5])
                #expect(try Self.timedCall(port: port) < Self.loadedBound)
                // Pings between messages are not a partial message: a quiet, pinging client stays.
                let quiet = try LoopbackWebSocket(port: port, timeoutSeconds: 30)
                for _ in 0..<4 {
                    try quiet.sendFrame(opcode: 0x9, payload: [1])
                    #expect(try quiet.readFrame().opcode == 0xA)
                    Thread.sleep(forTimeInterval: 0.15)
                }
                #expect(try quiet.answer(to: callBody("echo", "[5]"))["result"] == [5])
            }
        }
    }

    /// A masked text frame's head for a payload of `length` bytes (64-bit length form).
    static func frameHead(length: Int) -> [UInt8] {
        [0x81, 0x80 | 127] + (0..<8).reversed().map { UInt8((length >> ($0 * 8)) & 0xff) } + [0, 0, 0, 0]
    }

    @Test func corsClosedAllowsSameOriginAndClientsWithoutOrigin() async throws {
        try await withServer(routes: HTTPEndpointTests.routes, configure: { $0.allowedOrigins = [] }) { server in
            try await offload { [port = server.port] in
                let socket = try LoopbackSocket(port: port)
                let foreign = try socket.request(body: callBody("echo"), headers: ["Origin": "https://evil.example"])
                #expect(foreign.status == 403 && foreign.headers["access-control-allow-origin"] == nil)
                let rest = try socket.request(path: "/api/v1/x", body: "{}", headers: ["Origin": "https://evil.example"])
                #expect(rest.status == 403 && rest.headers["content-type"] == "application/problem+json")
                #expect(try LoopbackSocket(port: port, timeoutSeconds: 30).request(body: callBody("echo", "[1]")).json()["result"] == [1])
                // A page the node served itself (Origin = its Host) is not cross-origin.
                let own = try LoopbackSocket(port: port, timeoutSeconds: 30).request(body: callBody("echo", "[2]"), headers: ["Origin": "http://127.0.0.1"])
                #expect(try own.json()["result"] == [2])
            }
        }
    }
}
