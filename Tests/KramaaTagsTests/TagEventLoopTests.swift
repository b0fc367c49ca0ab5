import Foundation
import KramaaNFC
import KramaaPrimitives
import KramaaRPC
import KramaaTags
import KramaaTestSupport
import Testing

/// Taps are answered on their connection's event loop (no hop to the concurrency pool): what
/// could wait there must not, or every connection of that loop would wait with it.
@Suite struct TagEventLoopTests {
    /// A chain whose asset reads take `delay` (a node busy with a long eth_call).
    struct SlowAssets: AssetDirectory {
        let delay: TimeInterval
        func asset(boundTo uid: TagUID) -> AssetSummary? {
            Thread.sleep(forTimeInterval: delay)
            return nil
        }
        func asset(tokenId: UInt256) -> AssetSummary? { nil }
        func roles(of account: Address, in organisation: UInt64) -> UInt64 { 0 }
        func organizationName(_ organisation: UInt64) -> String? { nil }
    }

    @Test func aTapWaitingForTheChainDoesNotHoldUpItsEventLoop() async throws {
        let directory = try TemporaryDirectory()
        let store = try TagKeyStore(directory: directory.url)
        let uid = try TagUID(hex: "04C767F2066180")
        let meta = [UInt8](repeating: 0x11, count: 16), file = [UInt8](repeating: 0x22, count: 16)
        try store.register(TagRegistration(uid: uid, mode: .aes, metaReadKey: meta, fileReadKey: file, macInputStart: .empty, organisation: 1))
        let (picc, cmac) = try SUNTagSimulator(uid: uid, keys: SDMKeys(mode: .aes, metaReadKey: meta, fileReadKey: file))
            .tap(readCounter: 5, random: 42)
        var routes = HTTPRoutes()
        TagEndpoints(verifier: TagVerifier(store: store, assets: SlowAssets(delay: 0.6))).mount(on: &routes)
        var configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.threads = 1  // every connection on the one event loop
        let server = try await RPCServer.start(handler: RPCRouter(), routes: routes, configuration: configuration)
        defer { Task { await server.shutdown(gracePeriod: .seconds(1)) } }
        let tapper = try LoopbackSocket(port: server.port), other = try LoopbackSocket(port: server.port)

        let started = Date()
        async let tap = offload { try tapper.request("GET", path: "/verify?e=\(picc)&c=\(cmac)", headers: ["Accept": "application/json"], contentType: nil) }
        try await Task.sleep(for: .milliseconds(100))  // the tap now waits for its asset read
        let asked = Date()
        let answer = try await offload { try other.request("GET", path: "/verify", headers: ["Accept": "application/json"], contentType: nil) }
        let otherWaited = Date().timeIntervalSince(asked)
        #expect(answer.status == 400)
        #expect(otherWaited < 0.3, "another connection of the loop waited \(otherWaited) s for the tap's chain read")
        let tapped = try await tap
        #expect(tapped.status == 200 && tapped.text.contains("\"verdict\":\"genuine\""), "\(tapped.text)")
        #expect(Date().timeIntervalSince(started) >= 0.6)
    }
}
