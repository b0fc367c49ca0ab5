import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking client code on a thread of its own, so it never occupies one of the few
/// threads Swift concurrency shares with a server under test.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

public enum LoopbackClientError: Error, CustomStringConvertible {
    case system(String, Int32)
    case closed
    case timeout
    case malformed(String)

    public var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .closed: "connection closed by the server"
        case .timeout: "timed out waiting for the server"
        case .malformed(let what): "malformed answer: \(what)"
        }
    }
}

/// A response as the loopback client read it.
public struct HTTPReply: Sendable {
    public var status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client to 127.0.0.1 over POSIX sockets with a receive timeout: raw enough to
/// send garbage, split or pipelined requests, and to read exactly what a server wrote. Used by
/// one thread at a time (hence unchecked Sendable, to hand it between ``offload`` calls).
public final class LoopbackSocket: @unchecked Sendable {
    private let fd: Int32
    private var received: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65536)

    public init(port: Int, timeoutSeconds: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackClientError.system("socket", errno) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw LoopbackClientError.system("connect", code)
        }
    }

    deinit { Glibc.close(fd) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LoopbackClientError.system("send", errno) }
            offset += n
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads whatever arrives next into the buffer; `false` at end of stream.
    private func fill() throws -> Bool { try receive(atMost: chunk.count, into: &received) }

    /// Reads whatever arrives next, at most `limit` bytes, onto the end of `target`; `false`
    /// at end of stream.
    private func receive(atMost limit: Int, into target: inout [UInt8]) throws -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min(limit, $0.count), 0) }
        if n > 0 {
            target += chunk[0..<n]
            return true
        }
        if n == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw LoopbackClientError.timeout }
        if errno == ECONNRESET { return false }
        throw LoopbackClientError.system("recv", errno)
    }

    /// Exactly `count` bytes. A large body is received straight onto what was buffered (not
    /// buffered whole, then copied out and shifted off): the benchmarks' clients read answers
    /// of hundreds of kilobytes on the cores the server uses.
    public func read(count: Int) throws -> [UInt8] {
        if received.count >= count {
            defer { received.removeFirst(count) }
            return Array(received[0..<count])
        }
        var out = received
        received.removeAll(keepingCapacity: true)
        out.reserveCapacity(count)
        while out.count < count {
            guard try receive(atMost: count - out.count, into: &out) else { throw LoopbackClientError.closed }
        }
        return out
    }

    /// The bytes up to and including `delimiter`.
    public func read(through delimiter: [UInt8]) throws -> [UInt8] {
        var searchFrom = 0
        while true {
            if received.count >= delimiter.count {
                for i in searchFrom...(received.count - delimiter.count) where received[i..<i + delimiter.count].elementsEqual(delimiter) {
                    return try read(count: i + delimiter.count)
                }
                searchFrom = received.count - delimiter.count + 1
            }
            guard try fill() else { throw LoopbackClientError.closed }
        }
    }

    /// Whether the server closes the connection (reading and dropping anything before that).
    public func waitForClose() throws -> Bool {
        do {
            while try fill() { received.removeAll() }
            return true
        } catch LoopbackClientError.timeout {
            return false
        }
    }

    /// Reads one HTTP/1.1 response with a `content-length` body.
    public func readResponse() throws -> HTTPReply {
        let head = String(decoding: try read(through: Array("\r\n\r\n".utf8)), as: UTF8.self)
        var lines = head.split(separator: "\r\n")
        guard !lines.isEmpty else { throw LoopbackClientError.malformed("empty head") }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw LoopbackClientError.malformed(head) }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        return HTTPReply(status: status, headers: headers, body: try read(count: length))
    }

    /// Sends a request built from its parts and reads the response.
    public func request(_ method: String = "POST", path: String = "/", body: String = "", headers: [String: String] = [:],
                 contentType: String? = "application/json") throws -> HTTPReply {
        try send(Self.requestText(method, path: path, body: body, headers: headers, contentType: contentType))
        return try readResponse()
    }

    public static func requestText(_ method: String = "POST", path: String = "/", body: String = "", headers: [String: String] = [:],
                            contentType: String? = "application/json") -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let contentType { text += "Content-Type: \(contentType)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return text + "\r\n" + body
    }
}

/// A WebSocket client over ``LoopbackSocket`` (RFC 6455 framing, masked as clients must).
public final class LoopbackWebSocket: @unchecked Sendable {
    public let socket: LoopbackSocket

    /// Opens the connection and performs the upgrade; throws unless the server answers 101.
    public init(port: Int, path: String = "/", origin: String? = nil, timeoutSeconds: Int = 60) throws {
        socket = try LoopbackSocket(port: port, timeoutSeconds: timeoutSeconds)
        var headers = ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="]
        if let origin { headers["Origin"] = origin }
        let reply = try socket.request("GET", path: path, headers: headers, contentType: nil)
        guard reply.status == 101 else { throw LoopbackClientError.malformed("upgrade answered \(reply.status): \(reply.text)") }
        guard reply.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" else {
            throw LoopbackClientError.malformed("bad Sec-WebSocket-Accept")
        }
    }

    public func sendFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xffff {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try socket.send(frame)
    }

    public func sendText(_ text: String) throws { try sendFrame(opcode: 0x1, payload: Array(text.utf8)) }

    /// The next frame from the server (servers do not mask).
    public func readFrame() throws -> (opcode: UInt8, payload: [UInt8]) {
        let head = try socket.read(count: 2)
        var length = Int(head[1] & 0x7f)
        if length == 126 {
            let ext = try socket.read(count: 2)
            length = Int(ext[0]) << 8 | Int(ext[1])
        } else if length == 127 {
            length = try socket.read(count: 8).reduce(0) { $0 << 8 | Int($1) }
        }
        return (head[0] & 0x0f, try socket.read(count: length))
    }
}
