@testable import KramaaAnchoring
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// NodeClient's plain-HTTP path against a scripted server on loopback: what it sends, the
/// answer forms it must read (length, chunked, to the close, interim 100, HEAD), keep-alive
/// reuse, the retry when a node closed an idle connection, and its errors.
@Suite(.serialized) struct NodeClientHTTPTests {
    /// What the scripted server does with a request.
    enum Reply {
        case answer(String)
        /// Answers, then closes the connection.
        case answerAndClose(String)
        /// Closes the connection without answering.
        case close
    }

    /// A one-thread server: accepts, reads one request (head and content-length body) at a time
    /// and does what the script says for it.
    final class ScriptedServer: @unchecked Sendable {
        let port: Int
        private let listener: Int32
        private let lock = NSLock()
        private var requests: [String] = []
        private var connections = 0
        let script: @Sendable (Int, String) -> Reply

        init(script: @escaping @Sendable (_ index: Int, _ request: String) -> Reply) throws {
            self.script = script
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(listener, 8) == 0 else { throw ClientError("cannot listen") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            self.listener = listener
            let thread = Thread { [self] in serve() }
            thread.start()
        }

        var received: [String] { lock.withLock { requests } }
        var accepted: Int { lock.withLock { connections } }

        private func serve() {
            while true {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                lock.withLock { connections += 1 }
                var pending: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                connection: while true {
                    // One request: the head, then its content-length body.
                    var request: String?
                    while request == nil {
                        if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                            let head = String(decoding: pending[..<end.upperBound], as: UTF8.self)
                            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                            if pending.count >= end.upperBound + length {
                                request = String(decoding: pending[..<(end.upperBound + length)], as: UTF8.self)
                                pending.removeFirst(end.upperBound + length)
                                break
                            }
                        }
                        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        if n <= 0 { break connection }
                        pending += chunk[0..<n]
                    }
                    guard let request else { break }
                    let index = lock.withLock { requests.append(request); return requests.count - 1 }
                    let reply = script(index, request)
                    switch reply {
                    case .answer(let text), .answerAndClose(let text):
                        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    case .close: break
                    }
                    if case .answer = reply { continue }
                    break
                }
                close(fd)
            }
        }

        deinit { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    @Test func sendsTheBodyInOneRequestAndReadsALengthAnswer() throws {
        let server = try ScriptedServer { _, _ in .answer("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello") }
        var client = try NodeClient("http://127.0.0.1:\(server.port)")
        client.token = "secret"
        let body = [UInt8](repeating: 0x61, count: 3 << 20)
        let (status, answer) = try client.request("PUT", path: "/api/v1/store/uploads/x?y=%2F", body: body, contentType: "application/vnd.ipld.car")
        #expect(status == 201)
        #expect(answer == Array("hello".utf8))
        let request = try #require(server.received.first)
        #expect(request.hasPrefix("PUT /api/v1/store/uploads/x?y=%2F HTTP/1.1\r\n"))
        #expect(request.contains("\r\nContent-Type: application/vnd.ipld.car\r\n"))
        #expect(request.contains("\r\nContent-Length: \(body.count)\r\n"))
        #expect(request.contains("\r\nAuthorization: Bearer secret\r\n"))
        #expect(request.hasSuffix(String(repeating: "a", count: 100)))
        #expect(request.utf8.count > body.count)
    }

    @Test func readsChunkedInterimAndToTheCloseAnswers() throws {
        let server = try ScriptedServer { index, _ in
            switch index {
            case 0: .answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n")
            case 1: .answer("HTTP/1.1 204 No Content\r\n\r\n")
            default: .answerAndClose("HTTP/1.0 200 OK\r\n\r\nuntil the end")
            }
        }
        let client = try NodeClient("http://127.0.0.1:\(server.port)")
        #expect(try client.request("GET", path: "/a").body == Array("hello world".utf8))
        #expect(try client.request("DELETE", path: "/b").status == 204)
        #expect(try client.request("GET", path: "/c").body == Array("until the end".utf8))
        #expect(server.accepted == 1, "the three requests share one keep-alive connection")
    }

    @Test func headAnswersHaveNoBodyAndTheConnectionIsReused() throws {
        let server = try ScriptedServer { _, request in
            request.hasPrefix("HEAD") ? .answer("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                : .answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        let client = try NodeClient("http://127.0.0.1:\(server.port)")
        #expect(try client.request("HEAD", path: "/ipfs/x").body.isEmpty)
        #expect(try client.request("GET", path: "/ipfs/x").body == Array("ok".utf8))
        #expect(server.accepted == 1)
    }

    @Test func aRequestOnAnIdleConnectionTheNodeClosedIsSentAgainOnce() throws {
        // The first answer is followed by the server closing; the next request finds the
        // pooled connection dead, so it goes out again on a fresh one and is answered.
        let server = try ScriptedServer { index, _ in index == 1 ? .close : .answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\(index)") }
        let client = try NodeClient("http://127.0.0.1:\(server.port)")
        #expect(try client.request("GET", path: "/one").body == Array("0".utf8))
        #expect(try client.request("POST", path: "/two", body: Array("{}".utf8)).body == Array("2".utf8))
        #expect(server.received.count == 3)
        #expect(server.accepted == 2)
    }

    @Test func aFreshConnectionClosedBeforeAnsweringIsAnErrorNotARetry() throws {
        let server = try ScriptedServer { _, _ in .close }
        let client = try NodeClient("http://127.0.0.1:\(server.port)")
        #expect {
            try client.request("POST", path: "/x", body: [1])
        } throws: { error in "\(error)".contains("cannot reach the node") && "\(error)".contains("closed") }
        #expect(server.received.count == 1)
    }

    @Test func refusedConnectionsAndSlowNodesAreClearErrors() throws {
        #expect {
            try NodeClient("http://127.0.0.1:1").request("GET", path: "/")
        } throws: { "\($0)".contains("cannot reach the node at http://127.0.0.1:1") && "\($0)".contains("refused") }
        let silent = try ScriptedServer { _, _ in
            Thread.sleep(forTimeInterval: 1.5)
            return .answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        }
        var client = try NodeClient("http://127.0.0.1:\(silent.port)")
        client.timeout = 0.3
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("timed out") }
    }

    @Test func malformedAnswersAreRefused() throws {
        let server = try ScriptedServer { index, _ in
            switch index {
            case 0: .answer("SMTP ready\r\n\r\n")
            case 1: .answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            case 2: .answerAndClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
            case 3: .answerAndClose("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")
            default: .answerAndClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000001\r\n")
            }
        }
        let client = try NodeClient("http://127.0.0.1:\(server.port)")
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("not HTTP/1.1") }
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("not hexadecimal") }
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("ended early") }
        // A node claiming a terabyte (or a 256 MiB chunk) is refused before anything is buffered.
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("larger than 256 MiB") }
        #expect { try client.request("GET", path: "/") } throws: { "\($0)".contains("larger than 256 MiB") }
    }
}
