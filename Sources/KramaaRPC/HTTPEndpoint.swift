import KramaaJSON
/// A plain HTTP request for an endpoint served next to JSON-RPC on the same port (REST APIs,
/// pages): the node serves JSON-RPC at `/` and its other interfaces under their own paths.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, `PUT`, `DELETE`, ...
    public var method: String
    /// The path, percent-decoded per segment is left to the endpoint (as received).
    public var path: String
    /// The query items in order (names and values percent-decoded; `+` is a space).
    public var query: [(name: String, value: String)]
    /// Header names in lower case.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The request target exactly as received (`/path?query`, nothing decoded): for endpoints
    /// that check a MAC or signature over the URL text (NFC SUN URLs).
    public var target: String
    /// The peer (`127.0.0.1:53122`, `[::1]:53122`); nil when called in process.
    public var remoteAddress: String?

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], body: [UInt8] = [], target: String? = nil,
                remoteAddress: String? = nil) {
        self.remoteAddress = remoteAddress
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.target = target ?? (query.isEmpty ? path : path + "?" + query.map { "\($0.name)=\($0.value)" }.joined(separator: "&"))
    }

    /// The first header of that (lower-case) name.
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The first query item of that name.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Splits `/path?query` into the path and decoded query items (empty items, `a&&b`, are
    /// skipped; an item without `=` has the value ""). One pass over the UTF-8 bytes: every
    /// request to an endpoint goes through here, and splitting by `Character` cost a tenth of
    /// the server's CPU per tag verification. The delimiters are bytes, as RFC 3986 has them.
    public static func split(uri: String) -> (path: String, query: [(name: String, value: String)]) {
        var uri = uri
        return uri.withUTF8 { bytes in
            guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (String(decoding: bytes, as: UTF8.self), []) }
            let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<mark]), as: UTF8.self)
            let query = bytes[(mark + 1)...].split(separator: UInt8(ascii: "&")).map { slice -> (name: String, value: String) in
                let item = UnsafeBufferPointer(rebasing: slice)
                guard let equals = item.firstIndex(of: UInt8(ascii: "=")) else { return (formDecode(item), "") }
                return (formDecode(UnsafeBufferPointer(rebasing: item[..<equals])), formDecode(UnsafeBufferPointer(rebasing: item[(equals + 1)...])))
            }
            return (path, query)
        }
    }

    /// The path of `/path?query` (what precedes the first `?`), without decoding the query.
    public static func path(ofURI uri: String) -> String {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return uri }
        return String(decoding: uri.utf8[..<mark], as: UTF8.self)
    }

    /// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; malformed
    /// escapes are kept as written.
    public static func formDecode(_ text: Substring) -> String {
        var text = text
        return text.withUTF8 { formDecode($0) }
    }

    /// `formDecode` of UTF-8 bytes; text without `+` or `%` is taken as it is.
    static func formDecode(_ text: UnsafeBufferPointer<UInt8>) -> String {
        guard text.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else {
            return String(decoding: text, as: UTF8.self)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < text.count,
                      let high = RPCHex.digitValue(text[index + 1]), let low = RPCHex.digitValue(text[index + 2]) {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// An HTTP response from an endpoint.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// A body written while it is produced (files, CARs), instead of `body`: the server sends
    /// the head, then runs it; each `write` returns once the bytes are handed to the socket, so
    /// a slow client slows the producer and memory stays bounded. Without a `content-length`
    /// header the body goes chunked. HEAD answers skip it.
    public var stream: HTTPBodyStream?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    public static func json(_ value: JSON, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("content-type", "application/json")] + headers, body: value.serialized())
    }

    /// A body of the given media type.
    public static func text(_ text: String, contentType: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("content-type", contentType)], body: Array(text.utf8))
    }

    /// An RFC 9457 problem (`application/problem+json`): the one form every REST interface of
    /// the node answers errors in. `detail` says what was wrong and what to do.
    public static func problem(status: Int, title: String? = nil, detail: String, type: String = "about:blank",
                               instance: String? = nil, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        var object: JSONObject = ["type": .string(type), "title": .string(title ?? Self.reason(status)),
                                  "status": .number(JSONNumber(status)), "detail": .string(detail)]
        if let instance { object["instance"] = .string(instance) }
        let body = JSON.object(object)
        return HTTPResponse(status: status, headers: [("content-type", "application/problem+json")] + headers, body: body.serialized())
    }

    /// 405 with the `Allow` header listing the methods the resource takes.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> HTTPResponse {
        problem(status: 405, detail: "\(method) is not served at \(path): use \(allowed.joined(separator: " or "))",
                headers: [("allow", allowed.joined(separator: ", "))])
    }

    /// The reason phrase of a status (RFC 9110).
    public static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "HTTP \(status)"
        }
    }
}

/// A response body produced as it is sent (see ``HTTPResponse/stream``).
public struct HTTPBodyStream: Sendable {
    public let produce: @Sendable (HTTPBodyWriter) async throws -> Void

