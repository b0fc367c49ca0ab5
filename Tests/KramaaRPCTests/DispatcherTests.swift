import KramaaJSON
import Testing
@testable import KramaaRPC

/// The JSON-RPC codec without sockets.
@Suite struct DispatcherTests {
    let dispatcher = RPCDispatcher(handler: testRouter())

    func answer(_ body: String, limits: RPCDispatcher.Limits? = nil) async throws -> JSON? {
        let dispatcher = limits.map { RPCDispatcher(handler: testRouter(), limits: $0) } ?? self.dispatcher
        guard let text = await dispatcher.respond(to: body) else { return nil }
        return try JSON.parse(text)
    }

    @Test func singleCall() async throws {
        let text = await dispatcher.respond(to: callBody("echo", #"["a",{"b":[1,2]}]"#, id: "7"))
        #expect(text == #"{"jsonrpc":"2.0","id":7,"result":["a",{"b":[1,2]}]}"#)
        #expect(await dispatcher.respond(to: callBody("add", #"["0x2","0x3"]"#)) == #"{"jsonrpc":"2.0","id":1,"result":"0x5"}"#)
        // No params, null params.
        #expect(try await answer(#"{"jsonrpc":"2.0","id":1,"method":"echo"}"#)?["result"] == .null)
        #expect(try await answer(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":null}"#)?["result"] == .null)
    }

    /// A method that writes its own JSON: the dispatcher has it write into the envelope; an
    /// in-process caller of `handle` gets it parsed.
    @Test func writtenResultsGoOutAsWritten() async throws {
        var router = RPCRouter()
        router.registerWriting("raw") { _, _ in WrittenJSON(size: 4) { $0.writeRaw(#"[{"a":"0x1"},true]"#) } }
        let dispatcher = RPCDispatcher(handler: router)
        #expect(await dispatcher.respond(to: callBody("raw", "[]", id: "3")) == #"{"jsonrpc":"2.0","id":3,"result":[{"a":"0x1"},true]}"#)
        #expect(try await router.handle(RPCRequest(method: "raw"), context: .inProcess()) == [["a": "0x1"], true])
    }

    /// A batch's preparation sees the arguments of its calls of that method, once and before
    /// any call runs; a single call is not prepared, and a method without one is not affected.
    @Test func aBatchIsPreparedOnceBeforeItsCallsRun() async throws {
        let probe = Probe()
        var router = RPCRouter()
        router.register("take") { p, _ in
            probe.record("call \(try p.decode(0, as: UInt64.self))")
            return .bool(true)
        }
        router.register("other") { _, _ in .null }
        router.registerBatchPreparation("take") { params, _ in
            probe.record("prepare " + params.map { (try? $0.decode(0, as: UInt64.self)).map(String.init) ?? "?" }.joined(separator: ","))
        }
        let dispatcher = RPCDispatcher(handler: router)
        let body = "[" + [callBody("take", #"["0x1"]"#, id: "1"), callBody("other", id: "2"), "5",
                          callBody("take", #"["0x2"]"#, id: "3")].joined(separator: ",") + "]"
        let text = try #require(await dispatcher.respond(to: body))
        #expect(try JSON.parse(text).arrayValue?.count == 4)
        #expect(probe.all == ["prepare 1,2", "call 1", "call 2"])
        _ = await dispatcher.respond(to: callBody("take", #"["0x3"]"#, id: "4"))
        #expect(probe.all.last == "call 3", "a single call runs without a preparation")
    }

    @Test func idsAreEchoedExactly() async throws {
        for id in [#""abc""#, #""""#, "0", "-1.50e3", "18446744073709551617", "null", #""\u00e9""#] {
            let text = try #require(await dispatcher.respond(to: callBody("echo", id: id)))
            let expected = try JSON.parse(id).description
            #expect(text.hasPrefix(#"{"jsonrpc":"2.0","id":\#(expected),"result""#), "\(id) → \(text)")
        }
        // Numbers are not rewritten, even when they would read back as the same Double.
        #expect(await dispatcher.respond(to: callBody("echo", id: "1.0"))?.contains(#""id":1.0,"#) == true)
    }

    @Test func notificationsAreRunButNotAnswered() async throws {
        let probe = Probe()
        let dispatcher = RPCDispatcher(handler: testRouter(probe: probe))
        #expect(await dispatcher.respond(to: #"{"jsonrpc":"2.0","method":"notify","params":["one"]}"#) == nil)
        #expect(probe.contains(#"notified "one""#))
        // Even a failing notification is silent.
        #expect(await dispatcher.respond(to: #"{"jsonrpc":"2.0","method":"nope"}"#) == nil)
        // A batch of notifications only: nothing at all, not "[]".
        #expect(await dispatcher.respond(to: #"[{"jsonrpc":"2.0","method":"notify","params":[2]},{"jsonrpc":"2.0","method":"notify","params":[3]}]"#) == nil)
        #expect(probe.contains("notified 2") && probe.contains("notified 3"))
    }

    @Test func batchesAnswerInOrderSkippingNotifications() async throws {
        let body = "[" + [callBody("add", #"["0x1","0x1"]"#, id: "1"), #"{"jsonrpc":"2.0","method":"notify","params":[0]}"#,
                          callBody("nope", id: #""x""#), "5", callBody("fail", id: "4")].joined(separator: ",") + "]"
        let answers = try #require(try await answer(body)?.arrayValue)
        #expect(answers.count == 4)
        #expect(answers[0] == ["jsonrpc": "2.0", "id": 1, "result": "0x2"])
        #expect(answers[1] == ["jsonrpc": "2.0", "id": "x", "error": ["code": -32601, "message": "the method nope does not exist/is not available"]])
        #expect(answers[2] == ["jsonrpc": "2.0", "id": nil, "error": ["code": -32600, "message": "invalid request"]])
        #expect(answers[3]["error"] == ["code": -32042, "message": "custom failure", "data": ["why": "test"]])
    }

    @Test func invalidRequests() async throws {
        let invalid: JSON = ["code": -32600, "message": "invalid request"]
        let cases: [(String, JSON)] = [
            (#"{"id":1,"method":"echo"}"#, 1),                        // no version
            (#"{"jsonrpc":"1.0","id":2,"method":"echo"}"#, 2),        // wrong version
            (#"{"jsonrpc":"2.0","id":3}"#, 3),                        // no method
            (#"{"jsonrpc":"2.0","id":4,"method":""}"#, 4),            // empty method
            (#"{"jsonrpc":"2.0","id":5,"method":7}"#, 5),             // method not a string
            (#"{"jsonrpc":"2.0","id":[1],"method":"echo"}"#, nil),    // array id
            (#"{"jsonrpc":"2.0","id":{"a":1},"method":"echo"}"#, nil), // object id
            ("42", nil), (#""call""#, nil), ("null", nil),
        ]
        for (body, id) in cases {
            #expect(try await answer(body) == ["jsonrpc": "2.0", "id": id, "error": invalid], "\(body)")
        }
    }

    @Test func parseErrors() async throws {
        for body in ["", "{", #"{"jsonrpc":"2.0","#, "[1,2", "nul", "\u{7}"] {
            let reply = try #require(try await answer(body), "\(body)")
            #expect(reply["id"] == .null && reply["error"]?["code"] == -32700 && reply["error"]?["message"] == "parse error", "\(body)")
            #expect(reply["error"]?["data"]?.stringValue != nil)
        }
    }

    @Test func batchLimits() async throws {
        #expect(try await answer("[]") == ["jsonrpc": "2.0", "id": nil, "error": ["code": -32600, "message": "empty batch"]])
        var limits = RPCDispatcher.Limits()
        limits.maxBatchItems = 3
        let four = "[" + (["1", callBody("echo", id: #""first""#), callBody("echo", id: "2"), callBody("echo", id: "3")]).joined(separator: ",") + "]"
        #expect(try await answer(four, limits: limits) == [["jsonrpc": "2.0", "id": "first", "error": ["code": -32600, "message": "batch too large"]]])
        let three = "[" + (1...3).map { callBody("echo", id: "\($0)") }.joined(separator: ",") + "]"
        #expect(try await answer(three, limits: limits)?.arrayValue?.count == 3)
        // geth's default: 1000 calls pass, 1001 do not.
        let calls = (0..<1001).map { callBody("echo", id: "\($0)") }
        #expect(try await answer("[" + calls.dropLast().joined(separator: ",") + "]")?.arrayValue?.count == 1000)
        #expect(try await answer("[" + calls.joined(separator: ",") + "]")?[0]?["error"]?["message"] == "batch too large")
    }

    @Test func batchResponseSizeLimit() async throws {
        var limits = RPCDispatcher.Limits()
        limits.maxBatchResponseBytes = 5000
        let body = "[" + (1...4).map { callBody("big", #"["0x7d0"]"#, id: "\($0)") }.joined(separator: ",") + "]"
        let answers = try #require(try await answer(body, limits: limits)?.arrayValue)
        #expect(answers.count == 4)
        // 2000-byte results: the first three fit under 5000 bytes written before them, the fourth is refused.
        #expect(answers[0..<3].allSatisfy { $0["result"]?.stringValue?.count == 2000 })
        #expect(answers[3] == ["jsonrpc": "2.0", "id": 4, "error": ["code": -32003, "message": "response too large"]])
    }

    /// One answer alone is bounded too: past the limit it is replaced by -32003 saying what to do.
    @Test func singleResponseSizeLimit() async throws {
        var limits = RPCDispatcher.Limits()
        limits.maxResponseBytes = 1000
        #expect(try await answer(callBody("big", #"["0x3e8"]"#, id: "7"), limits: limits)?["error"] == [
            "code": -32003, "message": "response too large",
            "data": "the answer to big passes 1000 bytes: ask for less (a smaller range, fewer items)",
        ])
        #expect(try await answer(callBody("big", #"["0x64"]"#), limits: limits)?["result"]?.stringValue?.count == 100)
    }

    @Test func handlerErrorsMapToGethCodes() async throws {
        #expect(try await answer(callBody("failPlain"))?["error"] == ["code": -32000, "message": "plain failure"])
        #expect(try await answer(callBody("failPool"))?["error"] == ["code": -32000, "message": "nonce too low"])
        #expect(try await answer(callBody("revert"))?["error"] == ["code": 3, "message": "execution reverted: nope", "data": "0x08c379a0"])
        #expect(try await answer(callBody("add", #"["0x1","1"]"#))?["error"]
            == ["code": -32602, "message": "invalid argument 1: json: cannot unmarshal hex string without 0x prefix into Go value of type hexutil.Uint64"])
        #expect(try await answer(callBody("add", #"["0x1","0x1","0x1"]"#))?["error"]
            == ["code": -32602, "message": "too many arguments, want at most 2"])
        #expect(RPCError.executionReverted(reason: nil, data: []).message == "execution reverted")
    }

    @Test func subscriptionsNeedAConnection() async throws {
        #expect(try await answer(callBody("subscribeCount", #"["0x1"]"#))?["error"] == ["code": -32601, "message": "notifications not supported"])
        #expect(try await answer(callBody("unsubscribe", #"["0x1"]"#))?["error"]?["message"] == "notifications not supported")
        #expect(!RPCContext.inProcess().supportsSubscriptions)
    }

    @Test func routerListsItsMethods() {
        #expect(testRouter().methodNames.contains("echo"))
        #expect(testRouter().methodNames == testRouter().methodNames.sorted())
    }
}
