/// A route table for the node's REST interfaces: `METHOD /path/{name}/…` patterns to
/// handlers, typed path and query parameters, and one error mapping (`HTTPProblemConvertible`
/// → `application/problem+json`). A path no route has answers 404; a path some route has,
/// asked with another method, 405 with `Allow`. `HEAD` is served by the `GET` route.
///
/// Routes are tried in the order added; a literal segment is preferred to a capture, so
/// `/capture` and `/capture/{id}` may be added in any order.
public struct HTTPRouter: HTTPEndpoint {
    public typealias Handler = @Sendable (RouteRequest) async throws -> HTTPResponse

    struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(Substring)
        case capture(String)
    }

    /// The path every pattern is under (`/api/v1`).
    public let prefix: String
    private var routes: [Route] = []
    public var acceptedBodyTypes: Set<String>
    /// The interface's own answers for errors that are not `HTTPProblemConvertible` (EPCIS
    /// exceptions have their own problem types); nil falls back to `HTTPResponse.problem(for:)`.
    public var answerForError: (@Sendable (any Error) -> HTTPResponse?)?

    public init(prefix: String = "", acceptedBodyTypes: Set<String> = HTTPMediaType.json,
                answerForError: (@Sendable (any Error) -> HTTPResponse?)? = nil) {
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.acceptedBodyTypes = acceptedBodyTypes
        self.answerForError = answerForError
    }

    /// Adds `METHOD pattern` (relative to the prefix; `{name}` captures one segment).
    public mutating func on(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/").map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") ? .capture(String(part.dropFirst().dropLast())) : .literal(part)
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
        // Literal segments first, position by position (stable: otherwise in the order added).
        routes = routes.enumerated().sorted { a, b in
            let (x, y) = (a.element.segments, b.element.segments)
            for (s, t) in zip(x, y) where s != t {
                switch (s, t) {
                case (.literal, .capture): return true
                case (.capture, .literal): return false
                default: continue
                }
            }
            return a.offset < b.offset
        }.map(\.element)
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { on("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { on("POST", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { on("PUT", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { on("DELETE", pattern, handler) }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.path.hasPrefix(prefix) else { return HTTPProblem.notFound("no resource \(request.method) \(request.path)").response }
        let segments = request.path.dropFirst(prefix.count).split(separator: "/")
        var allowed: [String] = []
        let method = request.method == "HEAD" ? "GET" : request.method
        for route in routes {
            guard let captures = Self.match(route.segments, segments) else { continue }
            guard route.method == method else {
                if !allowed.contains(route.method) { allowed.append(route.method) }
                continue
            }
            do {
                return try await route.handler(RouteRequest(request: request, captures: captures))
            } catch let convertible as any HTTPProblemConvertible {
                return convertible.problem.response
            } catch {
                return answerForError?(error) ?? .problem(for: error)
            }
        }
        if !allowed.isEmpty {
            if allowed.contains("GET") { allowed.append("HEAD") }
            let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            allowed.sort { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
            return .methodNotAllowed(request.method, path: request.path, allowed: allowed)
        }
        return HTTPProblem.notFound("no resource \(request.method) \(request.path)").response
    }

    /// The captures of `pattern` in `path` (percent-decoded), when every literal matches.
    static func match(_ pattern: [Segment], _ path: [Substring]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var captures: [String: String] = [:]
        for (part, segment) in zip(pattern, path) {
            switch part {
            case .literal(let text): if text != segment { return nil }
            case .capture(let name): captures[name] = HTTPRequest.formDecode(segment)
            }
        }
        return captures
    }
}

/// A request matched to a route: its captures and query, typed on the way out.
public struct RouteRequest: Sendable {
    public let request: HTTPRequest
    let captures: [String: String]

    /// The capture `name` of the route's pattern, as written (percent-decoded).
    public func path(_ name: String) -> String {
        guard let value = captures[name] else { preconditionFailure("the route has no {\(name)}") }
        return value
    }

    /// The capture `name` as a `T`; 400 naming what was expected otherwise.
    public func path<T: RouteParameter>(_ name: String, as type: T.Type = T.self) throws(HTTPProblem) -> T {
        let text = path(name)
        guard let value = T(routeParameter: text) else { throw .badRequest("\(text) is not \(T.routeParameterDescription)") }
        return value
    }

    /// The query item `name` as a `T`; nil when absent, 400 when malformed.
    public func query<T: RouteParameter>(_ name: String, as type: T.Type = T.self) throws(HTTPProblem) -> T? {
        guard let text = request.queryValue(name) else { return nil }
        guard let value = T(routeParameter: text) else { throw .badRequest("\(name) must be \(T.routeParameterDescription)") }
        return value
    }
}

/// A type a path or query parameter can be read as.
public protocol RouteParameter {
    init?(routeParameter text: String)
    /// What a valid one is, for the 400 answer ("a number", "an address (0x and 40 hex digits)").
    static var routeParameterDescription: String { get }
}

extension UInt64: RouteParameter {
    public init?(routeParameter text: String) { self.init(text) }
    public static var routeParameterDescription: String { "a number" }
}

extension String: RouteParameter {
    public init?(routeParameter text: String) { self = text }
    public static var routeParameterDescription: String { "text" }
}