    public init(_ produce: @escaping @Sendable (HTTPBodyWriter) async throws -> Void) {
        self.produce = produce
    }

    /// Runs the producer into memory (tests and in-process callers).
    public func collect() async throws -> [UInt8] {
        let box = ByteCollector()
        try await produce(HTTPBodyWriter { bytes in await box.append(bytes) })
        return await box.bytes
    }
}

actor ByteCollector {
    var bytes: [UInt8] = []
    func append(_ more: [UInt8]) { bytes += more }
}

/// Where a streamed body's bytes go.
public struct HTTPBodyWriter: Sendable {
    let send: @Sendable ([UInt8]) async throws -> Void

    public init(_ send: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.send = send
    }

    /// Sends `bytes`; throws when the client went away.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await send(bytes)
    }
}

/// Serves the requests whose path starts with one of its prefixes.
public protocol HTTPEndpoint: Sendable {
    func respond(to request: HTTPRequest) async -> HTTPResponse
    /// Media types (lower case, without parameters) the endpoint takes as request bodies. The
    /// server refuses a body of another type with 415 before the endpoint sees it: a browser
    /// may send `text/plain` or a form cross-origin without a CORS preflight, so accepting
    /// those would let any web page write. Default: ``HTTPMediaType/json``.
    var acceptedBodyTypes: Set<String> { get }
    /// Whether `request`'s answer may run on the connection's event loop instead of the
    /// concurrency pool, sparing two thread hops. Only for answers that never block their
    /// thread (no file, database or chain read that waits; awaiting is fine): a blocked event
    /// loop stalls every connection it serves. Default: false.
    func answersOnEventLoop(_ request: HTTPRequest) -> Bool
}

extension HTTPEndpoint {
    public var acceptedBodyTypes: Set<String> { HTTPMediaType.json }
    public func answersOnEventLoop(_ request: HTTPRequest) -> Bool { false }
}

/// Media types of request bodies.
public enum HTTPMediaType {
    /// JSON and JSON-LD (EPCIS documents).
    public static let json: Set<String> = ["application/json", "application/ld+json"]

    /// The media type of a `Content-Type` value: lower case, parameters (`; charset=utf-8`) dropped.
    public static func of(_ contentType: String?) -> String? {
        guard let contentType, let type = contentType.split(separator: ";", maxSplits: 1).first else { return nil }
        return type.trimmingWhitespace().lowercased()
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}

/// HTTP endpoints by path prefix (`/api/v1`, `/epcis`, `/verify`): the longest matching
/// prefix wins; a prefix matches the path itself or the path followed by `/`.
public struct HTTPRoutes: Sendable {
    public var prefixes: [(prefix: String, endpoint: any HTTPEndpoint)] = []
    /// Paths served as WebSocket streams too (a GET with `Upgrade: websocket`), by prefix.
    public var streams: [(prefix: String, provider: any WebSocketStreamProvider)] = []

    /// Serves upgrades of GETs under `prefix` with `provider`'s streams.
    public mutating func mountStream(_ prefix: String, _ provider: any WebSocketStreamProvider) {
        streams.append((prefix, provider))
        streams.sort { $0.prefix.count > $1.prefix.count }
    }

    /// The stream provider for `path`, if any.
    public func streamProvider(for path: String) -> (any WebSocketStreamProvider)? {
        streams.first { Self.path(path, isUnder: $0.prefix) }?.provider
    }

    public init() {}

    /// The prefix of the endpoint that also answers browsers' `GET /` (`Accept: text/html`):
    /// the dashboard. Other GETs of `/` keep the JSON health check; POSTs are JSON-RPC.
    public static let browserHomePrefix = "/dashboard"

    public mutating func mount(_ prefix: String, _ endpoint: any HTTPEndpoint) {
        prefixes.append((prefix, endpoint))
        prefixes.sort { $0.prefix.count > $1.prefix.count }
    }

    /// The endpoint serving `path`, if any.
    public func endpoint(for path: String) -> (any HTTPEndpoint)? {
        prefixes.first { Self.path(path, isUnder: $0.prefix) }?.endpoint
    }

    public var isEmpty: Bool { prefixes.isEmpty }

    /// `path` is `prefix` or below it (`prefix/…`), compared as bytes without building a string.
    static func path(_ path: String, isUnder prefix: String) -> Bool {
        let path = path.utf8, prefix = prefix.utf8
        guard path.starts(with: prefix) else { return false }
        let rest = path.dropFirst(prefix.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }
}

/// Serves WebSocket upgrades of GET requests as a stream of text messages from the server (an
/// EPCIS query subscription): the stream for an upgrade request, or nil to refuse it (the
/// request is then answered as plain HTTP, which says why).
public protocol WebSocketStreamProvider: Sendable {
    func webSocketStream(for request: HTTPRequest) -> AsyncStream<String>?
}
