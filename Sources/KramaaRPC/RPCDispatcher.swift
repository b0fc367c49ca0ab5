import KramaaJSON
import NIOCore

/// The JSON-RPC 2.0 codec: decodes a request body (one call or a batch), calls the handler,
/// and encodes the answer. Transport-free, so it serves HTTP, WebSocket and in-process callers
/// alike, and eth_* handlers can be tested through it without sockets.
///
/// It answers as geth does: -32700 `parse error` for bad JSON; -32600 `invalid request` for a
/// call that is not an object with `"jsonrpc":"2.0"`, a method name and a string, number or
/// null id; a single -32600 `empty batch` for `[]`; a one-element array with -32600
/// `batch too large` (carrying the first call's id) for a batch over the limit; and -32003
/// `response too large` for the calls of a batch left over once its answer passes the size
/// limit. Notifications (no `id`) are run but never answered. Ids are echoed exactly.
public struct RPCDispatcher: Sendable {
    /// Bounds on what one body may ask for (geth's defaults).
    public struct Limits: Sendable, Equatable {
        /// Calls in one batch (geth's `BatchRequestLimit`, 1000).
        public var maxBatchItems: Int = 1000
        /// Bytes of one batch's answer before the remaining calls are refused (geth's
        /// `BatchResponseMaxSize`, 25 MB).
        public var maxBatchResponseBytes: Int = 25 * 1000 * 1000
        /// Bytes of any one call's answer; a larger answer is replaced by -32003 `response too
        /// large` (with what to do in `data`), so no single call sends more than this.
        public var maxResponseBytes: Int = 25 * 1000 * 1000
        /// Nesting depth of the request JSON.
        public var maxDepth: Int = JSON.defaultMaxDepth

        public init() {}
    }

    public let handler: any RPCHandler
    public let limits: Limits

    public init(handler: some RPCHandler, limits: Limits = Limits()) {
        self.handler = handler
        self.limits = limits
    }

    /// Answers a request body: the response body, or `nil` when there is nothing to send
    /// (notifications only).
    public func respond(to body: [UInt8], context: RPCContext = .inProcess()) async -> [UInt8]? {
        let parsed = Result { () throws(JSONParseError) -> JSON in try JSON.parse(body, maxDepth: limits.maxDepth) }
        return await respond(parsed: parsed, context: context).body
    }

    /// Answers a body given as text (for tests and tools).
    public func respond(to text: String, context: RPCContext = .inProcess()) async -> String? {
        await respond(to: Array(text.utf8), context: context).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The answer to one body, and the subscriptions its calls created (to activate once the
    /// answer is queued).
    struct Outcome {
        var body: [UInt8]?
        var subscriptions: [RPCSubscription] = []
    }

    func respond(to buffer: ByteBuffer, transport: RPCContext.Transport, remoteAddress: String?, authorization: String? = nil,
                 connection: RPCConnection?) async -> Outcome {
        let parsed = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(JSONParseError) -> JSON in try JSON.parse(raw, maxDepth: limits.maxDepth) }
        }
        let context = RPCContext(transport: transport, remoteAddress: remoteAddress, authorization: authorization, connection: connection,
                                 created: connection.map { _ in SubscriptionCollector() })
        return await respond(parsed: parsed, context: context)
    }

    private func respond(parsed: Result<JSON, JSONParseError>, context: RPCContext) async -> Outcome {
        let document: JSON
        switch parsed {
        case .success(let value): document = value
        case .failure(let error):
            var writer = JSONWriter(capacity: 128)
            Self.writeResponse(id: .null, result: .failure(.parseError(error.description)), into: &writer)
            return Outcome(body: writer.bytes)
        }
        guard case .array(let items) = document else {
            var writer = JSONWriter()
            var outcome = Outcome()
            let answered = await call(Self.decodeRequest(document), context: context, into: &writer, subscriptions: &outcome.subscriptions)
            if answered { outcome.body = writer.bytes }
            return outcome
        }
        return await respondToBatch(items, context: context)
    }

