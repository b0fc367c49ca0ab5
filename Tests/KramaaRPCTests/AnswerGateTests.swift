import KramaaJSON
import Testing
@testable import KramaaRPC

/// `RPCContext.holdAnswer`: an answer waits for its gates; in a batch every call runs first and
/// the gates are awaited together before the batch is answered (what lets eth_sendRawTransaction
/// share one journal sync per batch); a failing gate turns that call's answer into its error.
@Suite struct AnswerGateTests {
    /// `held` answers its argument once its gate ran; `held` with "fail" gets a failing gate.
    func router(_ probe: Probe) -> RPCRouter {
        var r = RPCRouter()
        r.register("held") { p, context in
            let name = try p.decode(0, as: String.self)
            probe.record("call \(name)")
            try await context.holdAnswer {
                probe.record("gate \(name)")
                if name == "fail" { throw RPCError.server("not durable: \(name)") }
            }
            return .string(name)
        }
        return r
    }

    @Test func aBatchRunsEveryCallBeforeTheGatesAndReplacesTheFailedAnswer() async throws {
        let probe = Probe()
        let dispatcher = RPCDispatcher(handler: router(probe))
        let body = "[" + ["a", "fail", "c"].enumerated().map { i, name in callBody("held", #"["\#(name)"]"#, id: String(i)) }
            .joined(separator: ",") + "]"
        let text = try #require(await dispatcher.respond(to: body))
        #expect(probe.all == ["call a", "call fail", "call c", "gate a", "gate fail", "gate c"])
        let answers = try JSON.parse(text)
        #expect(answers[0]?["result"] == .string("a"))
        #expect(answers[1]?["error"]?["message"] == .string("not durable: fail"))
        #expect(answers[1]?["result"] == nil)
        #expect(answers[2]?["result"] == .string("c"))
    }

    @Test func aSingleCallWaitsForItsGate() async throws {
        let probe = Probe()
        let dispatcher = RPCDispatcher(handler: router(probe))
        #expect(await dispatcher.respond(to: callBody("held", #"["x"]"#)) == #"{"jsonrpc":"2.0","id":1,"result":"x"}"#)
        #expect(probe.all == ["call x", "gate x"])
        let failed = try JSON.parse(try #require(await dispatcher.respond(to: callBody("held", #"["fail"]"#))))
        #expect(failed["error"]?["message"] == .string("not durable: fail"))
        // called directly (no dispatcher), the gate runs at once
        let direct = try await router(probe).handle(RPCRequest(method: "held", params: RPCParams(.array([.string("y")]))), context: .inProcess())
        #expect(direct == .string("y"))
        #expect(probe.all.suffix(2) == ["call y", "gate y"])
    }
}
