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
        var request = URLRequest(url: path.isEmpty ? base : URL(string: path, relativeTo: base)!.absoluteURL, timeoutInterval: timeout)
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
