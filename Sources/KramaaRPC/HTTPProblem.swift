/// An error with an HTTP answer: the one mapping from what a handler throws to an RFC 9457
/// `application/problem+json` response. An error that does not conform answers 500.
public protocol HTTPProblemConvertible: Error {
    var problem: HTTPProblem { get }
}

/// A problem answer of the node's HTTP interfaces: status, title, what was wrong and what to
/// do (`detail`), an optional problem `type` URI and `instance`, and extra headers.
public struct HTTPProblem: Error, HTTPProblemConvertible, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// The title; nil gives the status's reason phrase.
    public var title: String?
    public var detail: String
    public var type: String
    public var instance: String?
    public var headers: [HTTPHeader]

    public init(status: Int, title: String? = nil, detail: String, type: String = "about:blank", instance: String? = nil,
                headers: [HTTPHeader] = []) {
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.instance = instance
        self.headers = headers
    }

    public var problem: HTTPProblem { self }
    public var description: String { detail }

    public var response: HTTPResponse {
        .problem(status: status, title: title, detail: detail, type: type, instance: instance,
                 headers: headers.map { ($0.name, $0.value) })
    }

    public static func badRequest(_ detail: String) -> HTTPProblem { HTTPProblem(status: 400, title: "Bad request", detail: detail) }
    public static func notFound(_ detail: String) -> HTTPProblem { HTTPProblem(status: 404, title: "Not found", detail: detail) }
}

/// A header of a problem answer (a struct, so problems stay `Equatable`).
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension HTTPResponse {
    /// The answer for an error a handler threw: its problem, or 500 naming it.
    public static func problem(for error: any Error) -> HTTPResponse {
        if let convertible = error as? any HTTPProblemConvertible { return convertible.problem.response }
        return .problem(status: 500, title: "Internal error", detail: "\(error)")
    }
}
