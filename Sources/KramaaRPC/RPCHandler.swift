import KramaaJSON
import NIOConcurrencyHelpers

/// What the server calls for each request: the one thing an API layer (the eth_* methods)
/// implements. Usually an ``RPCRouter``.
///
/// `handle` runs in its own task per request, so it may suspend for as long as it needs
/// without holding up other connections. Return the `result`; throw ``RPCError`` to choose the
/// error object, or anything else to answer -32000 with its description. Over WebSocket a
/// connection's requests run concurrently; within an HTTP batch they run in order.
public protocol RPCHandler: Sendable {
    func handle(_ request: RPCRequest, context: RPCContext) async throws -> JSON
    /// The answer as the dispatcher writes it: a value, or JSON the method writes itself. The
    /// default answers `handle`'s value; ``RPCRouter`` answers its writing methods' JSON, and a
    /// handler wrapping another should pass its inner handler's `respond` on, so those answers
    /// reach the wire without being parsed back into values.
    func respond(to request: RPCRequest, context: RPCContext) async throws -> RPCResult
    /// Called with a batch's well-formed calls before any of them runs (they then run in
    /// order): work that needs no shared state, such as recovering the senders of transactions,
    /// is done for the whole batch here, so it goes on while a lock the calls take is held
    /// elsewhere. The default does nothing; a handler wrapping another passes it on.
    func prepare(batch: [RPCRequest], context: RPCContext) async
}

extension RPCHandler {
    public func respond(to request: RPCRequest, context: RPCContext) async throws -> RPCResult {
        .value(try await handle(request, context: context))
    }

    public func prepare(batch: [RPCRequest], context: RPCContext) async {}
}

/// A call's answer: a value, or JSON the method writes itself. Large answers (thousands of
/// logs in one eth_getLogs) are written straight from their data into the response, without
/// a tree of small values to build and serialize, nor a buffer of their own to copy.
public enum RPCResult: Sendable {
    case value(JSON)
    case written(WrittenJSON)

    /// The answer as a value; written answers are written and parsed (for in-process callers
    /// and tests).
    public func json() throws(JSONParseError) -> JSON {
        switch self {
        case .value(let value): value
        case .written(let written): try JSON.parse(written.bytes())
        }
    }
}

/// JSON a method writes itself, when the response is written: `write` appends the compact
/// text of one value (the method guarantees it is valid); `size` is about how many bytes that
/// is, reserved up front so a large answer is not copied as its buffer grows.
public struct WrittenJSON: Sendable {
    public let size: Int
    public let write: @Sendable (inout JSONWriter) -> Void

    public init(size: Int, write: @escaping @Sendable (inout JSONWriter) -> Void) {
        self.size = size
        self.write = write
    }

    /// A value written as the writer writes values (for methods that answer either way).
    public init(_ value: JSON) {
        self.init(size: 64) { $0.write(value) }
    }

    /// The text on its own.
    public func bytes() -> [UInt8] {
        var writer = JSONWriter(capacity: size)
        write(&writer)
        return writer.bytes
    }
}

/// One call: its method, its arguments and (unless a notification) its id.
public struct RPCRequest: Sendable, Equatable {
    public var method: String
    public var params: RPCParams
    /// The id as sent (string, number or `null`); `nil` for a notification, which gets no answer.
    public var id: JSON?

    /// A call; the defaults (no params, id 1) suit calling a handler directly in tests. Pass
    /// `id: nil` for a notification.
    public init(method: String, params: RPCParams = RPCParams(nil), id: JSON? = .number(JSONNumber(1))) {
        self.method = method
        self.params = params
        self.id = id
    }

    public var isNotification: Bool { id == nil }
}

/// The connection a call came in on, and what it allows: subscriptions exist only on
/// WebSocket connections, and end with them.
public struct RPCContext: Sendable {
    public enum Transport: Sendable, Equatable {
        case http
        case webSocket
        /// Called directly through ``RPCDispatcher`` (tests, in-process clients).
        case inProcess
    }

    public let transport: Transport
    /// The peer's address (`127.0.0.1:53122`), when known.
    public let remoteAddress: String?
    /// The `Authorization` header of the HTTP request (over WebSocket: of the upgrade request),
    /// for the methods that need credentials.
    public let authorization: String?
    let connection: RPCConnection?
    let created: SubscriptionCollector?
    /// Set by the dispatcher: what the answer waits for (`holdAnswer`).
    let gates: AnswerGates?

    init(transport: Transport, remoteAddress: String?, authorization: String? = nil, connection: RPCConnection?, created: SubscriptionCollector?,
         gates: AnswerGates? = nil) {
        self.transport = transport
        self.remoteAddress = remoteAddress
        self.authorization = authorization
        self.connection = connection
        self.created = created
        self.gates = gates
    }

    /// Holds this call's answer until `gate` returns: the answer (and, in a batch, the whole
    /// batch's answer) is sent only after it, and if it throws the call is answered with that
    /// error instead. The calls of a batch run first and their gates are awaited together at
    /// the end, so work such as a durable write is shared by the batch rather than awaited
    /// call by call. Called outside the dispatcher (no batch), it waits for `gate` at once.
    public func holdAnswer(until gate: @escaping @Sendable () async throws -> Void) async throws {
        if let gates { gates.append(gate) } else { try await gate() }
    }

