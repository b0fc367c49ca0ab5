import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KramaaChain
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaJSON
import KramaaNode
import KramaaPlatform
import KramaaPrimitives

/// How subscription notifications are sent (a protocol so tests can stand in for subscribers).
public protocol WebhookSender: Sendable {
    /// POSTs `body`; the HTTP status, or throws when nothing came back within `timeout`.
    func post(_ url: URL, body: [UInt8], headers: [(String, String)], timeout: TimeInterval) async throws -> Int
}

/// Webhooks through URLSession.
public struct URLSessionWebhookSender: WebhookSender {
    public init() {}

    public func post(_ url: URL, body: [UInt8], headers: [(String, String)], timeout: TimeInterval) async throws -> Int {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { _, response, error in
                if let error { return continuation.resume(throwing: error) }
                continuation.resume(returning: (response as? HTTPURLResponse)?.statusCode ?? 0)
            }.resume()
        }
    }
}

/// Notifies query subscribers (EPCIS 2.0 section 8.2.5.3, the REST binding's webhooks): a
/// streaming subscription after each block that records matching events, a scheduled one at
/// its times (with `reportIfEmpty`, even with none). Each notification is an
/// `EPCISQueryDocument` POSTed to `dest` with `GS1-Signature: sha256=<hex HMAC-SHA-256 of the
/// body under the subscription's signatureToken>`; at most 100 events each, more following at
/// once. A subscriber that fails or hangs (10 s) is retried after 1, 2, 4 … 60 s; one
/// notification per subscription is in flight at a time and its events are read again from the
/// index for each attempt, so a dead subscriber holds no memory. Progress is the subscription's
/// cursor in the index, kept with it across restarts: nothing is sent twice after a success,
/// and nothing is skipped.
final class EPCISNotifier: @unchecked Sendable {
    let store: EPCISQueryStore
    let index: EPCISIndex
    let sender: any WebhookSender
    let clock: TimeSource
    var timeout: TimeInterval = 10
    static let eventsPerNotification = 100
    private let queue = DispatchQueue(label: "kramaa.epcis-notifier")
    private var inFlight: Set<String> = []
    private var retryAt: [String: Duration] = [:]
    private var lastScheduledSecond: Int64 = 0
    private var observer: Int?
    private var stopped = false
    /// WebSocket subscribers (not kept across restarts: a client reconnects with initialRecordTime).
    private var live: [UUID: LiveStream] = [:]

    struct LiveStream {
        var queryName: String
        var initialRecordTime: String?
        var cursor: String
        let continuation: AsyncStream<String>.Continuation
    }

    init(store: EPCISQueryStore, index: EPCISIndex, sender: any WebhookSender, clock: TimeSource) {
        self.store = store
        self.index = index
        self.sender = sender
        self.clock = clock
    }

    /// Follows `node`'s blocks (streams) and ticks every second (schedules, retries).
    func start(node: Node) {
        observer = node.addObserver { [weak self] event in
            guard case .newBlock(let executed) = event, let self else { return }
            guard executed.block.transactions.contains(where: { $0.to == ProvenanceRegistry.address }) else { return }
            self.queue.async { self.notifyStreams() }
        }
        lastScheduledSecond = Int64(clock.unixSeconds)
        tick()
        queue.async { self.notifyStreams() }  // what was recorded while the node was down
    }

    func stop(node: Node) {
        queue.sync {
            stopped = true
            if let observer { node.removeObserver(observer) }
        }
    }

    private func tick() {
        clock.schedule(after: .seconds(1)) { [weak self] in
            guard let self else { return }
            self.queue.async {
                guard !self.stopped else { return }
                let now = Int64(self.clock.unixSeconds)
                // Every second since the last tick, once (a late tick does not skip a scheduled time).
                var due: Set<String> = []
                if now > self.lastScheduledSecond {
                    for second in (self.lastScheduledSecond + 1)...min(now, self.lastScheduledSecond + 120) {
                        for s in self.store.allSubscriptions where s.schedule?.fires(at: second) == true { due.insert(s.id) }
                    }
                    self.lastScheduledSecond = now
                }
                for id in due { self.notify(id, scheduled: true) }
                for (id, at) in self.retryAt where at <= self.clock.uptime { self.notify(id, scheduled: false) }
                self.tick()
            }
        }
    }

    /// Notifies every streaming subscription of what it has not been sent yet (on the queue).
    private func notifyStreams() {
        for s in store.allSubscriptions where s.stream { notify(s.id, scheduled: false) }
        for id in Array(live.keys) { pushLive(id) }
    }

