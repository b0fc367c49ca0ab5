import Foundation
import KramaaDashboard
import KramaaPrimitives
import KramaaRPC
import Testing

/// The anchor receipt download: built by the node's builder, given as a file, and bounded (each
/// build holds a thread waiting on parent chains).
@Suite struct AnchorReceiptDownloadTests {
    final class Gate: @unchecked Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
    }

    @Test func atMostTwoReceiptsAreBuiltAtOnceAndTheRestAreToldToRetry() async throws {
        let fixture = try DashboardEscapingTests.Fixture()
        var dashboard = fixture.dashboard
        let gate = Gate()
        dashboard.anchorReceipt = { transaction, _, _ in
            gate.entered.signal()
            await withCheckedContinuation { c in DispatchQueue.global().async { gate.release.wait(); c.resume() } }
            return "{\"transaction\":\"\(transaction)\"}"
        }
        let path = "/dashboard/anchor-receipt/0x" + String(repeating: "ab", count: 32)
        let board = dashboard
        let get: @Sendable () async -> HTTPResponse = { await board.respond(to: HTTPRequest(method: "GET", path: path, query: [], headers: [])) }
        let first = Task { await get() }, second = Task { await get() }
        gate.entered.wait()
        gate.entered.wait()
        let third = await get()
        #expect(third.status == 503 && String(decoding: third.body, as: UTF8.self).contains("try again"))
        gate.release.signal()
        gate.release.signal()
        for task in [first, second] {
            let r = await task.value
            #expect(r.status == 200)
            #expect(r.headers.contains { $0.0 == "content-disposition" && $0.1.hasPrefix("attachment") })
        }
        // Both finished: a new request is built again.
        let again = Task { await get() }
        gate.entered.wait()
        gate.release.signal()
        #expect(await again.value.status == 200)
    }
}