    private func respondToBatch(_ items: [JSON], context: RPCContext) async -> Outcome {
        var writer = JSONWriter(capacity: 64 * min(items.count, 1024))
        if items.isEmpty {
            Self.writeResponse(id: .null, result: .failure(.invalidRequest("empty batch")), into: &writer)
            return Outcome(body: writer.bytes)
        }
        if items.count > limits.maxBatchItems {
            // One error for the whole batch, carrying the first call's id (geth's answer).
            let id = items.lazy.compactMap { item -> JSON? in
                guard case .success(let request) = Self.decodeRequest(item) else { return nil }
                return request.id
            }.first ?? .null
            writer.writeRaw("[")
            Self.writeResponse(id: id, result: .failure(.invalidRequest("batch too large")), into: &writer)
            writer.writeRaw("]")
            return Outcome(body: writer.bytes)
        }
        let requests = items.map(Self.decodeRequest)
        await handler.prepare(batch: requests.compactMap { try? $0.get() }, context: context)
        var outcome = Outcome()
        writer.writeRaw("[")
        var answers = 0
        var held: [HeldAnswer] = []
        for (item, request) in zip(items, requests) {
            let mark = writer.bytes.count
            if answers > 0 { writer.writeRaw(",") }
            if writer.bytes.count > limits.maxBatchResponseBytes {
                // Over the limit: the remaining calls are refused without being run.
                if case .success(let call) = request, let id = call.id {
                    Self.writeResponse(id: id, result: .failure(.responseTooLarge), into: &writer)
                    answers += 1
                } else {
                    writer.truncate(to: mark)
                }
                continue
            }
            let gates = AnswerGates()
            if await call(request, context: context, gates: gates, into: &writer, subscriptions: &outcome.subscriptions) {
                answers += 1
                if let answer = HeldAnswer(gates: gates, item: item, start: mark, end: writer.bytes.count) { held.append(answer) }
            } else {
                writer.truncate(to: mark)
                await gates.wait()  // a notification's work is done before the batch is answered
            }
        }
        writer.writeRaw("]")
        if !held.isEmpty { writer = await Self.settle(held, in: writer) }
        if answers > 0 { outcome.body = writer.bytes }
        return outcome
    }

    /// A batch answer written before its gates (`RPCContext.holdAnswer`) were awaited: where it
    /// is in the batch's bytes, to replace it if a gate fails.
    struct HeldAnswer {
        var gates: [@Sendable () async throws -> Void]
        var id: JSON
        var start: Int
        var end: Int

        init?(gates: AnswerGates, item: JSON, start: Int, end: Int) {
            self.gates = gates.take()
            guard !self.gates.isEmpty, case .success(let request) = RPCDispatcher.decodeRequest(item), let id = request.id else { return nil }
            self.id = id
            self.start = start
            self.end = end
        }
    }

    /// Awaits the held answers' gates (in order; a gate already satisfied returns at once) and
    /// returns the batch's bytes with the answer of each call whose gate failed replaced by its error.
    static func settle(_ held: [HeldAnswer], in writer: JSONWriter) async -> JSONWriter {
        var failed: [(HeldAnswer, RPCError)] = []
        for answer in held {
            do { for gate in answer.gates { try await gate() } } catch { failed.append((answer, RPCError.from(error))) }
        }
        guard !failed.isEmpty else { return writer }
        let bytes = writer.bytes
        var rebuilt = JSONWriter(capacity: bytes.count)
        var at = 0
        for (answer, error) in failed {
            // `start` is before the separating comma of every answer but the first.
            let comma = answer.start > 1 ? 1 : 0
            rebuilt.writeRaw(bytes[at..<answer.start + comma])
            writeResponse(id: answer.id, result: .failure(error), into: &rebuilt)
            at = answer.end
        }
        rebuilt.writeRaw(bytes[at...])
        return rebuilt
    }

