import KramaaJSON
import Foundation
import KramaaRPC
import KramaaTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Benchmarks of the JSON-RPC transport (KramaaRPC) with a trivial handler, so the figures are
/// the transport's ceiling. The request is `eth_sendRawTransaction` with a 120-byte transaction;
/// the handler decodes the hex and answers a 32-byte hash. References, measured in the same run:
/// Foundation's JSONSerialization doing the same decode and encode, and a raw TCP round trip of
/// the same bytes over loopback (the floor any protocol pays per request on this machine).
enum RPCBench {
    static let transaction = Harness.bytes(120, seed: 0x7478)
    static let body = #"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[""# + RPCHex.encodeData(transaction) + #""]}"#

    static func router() -> RPCRouter {
        var router = RPCRouter()
        router.register("eth_sendRawTransaction") { params, _ in .data(try params.data(0).prefix(32)) }
        return router
    }

    static func run(quick: Bool) -> Section {
        var section = Section(title: "JSON-RPC transport", command: "scripts/bench.sh rpc")
        let seconds = quick ? 0.5 : 1.5

        // In memory: our codec (through the dispatcher) against Foundation's.
        let dispatcher = RPCDispatcher(handler: router())
        let bodyBytes = Array(body.utf8)
        let calls = quick ? 20_000 : 100_000
        let codecSeconds = blocking {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { blackHole(await dispatcher.respond(to: bodyBytes)) }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let foundation = Harness.rate(batch: 1, seconds: seconds) { blackHole(foundationRoundTrip(Data(bodyBytes))) }
        section.rows.append(Row(name: "Codec in memory: parse, call, encode (eth_sendRawTransaction, \(bodyBytes.count) B)",
                                ours: Double(calls) / codecSeconds, unit: "call/s", reference: foundation,
                                referenceName: "JSONSerialization parse + encode"))

        // Over loopback, one client thread, against the server on its own event loops.
        var configuration = RPCServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.limits.maxBatchItems = 1000
        let server = blocking { [configuration] in try! await RPCServer.start(handler: router(), configuration: configuration) }
        defer { blocking { await server.shutdown() } }
        let port = server.port
        let request = Array(LoopbackSocket.requestText(body: body).utf8)

        let answerBody = #"{"jsonrpc":"2.0","id":1,"result":""# + RPCHex.encodeData(transaction.prefix(32)) + #""}"#
        let echo = RawEchoServer(requestLength: request.count, answer: Array(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(answerBody.utf8.count)\r\n\r\n\(answerBody)".utf8))
        let rawSocket = try! LoopbackSocket(port: echo.port)
        let raw = Harness.rate(batch: 1, seconds: seconds) {
            try! rawSocket.send(request)
            precondition(try! rawSocket.readResponse().status == 200)
        }

        let socket = try! LoopbackSocket(port: port)
        let single = Harness.rate(batch: 1, seconds: seconds) {
            try! socket.send(request)
            precondition(try! socket.readResponse().status == 200)
        }
        section.rows.append(Row(name: "HTTP keep-alive, one connection, one call per request", ours: single, unit: "call/s",
                                reference: raw, referenceName: "raw TCP round trip, same bytes", goal: "≥ 3,000"))

        let batchSize = 100
        let batchBody = "[" + (0..<batchSize).map { i in body.replacingOccurrences(of: #""id":1"#, with: #""id":\#(i)"#) }
            .joined(separator: ",") + "]"
        let batchRequest = Array(LoopbackSocket.requestText(body: batchBody).utf8)
        let batched = Harness.rate(batch: batchSize, seconds: seconds) {
            try! socket.send(batchRequest)
            precondition(try! socket.readResponse().status == 200)
        }
        section.rows.append(Row(name: "HTTP keep-alive, one connection, batches of \(batchSize)", ours: batched, unit: "call/s",
                                reference: single, referenceName: "one call per request"))

        let ws = try! LoopbackWebSocket(port: port)
        let frameBody = Array(body.utf8)
        let webSocket = Harness.rate(batch: 1, seconds: seconds) {
            try! ws.sendFrame(opcode: 0x1, payload: frameBody)
            blackHole(try! ws.readFrame())
        }
        section.rows.append(Row(name: "WebSocket, one connection, one call per message", ours: webSocket, unit: "call/s",
                                reference: raw, referenceName: "raw TCP round trip, same bytes"))

        let clients = 4
        let perClient = quick ? 1_000 : 4_000
        let parallelSeconds = Harness.time {
            Harness.onThreads(clients) { _ in
                let socket = try! LoopbackSocket(port: port)
                for _ in 0..<perClient {
                    try! socket.send(request)
                    precondition(try! socket.readResponse().status == 200)
                }
            }
        }
        section.rows.append(Row(name: "HTTP keep-alive, \(clients) connections in parallel, one call per request",
                                ours: Double(clients * perClient) / parallelSeconds, unit: "call/s",
                                reference: single, referenceName: "one connection", goal: "≥ 3,000"))
        let overhead = EndpointOverhead.measure(quick: quick)
        section.rows.append(Row(name: "HTTP GET to an endpoint answering on the event loop, \(clients) connections (the node's HTTP layer)",
                                ours: overhead.ours, unit: "req/s", reference: overhead.bare,
                                referenceName: "bare SwiftNIO HTTP/1.1 server, same answer"))
        section.notes.append("The endpoint row: a fixed 62-byte JSON answer to the same GET, through the node's server (routing, deadlines, request budget, CORS, the endpoint's task started on the event loop; tag taps go this way) and through NIO's server pipeline with a handler that writes it; best of three alternating runs each. Since 2026-12-07 the node's layer splits the target in one pass over its bytes, keeps one deadline timer per connection instead of scheduling three per request, and arms the write timeout only for a write that did not complete at once.")
        section.notes.append("Loopback figures swing by tens of percent between runs on a shared 2-core machine (client, event loop and task pool threads compete for the cores); compare the ratios.")
        section.notes.append("Client and server share the machine's \(ProcessInfo.processInfo.activeProcessorCount) cores; the server runs \(configuration.threads) event loops and runs handlers on Swift's task pool.")
        return section
    }

    /// What the same request costs through Foundation: parse, read the hex, encode an answer.
    static func foundationRoundTrip(_ body: Data) -> Data {
        let object = try! JSONSerialization.jsonObject(with: body) as! [String: Any]
        let hex = (object["params"] as! [Any])[0] as! String
        let bytes = try! RPCHex.decodeData(hex)
        let answer: [String: Any] = ["jsonrpc": "2.0", "id": object["id"]!, "result": RPCHex.encodeData(bytes.prefix(32))]
        return try! JSONSerialization.data(withJSONObject: answer)
    }

    /// Runs async work to completion from synchronous benchmark code (not on a pool thread).
    @discardableResult
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}

/// A TCP server on 127.0.0.1 that answers every `requestLength` bytes it reads with fixed
/// bytes: the cost of a round trip with no protocol work.
final class RawEchoServer: @unchecked Sendable {
    let requestLength: Int
    let answer: [UInt8]
    private(set) var port = 0
    private let listener: Int32

    init(requestLength: Int, answer: [UInt8]) {
        self.requestLength = requestLength
        self.answer = answer
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                precondition(bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0)
            }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    private func serve() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        var one: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pending = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            pending += n
            while pending >= requestLength {
                pending -= requestLength
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
        close(connection)
    }
}
