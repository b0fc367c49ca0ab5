import KramaaJSON
import Foundation
import KramaaRPC
import NIOConcurrencyHelpers

/// What the test methods saw, for assertions about things with no answer (notifications,
/// cancelled subscriptions).
final class Probe: Sendable {
    private let events = NIOLockedValueBox<[String]>([])

    func record(_ event: String) { events.withLockedValue { $0.append(event) } }
    var all: [String] { events.withLockedValue { $0 } }
    func contains(_ event: String) -> Bool { all.contains(event) }

    /// Polls until `event` is recorded or `seconds` pass.
    func wait(for event: String, seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if contains(event) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return contains(event)
    }
}

struct PlainFailure: Error, CustomStringConvertible {
    var description: String { "plain failure" }
}

struct PoolRefusal: RPCErrorConvertible {
    var rpcError: RPCError { .server("nonce too low") }
}

/// The methods the server tests call.
func testRouter(probe: Probe = Probe()) -> RPCRouter {
    var router = RPCRouter()
    router.register("echo") { params, _ in params.raw ?? .null }
    router.register("slow") { params, _ in
        probe.record("slow started")
        let millis = try params.decodeIfPresent(0, as: UInt64.self) ?? 500
        try await Task.sleep(for: .milliseconds(Int(millis)))
        return "slow done"
    }
    router.register("add") { params, _ in
        try params.expect(atMost: 2)
        let (a, b) = (try params.quantity(0), try params.quantity(1))
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw RPCError.server("overflow") }
        return .quantity(sum)
    }
    router.register("fail") { _, _ in
        throw RPCError(code: -32042, message: "custom failure", data: ["why": "test"])
    }
    router.register("failPlain") { _, _ in throw PlainFailure() }
    router.register("failPool") { _, _ in throw PoolRefusal() }
    router.register("revert") { _, _ in
        throw RPCError.executionReverted(reason: "nope", data: [0x08, 0xc3, 0x79, 0xa0])
    }
    router.register("notify") { params, _ in
        probe.record("notified \(params[0] ?? .null)")
        return .null
    }
    router.register("big") { params, _ in
        .string(String(repeating: "x", count: Int(try params.quantity(0))))
    }
    // Subscribes and emits `count` notifications (results 0x0, 0x1, …): the first half before the
    // call even returns, the rest from another task at once. The client must still get the
    // subscription id first.
    router.register("subscribeCount") { params, context in
        let count = try params.quantity(0)
        let subscription = try context.subscribe()
        subscription.onCancel { probe.record("cancelled \(subscription.id)") }
        for i in 0..<count / 2 { subscription.send(.quantity(i)) }
        Task {
            for i in count / 2..<count { subscription.send(.quantity(i)) }
        }
        return .string(subscription.id)
    }
    // Emits a notification every 5 ms until the subscription ends.
    router.register("subscribeTicks") { _, context in
        let subscription = try context.subscribe(notificationMethod: "test_tick")
        subscription.onCancel { probe.record("cancelled \(subscription.id)") }
        Task {
            var i: UInt64 = 0
            while subscription.send(.quantity(i)) {
                i += 1
                try? await Task.sleep(for: .milliseconds(5))
            }
            probe.record("producer stopped \(subscription.id)")
        }
        return .string(subscription.id)
    }
    // Emits 4 KiB notifications as fast as `send` accepts them, for a client that does not read.
    router.register("subscribeFlood") { _, context in
        let subscription = try context.subscribe()
        subscription.onCancel { probe.record("cancelled \(subscription.id)") }
        let payload = JSON.string(String(repeating: "f", count: 4096))
        Task {
            // Start once the id has gone out, so the drop comes from the unread socket.
            try? await Task.sleep(for: .milliseconds(50))
            var sent = 0
            while subscription.send(payload) {
                sent += 1
                if sent % 16 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
            }
            probe.record("flood stopped after \(sent)")
        }
        return .string(subscription.id)
    }
    // Subscribes, then fails: the subscription must be cancelled and never notify.
    router.register("subscribeThenFail") { _, context in
        let subscription = try context.subscribe()
        subscription.onCancel { probe.record("cancelled \(subscription.id)") }
        probe.record("made \(subscription.id)")
        throw RPCError.server("failed after subscribing")
    }
    router.register("unsubscribe") { params, context in
        .bool(try context.unsubscribe(try params.string(0)))
    }
    return router
}

/// Starts a server on an ephemeral port with the test methods, runs `body`, and shuts it down.
@discardableResult
func withServer<T: Sendable>(probe: Probe = Probe(), routes: HTTPRoutes = HTTPRoutes(),
                             configure: (inout RPCServer.Configuration) -> Void = { _ in },
                             _ body: (RPCServer) async throws -> T) async throws -> T {
    var configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.threads = 1
    configure(&configuration)
    let server = try await RPCServer.start(handler: testRouter(probe: probe), routes: routes, configuration: configuration)
    do {
        let result = try await body(server)
        await server.shutdown(gracePeriod: .seconds(2))
        return result
    } catch {
        await server.shutdown(gracePeriod: .seconds(2))
        throw error
    }
}

/// A JSON-RPC call body.
func callBody(_ method: String, _ params: String = "[]", id: String = "1") -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
}