    /// Runs one call and writes its answer; `false` if it was a notification (nothing written).
    /// Without `gates` (a single call) its answer's gates are awaited here.
    private func call(_ decoded: Result<RPCRequest, InvalidCall>, context: RPCContext, gates: AnswerGates? = nil, into writer: inout JSONWriter,
                      subscriptions: inout [RPCSubscription]) async -> Bool {
        let request: RPCRequest
        switch decoded {
        case .failure(let invalid):
            Self.writeResponse(id: invalid.id, result: .failure(invalid.error), into: &writer)
            return true
        case .success(let decoded): request = decoded
        }
        let created = context.created.map { _ in SubscriptionCollector() }
        let held = gates ?? AnswerGates()
        let callContext = RPCContext(transport: context.transport, remoteAddress: context.remoteAddress,
                                     authorization: context.authorization, connection: context.connection, created: created, gates: held)
        var result: Result<RPCResult, RPCError>
        do {
            result = .success(try await handler.respond(to: request, context: callContext))
        } catch {
            result = .failure(RPCError.from(error))
        }
        if gates == nil {
            for gate in held.take() {
                do { try await gate() } catch { if case .success = result { result = .failure(RPCError.from(error)) } }
            }
        }
        let made = created?.take() ?? []
        if case .success = result, !request.isNotification {
            subscriptions += made
        } else {
            // A failed call (or a notification, whose answer never carries the id) keeps none.
            for subscription in made { subscription.cancel() }
        }
        guard let id = request.id else { return false }
        let mark = writer.bytes.count
        Self.writeResponse(id: id, result: result, into: &writer)
        if writer.bytes.count - mark > limits.maxResponseBytes {
            writer.truncate(to: mark)
            let error = RPCError(code: RPCError.responseTooLarge.code, message: RPCError.responseTooLarge.message,
                                 data: .string("the answer to \(request.method) passes \(limits.maxResponseBytes) bytes: ask for less (a smaller range, fewer items)"))
            Self.writeResponse(id: id, result: .failure(error), into: &writer)
        }
        return true
    }

    /// A call that cannot be run: the id to answer with and why.
    struct InvalidCall: Error {
        var id: JSON
        var error: RPCError
    }

    /// Decodes one request object with geth's checks (`jsonrpc` is `"2.0"`, the id is a string,
    /// number or null, the method a non-empty string).
    static func decodeRequest(_ item: JSON) -> Result<RPCRequest, InvalidCall> {
        guard case .object(let object) = item else {
            return .failure(InvalidCall(id: .null, error: .invalidRequest()))
        }
        let id = object["id"]
        switch id {
        case .array?, .object?:
            return .failure(InvalidCall(id: .null, error: .invalidRequest()))
        default: break
        }
        guard object["jsonrpc"] == .string("2.0"), case .string(let method)? = object["method"], !method.isEmpty else {
            return .failure(InvalidCall(id: id ?? .null, error: .invalidRequest()))
        }
        return .success(RPCRequest(method: method, params: RPCParams(object["params"]), id: id))
    }

    /// Writes `{"jsonrpc":"2.0","id":…,"result":…}` or `…,"error":{…}}`.
    static func writeResponse(id: JSON, result: Result<RPCResult, RPCError>, into writer: inout JSONWriter) {
        writer.writeRaw(#"{"jsonrpc":"2.0","id":"#)
        writer.write(id)
        switch result {
        case .success(.value(let value)):
            writer.writeRaw(#","result":"#)
            writer.write(value)
        case .success(.written(let written)):
            writer.writeRaw(#","result":"#)
            writer.reserve(written.size + 1)
            written.write(&writer)
        case .failure(let error):
            writer.writeRaw(#","error":"#)
            writer.write(error.json)
        }
        writer.writeRaw("}")
    }

    /// A whole error response body with a null id (for errors found before any JSON is read).
    static func errorBody(_ error: RPCError) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writeResponse(id: .null, result: .failure(error), into: &writer)
        return writer.bytes
    }
}