    /// A context for calling a handler directly (no connection, so no subscriptions).
    public static func inProcess() -> RPCContext {
        RPCContext(transport: .inProcess, remoteAddress: nil, connection: nil, created: nil)
    }

    /// A context as a remote caller's would be (tests of the methods that check credentials).
    public static func remote(_ address: String, authorization: String? = nil) -> RPCContext {
        RPCContext(transport: .http, remoteAddress: address, authorization: authorization, connection: nil, created: nil)
    }

    /// Whether ``subscribe(notificationMethod:)`` can work here (a WebSocket connection).
    public var supportsSubscriptions: Bool { connection != nil }

    /// Creates a subscription on this connection and returns it; answer the call with its
    /// ``RPCSubscription/id`` (as `eth_subscribe` does). Notifications sent before that answer
    /// is written are held back and delivered after it, so the client always learns the id
    /// first; if the call then fails, the subscription is cancelled.
    ///
    /// - Parameter notificationMethod: the `method` of the notifications (`eth_subscription`).
    /// - Throws: -32601 `notifications not supported` when the call did not come over WebSocket.
    public func subscribe(notificationMethod: String = "eth_subscription") throws(RPCError) -> RPCSubscription {
        guard let connection, let created else { throw .notificationsNotSupported }
        let subscription = try connection.makeSubscription(notificationMethod: notificationMethod)
        created.append(subscription)
        return subscription
    }

    /// Cancels the subscription `id` if this connection owns it; `false` if there is none
    /// (the answer of `eth_unsubscribe`). Over HTTP throws `notifications not supported`.
    public func unsubscribe(_ id: String) throws(RPCError) -> Bool {
        guard let connection else { throw .notificationsNotSupported }
        return connection.cancelSubscription(id)
    }
}

/// A handler made of named methods: register closures, and unknown methods are answered with
/// -32601 `the method X does not exist/is not available`. Register everything before serving
/// (it is a value; the server keeps the copy it was given).
public struct RPCRouter: RPCHandler {
    /// A method's implementation: the arguments and the connection in, the result out.
    public typealias Method = @Sendable (RPCParams, RPCContext) async throws -> JSON
    /// A method whose result's JSON is written by the method itself, into the response.
    public typealias WritingMethod = @Sendable (RPCParams, RPCContext) async throws -> WrittenJSON

    /// A batch's preparation for one method: the arguments of every call of it in the batch.
    public typealias Preparation = @Sendable ([RPCParams], RPCContext) async -> Void

    private var methods: [String: @Sendable (RPCParams, RPCContext) async throws -> RPCResult] = [:]
    private var preparations: [String: Preparation] = [:]

    public init() {}

    /// Registers `body` as `name`; registering a name again replaces the earlier method.
    public mutating func register(_ name: String, _ body: @escaping Method) {
        methods[name] = { params, context in .value(try await body(params, context)) }
    }

    /// Registers `body`, which writes its result's JSON itself, as `name`.
    public mutating func registerWriting(_ name: String, _ body: @escaping WritingMethod) {
        methods[name] = { params, context in .written(try await body(params, context)) }
    }

    /// Registers what a batch does ahead for its calls of `name` (``RPCHandler/prepare(batch:context:)``).
    /// It may only do work ahead: the calls' answers must be what they would be without it.
    public mutating func registerBatchPreparation(_ name: String, _ body: @escaping Preparation) {
        preparations[name] = body
    }

    /// The registered method names, sorted (for `rpc_modules`-style listings and tests).
    public var methodNames: [String] { methods.keys.sorted() }

    public func handle(_ request: RPCRequest, context: RPCContext) async throws -> JSON {
        try await respond(to: request, context: context).json()
    }

    public func respond(to request: RPCRequest, context: RPCContext) async throws -> RPCResult {
        guard let method = methods[request.method] else { throw RPCError.methodNotFound(request.method) }
        return try await method(request.params, context)
    }

    public func prepare(batch: [RPCRequest], context: RPCContext) async {
        guard !preparations.isEmpty else { return }
        var params: [String: [RPCParams]] = [:]
        for request in batch where preparations[request.method] != nil { params[request.method, default: []].append(request.params) }
        for (name, list) in params { await preparations[name]!(list, context) }
    }
}

/// What one call's answer waits for (``RPCContext/holdAnswer(until:)``), collected while the call runs.
final class AnswerGates: Sendable {
    private let gates = NIOLockedValueBox<[@Sendable () async throws -> Void]>([])

    func append(_ gate: @escaping @Sendable () async throws -> Void) {
        gates.withLockedValue { $0.append(gate) }
    }

    func take() -> [@Sendable () async throws -> Void] {
        gates.withLockedValue { list in
            defer { list = [] }
            return list
        }
    }

    /// Awaits every gate, ignoring failures (a notification has no answer to replace).
    func wait() async {
        for gate in take() { try? await gate() }
    }
}
