import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One blocking HTTP/1.1 connection over a POSIX socket: the CLI's and relayers' plain-`http`
/// calls to a node. A request body goes out in one `writev` with its head and the response is
/// read in large pieces, where URLSession on Linux moved an upload through many small dispatch
/// hops (about 6 s of CPU per GiB uploaded). Keep-alive connections are reused through
/// ``HTTPConnectionPool``. Used by one thread at a time.
final class HTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    let endpoint: String
    /// Whether this connection answered before (a reused connection the server may have closed).
    var reused = false
    /// Whether any byte of the current request's answer arrived: a request that failed before that was not
    /// answered, so it may be sent again on a fresh connection when this one was reused.
    private(set) var answered = false

    struct Response {
        var status: Int
        var body: [UInt8]
        var keepAlive: Bool
    }

    /// Connects to `host:port` (a name or an address), within `timeout` seconds, which also
    /// bounds every later read and write.
    init(host: String, port: Int, timeout: TimeInterval) throws {
        endpoint = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let code = getaddrinfo(bare, String(port), &hints, &list)
        guard code == 0, let first = list else { throw ClientError("cannot resolve \(host): \(String(cString: gai_strerror(code)))") }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard socketFD >= 0 else { lastError = errno; continue }
            if let error = Self.connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout) {
                lastError = error
                close(socketFD)
                continue
            }
            var one: Int32 = 1
            setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            fd = socketFD
            limit(timeout)
            return
        }
        throw ClientError(String(cString: strerror(lastError)))
    }

    deinit { close(fd) }

    /// Connects without blocking longer than `timeout`; the errno on failure.
    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t, timeout: TimeInterval) -> Int32? {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return nil }
        guard errno == EINPROGRESS else { return errno }
        var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&waiting, 1, Int32(min(timeout * 1000, Double(Int32.max))))
        if ready == 0 { return ETIMEDOUT }
        if ready < 0 { return errno }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        return error == 0 ? nil : error
    }

    /// Bounds each later read and write by `timeout` seconds.
    func limit(_ timeout: TimeInterval) {
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends the head and body together (one sendmsg when the socket takes it all).
    func send(head: [UInt8], body: [UInt8]?) throws {
        answered = false
        var sent = 0
        let total = head.count + (body?.count ?? 0)
        try head.withUnsafeBytes { headBytes in
            try (body ?? []).withUnsafeBytes { bodyBytes in
                while sent < total {
                    var parts: [iovec] = []
                    if sent < headBytes.count {
                        parts.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: headBytes.baseAddress! + sent), iov_len: headBytes.count - sent))
                    }
                    let bodySent = max(0, sent - headBytes.count)
                    if bodySent < bodyBytes.count {
                        parts.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bodyBytes.baseAddress! + bodySent), iov_len: bodyBytes.count - bodySent))
                    }
                    let n = parts.withUnsafeMutableBufferPointer { vectors in
                        var message = msghdr()
                        message.msg_iov = vectors.baseAddress
                        message.msg_iovlen = vectors.count
                        return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                    }
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw ClientError(errno == EAGAIN ? "timed out sending the request" : String(cString: strerror(errno))) }
                    sent += n
                }
            }
        }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill(atLeast wanted: Int = 65536) throws -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        let old = buffer.count
        let room = max(wanted, 65536)
        buffer.append(contentsOf: repeatElement(0, count: room))
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + old, room, 0) }
        let code = errno
        buffer.removeLast(room - max(n, 0))
        if n > 0 {
            answered = true
            return true
        }
        if n == 0 || code == ECONNRESET { return false }
        if code == EINTR { return try fill(atLeast: wanted) }
        throw ClientError(code == EAGAIN ? "timed out waiting for the answer" : String(cString: strerror(code)))
    }

    /// The next line without its CRLF.
    private func line() throws -> String {
        while true {
            if let end = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var stop = end
                if stop > start && buffer[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
                let text = String(decoding: buffer[start..<stop], as: UTF8.self)
                start = end + 1
                return text
            }
            guard buffer.count - start < 64 << 10 else { throw ClientError("the answer's head has a line over 64 KiB") }
            guard try fill() else { throw ClientError("the connection closed before the answer's head ended") }
        }
    }

    /// Exactly `count` bytes.
    private func bytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count {
            guard try fill(atLeast: count - (buffer.count - start)) else { throw ClientError("the answer ended early") }
        }
        defer { start += count }
        return Array(buffer[start..<start + count])
    }

    /// Reads one response; `head` tells that it has no body.
    func response(toHEAD head: Bool) throws -> Response {
        var status = 100
        var headers: [(String, String)] = []
        var version = ""
        while status / 100 == 1 {
            let statusLine = try line().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]) else {
                throw ClientError("the answer is not HTTP/1.1")
            }
            version = String(statusLine[0])
            status = code
            headers = []
            while case let field = try line(), !field.isEmpty {
                guard let colon = field.firstIndex(of: ":") else { continue }
                headers.append((field[..<colon].lowercased(), field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        func header(_ name: String) -> String? { headers.last { $0.0 == name }?.1 }
        let connection = header("connection")?.lowercased() ?? ""
        var keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        var body: [UInt8] = []
        if head || status == 204 || status == 304 {
        } else if header("transfer-encoding")?.lowercased().contains("chunked") == true {
            while true {
                let sizeText = try line().split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                    throw ClientError("a chunk size of the answer is not hexadecimal")
                }
                if size == 0 {
                    while try !line().isEmpty {}
                    break
                }
                guard size <= Self.maximumAnswer - body.count else { throw Self.tooLarge }
                body += try bytes(size)
                _ = try line()
            }
        } else if let length = header("content-length") {
            guard let count = Int(length), count >= 0 else { throw ClientError("the answer's content-length is not a number") }
            guard count <= Self.maximumAnswer else { throw Self.tooLarge }
            body = try bytes(count)
        } else {
            keepAlive = false
            while try fill() {
                guard buffer.count - start <= Self.maximumAnswer else { throw Self.tooLarge }
            }
            body = Array(buffer[start...])
            start = buffer.count
        }
        // A large answer's room is not kept for the life of a pooled connection.
        if start == buffer.count && buffer.capacity > 1 << 20 {
            buffer = []
            start = 0
        }
        return Response(status: status, body: body, keepAlive: keepAlive)
    }

    /// The largest answer body read (a node caps a JSON-RPC answer at 25 MB and a block at
    /// a few MiB; a file is read block by block): anything larger is refused, not buffered.
    static let maximumAnswer = 256 << 20
    static let tooLarge = ClientError("the answer is larger than \(maximumAnswer >> 20) MiB; nothing this client asks for is that large")
}

/// Idle keep-alive connections by host and port, shared by every ``NodeClient`` of the process.
final class HTTPConnectionPool: @unchecked Sendable {
    static let shared = HTTPConnectionPool()
    private let lock = NSLock()
    private var idle: [String: [HTTPConnection]] = [:]
    private let perEndpoint = 4

    func take(host: String, port: Int, timeout: TimeInterval) throws -> HTTPConnection {
        if let reused = lock.withLock({ idle["\(host):\(port)"]?.popLast() }) { return reused }
        return try HTTPConnection(host: host, port: port, timeout: timeout)
    }

    func give(back connection: HTTPConnection) {
        connection.reused = true
        lock.withLock {
            if idle[connection.endpoint, default: []].count < perEndpoint { idle[connection.endpoint, default: []].append(connection) }
        }
    }
}
