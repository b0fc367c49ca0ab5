import Foundation
import KramaaRPC
import KramaaTestSupport
import Testing

/// The server over real loopback sockets, WebSocket side.
@Suite struct WebSocketServerTests {
    @Test func callsAndBatchesOverWebSocket() async throws {
        try await withServer { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                #expect(try ws.call(callBody("add", #"["0x2","0x2"]"#, id: #""w""#)) == ["jsonrpc": "2.0", "id": "w", "result": "0x4"])
                let batch = try ws.call("[\(callBody("echo", "[1]", id: "1")),\(callBody("nope", id: "2"))]")
                #expect(batch.arrayValue?.count == 2 && batch[1]?["error"]?["code"] == -32601)
                #expect(try ws.call("{oops")["error"]?["code"] == -32700)
                #expect(try ws.call("[]")["error"]?["message"] == "empty batch")
                // Binary messages are read as JSON too.
                try ws.sendFrame(opcode: 0x2, payload: Array(callBody("echo", "[7]").utf8))
                #expect(try ws.readJSON()["result"] == [7])
                // A fragmented message is reassembled.
                let text = Array(callBody("echo", "[8]").utf8)
                try ws.sendFrame(opcode: 0x1, payload: Array(text[0..<10]), fin: false)
                try ws.sendFrame(opcode: 0x0, payload: Array(text[10...]))
                #expect(try ws.readJSON()["result"] == [8])
                // Ping is answered with the same payload.
                try ws.sendFrame(opcode: 0x9, payload: [1, 2, 3])
                let pong = try ws.readFrame()
                #expect(pong.opcode == 0xA && pong.payload == [1, 2, 3])
            }
        }
    }

    @Test func webSocketsAreNotClosedForIdleness() async throws {
        try await withServer(configure: { $0.idleTimeout = .milliseconds(200) }) { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                Thread.sleep(forTimeInterval: 0.7)
                #expect(try ws.call(callBody("echo", "[1]"))["result"] == [1])
            }
        }
    }

    @Test func notificationsAreNotAnsweredOverWebSocket() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                try ws.sendText(#"{"jsonrpc":"2.0","method":"notify","params":["ws"]}"#)
                // The next message is the answer to the next call, not something for the notification.
                #expect(try ws.call(callBody("echo", "[1]", id: #""after""#))["id"] == "after")
            }
            #expect(probe.contains(#"notified "ws""#))
        }
    }

    @Test func subscriptionDeliversIdFirstThenNotificationsInOrder() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                for round in 0..<5 {
                    let answer = try ws.call(callBody("subscribeCount", #"["0x64"]"#, id: "\(round)"))
                    let id = try #require(answer["result"]?.stringValue, "\(answer)")
                    #expect(id.hasPrefix("0x") && id.count == 34)
                    for i in 0..<100 {
                        let note = try ws.readJSON()
                        #expect(note == ["jsonrpc": "2.0", "method": "eth_subscription",
                                         "params": ["subscription": .string(id), "result": .quantity(UInt64(i))]])
                    }
                }
            }
        }
    }

    @Test func unsubscribeStopsNotifications() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            let id = try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                let id = try ws.subscribe()
                let first = try ws.readJSON()
                #expect(first["method"] == "test_tick" && first["params"]?["subscription"] == .string(id))
                try ws.sendText(callBody("unsubscribe", "[\"\(id)\"]", id: #""u""#))
                // Ticks already queued may arrive before the answer; none after it.
                var answer = try ws.readJSON()
                while answer["method"] == "test_tick" { answer = try ws.readJSON() }
                #expect(answer == ["jsonrpc": "2.0", "id": "u", "result": true])
                #expect(try ws.call(callBody("unsubscribe", "[\"\(id)\"]"))["result"] == false)
                #expect(try ws.call(callBody("echo", "[1]", id: #""last""#))["id"] == "last")
                return id
            }
            #expect(await probe.wait(for: "cancelled \(id)"))
            #expect(await probe.wait(for: "producer stopped \(id)"))
        }
    }

    @Test func closingTheConnectionCancelsItsSubscriptions() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            let ids = try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                let ids = try (0..<3).map { try ws.subscribe(id: "\($0)") }
                _ = try ws.readJSON()
                return ids  // the socket closes here, without a close frame
            }
            for id in ids {
                #expect(await probe.wait(for: "cancelled \(id)"), "\(id)")
                #expect(await probe.wait(for: "producer stopped \(id)"), "\(id)")
            }
        }
    }

    @Test func closeFrameIsEchoed() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            let id = try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                let id = try ws.subscribe()
                try ws.sendFrame(opcode: 0x8, payload: [0x03, 0xe8])
                var frame = try ws.readFrame()
                while frame.opcode == 0x1 { frame = try ws.readFrame() }
                #expect(frame.opcode == 0x8 && frame.payload == [0x03, 0xe8])
                #expect(try ws.socket.waitForClose())
                return id
            }
            #expect(await probe.wait(for: "cancelled \(id)"))
        }
    }

    @Test func failedSubscribeCallLeavesNoSubscription() async throws {
        let probe = Probe()
        try await withServer(probe: probe) { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                #expect(try ws.call(callBody("subscribeThenFail"))["error"]?["message"] == "failed after subscribing")
            }
            let made = try #require(probe.all.first { $0.hasPrefix("made ") }?.dropFirst(5))
            #expect(await probe.wait(for: "cancelled \(made)"))
        }
    }

    @Test func slowClientIsDisconnected() async throws {
        let probe = Probe()
        try await withServer(probe: probe, configure: { $0.maxWebSocketPendingBytes = 1024 * 1024 }) { server in
            let id = try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port, timeoutSeconds: 20)
                let id = try ws.subscribe("subscribeFlood")
                return (id, ws)  // stop reading; keep the socket open
            }
            #expect(await probe.wait(for: "cancelled \(id.0)", seconds: 20))
            let stopped = try #require(probe.all.first { $0.hasPrefix("flood stopped after ") })
            let sent = try #require(Int(stopped.dropFirst("flood stopped after ".count)))
            // The kernel's socket buffers take some; what the server queued is bounded by the limit.
            #expect(sent > 256 && sent < 20_000, "\(sent) notifications accepted before the drop")
            let closed = try await offload { [ws = id.1] in try ws.socket.waitForClose() }
            #expect(closed)
        }
    }

    @Test func slowCallDoesNotBlockTheSameConnection() async throws {
        try await withServer { server in
            try await offload { [port = server.port] in
                let ws = try LoopbackWebSocket(port: port)
                try ws.sendText(callBody("slow", #"["0x3e8"]"#, id: #""slow""#))
                try ws.sendText(callBody("echo", "[1]", id: #""fast""#))
                #expect(try ws.readJSON()["id"] == "fast")
                #expect(try ws.readJSON()["id"] == "slow")
            }
        }
    }

    @Test func oversizedMessageClosesWith1009() async throws {
        try await withServer(configure: { $0.maxWebSocketMessageBytes = 1024 }) { server in
            try await offload { [port = server.port] in
                let single = try LoopbackWebSocket(port: port)
                try single.sendText(callBody("echo", "[\"" + String(repeating: "a", count: 2000) + "\"]"))
                let close = try single.readFrame()
                #expect(close.opcode == 0x8 && close.payload == [0x03, 0xf1])
                let fragmented = try LoopbackWebSocket(port: port)
                for i in 0..<3 { try fragmented.sendFrame(opcode: i == 0 ? 0x1 : 0x0, payload: [UInt8](repeating: 0x20, count: 500), fin: false) }
                let close2 = try fragmented.readFrame()
                #expect(close2.opcode == 0x8 && close2.payload == [0x03, 0xf1])
                #expect(try LoopbackWebSocket(port: port).call(callBody("echo", "[1]"))["result"] == [1])
            }
        }
    }

    @Test func upgradeRefusals() async throws {
        try await withServer(configure: { $0.allowedOrigins = ["https://good.example"] }) { server in
            try await offload { [port = server.port] () throws -> Void in
                #expect(throws: LoopbackClientError.self) { _ = try LoopbackWebSocket(port: port, path: "/elsewhere") }
                #expect(throws: LoopbackClientError.self) { _ = try LoopbackWebSocket(port: port, origin: "https://evil.example") }
                #expect(try LoopbackWebSocket(port: port, origin: "https://good.example").call(callBody("echo"))["id"] == 1)
            }
        }
        try await withServer(configure: { $0.webSocketEnabled = false }) { server in
            try await offload { [port = server.port] in
                #expect(throws: LoopbackClientError.self) { _ = try LoopbackWebSocket(port: port) }
            }
        }
    }

    @Test func shutdownClosesWebSocketsWithGoingAway() async throws {
        let probe = Probe()
        let server = try await RPCServer.start(handler: testRouter(probe: probe), configuration: .init(host: "127.0.0.1", port: 0))
        let port = server.port
        let (ws, id) = try await offload {
            let ws = try LoopbackWebSocket(port: port)
            return (ws, try ws.subscribe())
        }
        await server.shutdown(gracePeriod: .seconds(5))
        try await offload {
            var frame = try ws.readFrame()
            while frame.opcode == 0x1 { frame = try ws.readFrame() }
            #expect(frame.opcode == 0x8 && frame.payload == [0x03, 0xe9])
        }
        #expect(await probe.wait(for: "cancelled \(id)"))
    }
}
