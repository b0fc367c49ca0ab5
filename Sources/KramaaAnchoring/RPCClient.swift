import KramaaJSON
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What went wrong talking to a node.
public struct ClientError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A blocking HTTP client (the CLI's commands, the node's relayers): JSON-RPC at `/` and the REST interfaces.
public struct NodeClient: Sendable {
    public let base: URL
    public var timeout: TimeInterval = 30
    /// Sent as `Authorization: Bearer …` when set.
    public var token: String?

    public init(_ url: String) throws {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw ClientError("--rpc (or KRAMAA_RPC) must be an http(s) URL such as http://127.0.0.1:8545, not \(url)")
        }
        self.base = base
    }

    /// Sends one HTTP request; returns the status and body.
    public func request(_ method: String, path: String = "", body: [UInt8]? = nil,
                 contentType: String = "application/json", headers: [(String, String)] = []) throws -> (status: Int, body: [UInt8]) {
        let url = path.isEmpty ? base : URL(string: path, relativeTo: base)!.absoluteURL
        if url.scheme == "http" { return try plainRequest(method, url: url, body: body, contentType: contentType, headers: headers) }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, [UInt8]), ClientError> = .failure(ClientError("no answer"))
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(ClientError("cannot reach the node at \(base.absoluteString): \(error.localizedDescription)"))
            } else {
                result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data ?? Data())))
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return try result.get()
    }

    /// A plain-HTTP request on a pooled keep-alive connection (``HTTPConnection``). A request
    /// that failed on a reused connection before any answer arrived (the node had closed it
    /// while idle) is sent once more on a fresh one.
    private func plainRequest(_ method: String, url: URL, body: [UInt8]?, contentType: String,
                              headers: [(String, String)]) throws -> (status: Int, body: [UInt8]) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true), let host = components.host else {
            throw ClientError("\(url.absoluteString) names no host")
        }
        let port = components.port ?? 80
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(port)\r\n"
        var fields = headers
        if !fields.contains(where: { $0.0.lowercased() == "accept" }) { fields.insert(("Accept", "application/json"), at: 0) }
        if let body {
            fields.append(("Content-Type", contentType))
            fields.append(("Content-Length", String(body.count)))
        } else if method != "GET" && method != "HEAD" {
            fields.append(("Content-Length", "0"))
        }
        if let token { fields.append(("Authorization", "Bearer " + token)) }
        for (name, value) in fields {
            guard !(name + value).contains(where: { $0 == "\r" || $0 == "\n" }) else { throw ClientError("header \(name) holds a line break") }
            head += "\(name): \(value)\r\n"
        }
        let headBytes = Array((head + "\r\n").utf8)
        let pool = HTTPConnectionPool.shared
        while true {
            var connection: HTTPConnection?
            do {
                let open = try pool.take(host: host, port: port, timeout: timeout)
                connection = open
                open.limit(timeout)
                try open.send(head: headBytes, body: body)
                let answer = try open.response(toHEAD: method == "HEAD")
                if answer.keepAlive { pool.give(back: open) }
                return (answer.status, answer.body)
            } catch {
                if let connection, connection.reused, !connection.answered { continue }
                throw ClientError("cannot reach the node at \(base.absoluteString): \(error)")
            }
        }
    }

    /// Calls a JSON-RPC method; a JSON-RPC error becomes a `ClientError` with the node's message.
    public func call(_ method: String, _ params: [JSON] = []) throws -> JSON {
        let envelope: JSON = ["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": .array(params)]
        let (status, body) = try request("POST", body: envelope.serialized())
        guard let answer = try? JSON.parse(body) else {
            throw ClientError("the node answered \(method) with HTTP \(status) and no JSON")
        }
        if let error = answer["error"] {
            let message = error["message"]?.stringValue ?? error.description
            throw ClientError("\(method): \(message)")
        }
        guard let result = answer["result"] else { throw ClientError("the node's answer to \(method) has no result") }
        return result
    }
}