    /// A WebSocket subscriber's stream of query documents: what matches from `cursor` on (with
    /// `initialRecordTime`, from that time), then each new match. A client that falls 64
    /// documents behind is disconnected rather than sent an incomplete history.
    func openStream(queryName: String, initialRecordTime: String?, cursor: String) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(64))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.queue.async { self.live[id] = nil }
        }
        queue.async {
            self.live[id] = LiveStream(queryName: queryName, initialRecordTime: initialRecordTime, cursor: cursor, continuation: continuation)
            self.pushLive(id)
        }
        return stream
    }

    private func pushLive(_ id: UUID) {
        guard var stream = live[id] else { return }
        guard let named = store.query(stream.queryName) else {
            stream.continuation.finish()  // the query was deleted
            return
        }
        while true {
            guard let page = try? index.query(Self.subscriptionQuery(named, initialRecordTime: stream.initialRecordTime, cursor: stream.cursor)),
                  !page.events.isEmpty else { break }
            let text = String(decoding: Self.document(page.events, queryName: named.name, subscriptionID: "websocket", at: clock), as: UTF8.self)
            if case .dropped = stream.continuation.yield(text) {
                stream.continuation.finish()
                break
            }
            stream.cursor = page.position ?? stream.cursor
            live[id] = stream
            if page.nextPageToken == nil { break }
        }
    }

    /// A stored query as a subscription runs it: in chain order from `cursor`, 100 at a time.
    static func subscriptionQuery(_ named: EPCISQueryStore.NamedQuery, initialRecordTime: String?, cursor: String) throws -> EPCISQuery {
        var query = try EPCISQuery(queryItems: items(of: named.query) + (initialRecordTime.map { [("GE_recordTime", $0)] } ?? []))
        (query.orderBy, query.eventCountLimit, query.maxEventCount) = (nil, nil, nil)
        query.perPage = eventsPerNotification
        query.nextPageToken = cursor
        return query
    }

    /// Sends `id` its next events, unless a notification is in flight or a retry is not due.
    private func notify(_ id: String, scheduled: Bool) {
        guard !stopped, !inFlight.contains(id), let subscription = store.subscription(id), let named = store.query(subscription.queryName) else { return }
        if let at = retryAt[id], at > clock.uptime { return }
        let page: EPCISQueryPage
        do {
            page = try index.query(Self.subscriptionQuery(named, initialRecordTime: subscription.initialRecordTime, cursor: subscription.cursor))
        } catch {
            store.update(id) { $0.lastError = "the query cannot run: \(error)" }
            return
        }
        guard !page.events.isEmpty || (scheduled && subscription.reportIfEmpty) || retryAt[id] != nil else { return }
        guard let url = URL(string: subscription.dest) else { return }
        let body = Self.document(page.events, queryName: named.name, subscriptionID: id, at: clock)
        var headers = [("Content-Type", "application/ld+json"), ("GS1-EPCIS-Version", "2.0.0"), ("GS1-CBV-Version", "2.0.0")]
        if let token = subscription.signatureToken {
            headers.append(("GS1-Signature", "sha256=" + Hex.encode(SHA256Digest.hmac(key: Array(token.utf8), message: body).bytes, prefix: false)))
        }
        inFlight.insert(id)
        let sender = self.sender, timeout = self.timeout
        Task {
            let outcome: Result<Int, any Error>
            do { outcome = .success(try await sender.post(url, body: body, headers: headers, timeout: timeout)) } catch { outcome = .failure(error) }
            self.queue.async { self.finished(id, outcome, page: page) }
        }
    }

    private func finished(_ id: String, _ outcome: Result<Int, any Error>, page: EPCISQueryPage) {
        inFlight.remove(id)
        switch outcome {
        case .success(let status) where (200..<300).contains(status):
            retryAt[id] = nil
            let now = Self.timestamp(clock)
            store.update(id) { s in
                s.cursor = page.position ?? s.cursor
                s.lastNotifiedAt = now
                (s.failures, s.lastError) = (0, nil)
            }
            if page.nextPageToken != nil { notify(id, scheduled: false) }  // more than one notification's worth
        case .success(let status):
            failed(id, "the subscriber answered HTTP \(status)")
        case .failure(let error):
            failed(id, "the subscriber did not answer: \(error.localizedDescription)")
        }
    }

    private func failed(_ id: String, _ reason: String) {
        var failures = 0
        store.update(id) { s in
            s.failures += 1
            s.lastError = reason
            failures = s.failures
        }
        guard store.subscription(id) != nil else { return retryAt[id] = nil }
        retryAt[id] = clock.uptime + .seconds(min(60, 1 << min(failures - 1, 6)))
    }

    /// A stored query's parameters as query items (a list is joined with `|`).
    static func items(of query: JSONObject) -> [(String, String?)] {
        query.map { name, value in
            let text: String
            switch value {
            case .array(let values): text = values.map { $0.stringValue ?? $0.numberValue?.description ?? "\($0)" }.joined(separator: "|")
            case .string(let s): text = s
            case .number(let n): text = n.description
            case .bool(let b): text = b ? "true" : "false"
            default: text = ""
            }
            return (name, text)
        }
    }

    static func document(_ events: [EPCISEvent], queryName: String, subscriptionID: String, at clock: TimeSource) -> [UInt8] {
        JSON.object([
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISQueryDocument", "schemaVersion": "2.0",
            "creationDate": .string(timestamp(clock)),
            "epcisBody": ["queryResults": ["queryName": .string(queryName), "subscriptionID": .string(subscriptionID),
                                           "resultsBody": ["eventList": .array(events.map(\.json))]]],
        ]).serialized()
    }

    static func timestamp(_ clock: TimeSource) -> String {
        let t = clock.sinceEpoch.components
        return EPCISTimestamp(secondsSinceEpoch: t.seconds, nanoseconds: Int32(t.attoseconds / 1_000_000_000)).description
    }
}
