import KramaaJSON
/// A JSON-RPC error object: `{"code": …, "message": …, "data"?: …}`.
///
/// Handlers throw it to choose what the client sees. Any other error thrown by a handler is
/// answered as a server error (-32000) with the error's description as message, as geth does;
/// conform domain errors to ``RPCErrorConvertible`` to pick codes for them instead.
/// The codes and messages below are geth's, so existing clients recognise them.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String {
        "RPC error \(code): \(message)" + (data.map { " (data: \($0))" } ?? "")
    }

    /// The JSON error object.
    public var json: JSON {
        var object: JSONObject = ["code": .number(JSONNumber(code)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    // MARK: Standard errors (JSON-RPC 2.0 and geth)

    /// -32700: the body is not JSON. `detail` (the parser's message) goes in `data`.
    public static func parseError(_ detail: String? = nil) -> RPCError {
        RPCError(code: -32700, message: "parse error", data: detail.map { .string($0) })
    }

    /// -32600: not a valid request object (or a batch problem: `empty batch`, `batch too large`).
    public static func invalidRequest(_ message: String = "invalid request") -> RPCError {
        RPCError(code: -32600, message: message)
    }

    /// -32601: no handler for `method`, with geth's message.
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "the method \(method) does not exist/is not available")
    }

    /// -32602: the arguments do not fit the method (see ``RPCParams``, which words these).
    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: -32602, message: message)
    }

    /// -32603: the server failed in a way that is not the request's fault.
    public static func internalError(_ message: String = "internal error") -> RPCError {
        RPCError(code: -32603, message: message)
    }

    /// -32000: the generic server error geth uses for failed calls (`nonce too low`, …).
    public static func server(_ message: String, data: JSON? = nil) -> RPCError {
        RPCError(code: -32000, message: message, data: data)
    }

    /// -32601 `notifications not supported`: a subscription asked for over plain HTTP.
    public static let notificationsNotSupported = RPCError(code: -32601, message: "notifications not supported")

    /// -32003 `response too large`: the calls of a batch that did not fit the batch response limit.
    public static let responseTooLarge = RPCError(code: -32003, message: "response too large")

    /// Code 3, `execution reverted[: reason]` with the revert data as hex in `data` (geth's
    /// answer to a reverted `eth_call`/`eth_estimateGas`).
    public static func executionReverted(reason: String?, data: [UInt8]) -> RPCError {
        let message = reason.map { "execution reverted: \($0)" } ?? "execution reverted"
        return RPCError(code: 3, message: message, data: .data(data))
    }
}

/// An error that knows which JSON-RPC error it is answered with (like geth's `ErrorCode()`):
/// conform domain errors (transaction pool refusals, state errors) to keep handlers free of
/// mapping code.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The JSON-RPC error for anything a handler threw.
    static func from(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case let error as RPCErrorConvertible: error.rpcError
        case is CancellationError: .server("request cancelled")
        default: .server(String(describing: error))
        }
    }
}
