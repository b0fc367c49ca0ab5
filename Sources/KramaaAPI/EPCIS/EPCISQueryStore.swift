import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaPrimitives

/// Named queries and their subscriptions (EPCIS 2.0 `/queries`), kept in
/// `epcis-queries.json` in the data directory (mode 0600: it holds subscribers' signature
/// tokens), replaced whole and durably on each change; in memory when there is no directory.
final class EPCISQueryStore: @unchecked Sendable {
    struct NamedQuery: Sendable {
        var name: String
        /// The query as given: parameter name → value or list of values.
        var query: JSONObject
        var createdAt: String
    }

    struct Subscription: Sendable {
        var id: String
        var queryName: String
        var dest: String
        var signatureToken: String?
        var stream: Bool
        var schedule: EPCISSchedule?
        var reportIfEmpty: Bool
        var initialRecordTime: String?
        var createdAt: String
        var lastNotifiedAt: String?
        /// Where the next notification's events start (a chain-order page token of the index).
        var cursor: String
        /// Failed notifications in a row (the backoff grows with it).
        var failures = 0
        var lastError: String?
    }

    static let fileName = "epcis-queries.json"
    static let maxQueries = 1_000, maxSubscriptionsPerQuery = 100

    private let path: String?
    private let lock = NSLock()
    private var queries: [String: NamedQuery] = [:]
    private var order: [String] = []
    private var subscriptions: [String: Subscription] = [:]

    init(directory: URL?) throws {
        path = directory?.appendingPathComponent(Self.fileName).path
        guard let path, let data = FileManager.default.contents(atPath: path) else { return }
        let json = try JSON.parse(Array(data))
        for q in json["queries"]?.arrayValue ?? [] {
            guard let name = q["name"]?.stringValue, let query = q["query"]?.objectValue else { continue }
            queries[name] = NamedQuery(name: name, query: query, createdAt: q["createdAt"]?.stringValue ?? "")
            order.append(name)
        }
        for s in json["subscriptions"]?.arrayValue ?? [] {
            guard let id = s["subscriptionID"]?.stringValue, let name = s["queryName"]?.stringValue, queries[name] != nil,
                  let dest = s["dest"]?.stringValue, let cursor = s["cursor"]?.stringValue else { continue }
            subscriptions[id] = Subscription(
                id: id, queryName: name, dest: dest, signatureToken: s["signatureToken"]?.stringValue, stream: s["stream"]?.boolValue ?? false,
                schedule: try s["schedule"]?.objectValue.map { try EPCISSchedule(json: $0) }, reportIfEmpty: s["reportIfEmpty"]?.boolValue ?? false,
                initialRecordTime: s["initialRecordTime"]?.stringValue, createdAt: s["createdAt"]?.stringValue ?? "",
                lastNotifiedAt: s["lastNotifiedAt"]?.stringValue, cursor: cursor)
        }
    }

    // MARK: Queries

    var allQueries: [NamedQuery] { lock.withLock { order.compactMap { queries[$0] } } }

    func query(_ name: String) -> NamedQuery? { lock.withLock { queries[name] } }

    func add(_ query: NamedQuery) throws {
        try change {
            guard queries[query.name] == nil else { throw HTTPConflict("a query named \(query.name) exists already") }
            guard queries.count < Self.maxQueries else { throw HTTPConflict("this node keeps at most \(Self.maxQueries) named queries") }
            queries[query.name] = query
            order.append(query.name)
        }
    }

    /// Removes the query and its subscriptions; false when there is none.
    func remove(_ name: String) throws -> Bool {
        var removed = false
        try change {
            removed = queries.removeValue(forKey: name) != nil
            order.removeAll { $0 == name }
            subscriptions = subscriptions.filter { $0.value.queryName != name }
        }
        return removed
    }

    // MARK: Subscriptions

    func subscriptions(of name: String) -> [Subscription] {
        lock.withLock { subscriptions.values.filter { $0.queryName == name }.sorted { $0.createdAt < $1.createdAt || ($0.createdAt == $1.createdAt && $0.id < $1.id) } }
    }

    var allSubscriptions: [Subscription] { lock.withLock { Array(subscriptions.values) } }

    func subscription(_ id: String) -> Subscription? { lock.withLock { subscriptions[id] } }

    func add(_ subscription: Subscription) throws {
        try change {
            guard queries[subscription.queryName] != nil else { throw HTTPConflict("no query \(subscription.queryName)") }
            guard subscriptions.values.filter({ $0.queryName == subscription.queryName }).count < Self.maxSubscriptionsPerQuery else {
                throw HTTPConflict("query \(subscription.queryName) has \(Self.maxSubscriptionsPerQuery) subscriptions already")
            }
            subscriptions[subscription.id] = subscription
        }
    }

    func removeSubscription(_ id: String) throws -> Bool {
        var removed = false
        try change { removed = subscriptions.removeValue(forKey: id) != nil }
        return removed
    }

    /// Updates a subscription after a notification attempt (nothing when it was removed meanwhile).
    func update(_ id: String, _ body: (inout Subscription) -> Void) {
        try? change {
            guard var s = subscriptions[id] else { return }
            body(&s)
            subscriptions[id] = s
        }
    }

    // MARK: Persistence

    private func change(_ body: () throws -> Void) throws {
        try lock.withLock {
            let saved = (queries, order, subscriptions)
            do {
                try body()
                try save()
            } catch {
                (queries, order, subscriptions) = saved
                throw error
            }
        }
    }

    private func save() throws {
        guard let path else { return }
        let json: JSON = [
            "queries": .array(order.compactMap { queries[$0] }.map { ["name": .string($0.name), "query": .object($0.query), "createdAt": .string($0.createdAt)] }),
            "subscriptions": .array(subscriptions.values.sorted { $0.id < $1.id }.map { s in
                var o: JSONObject = ["subscriptionID": .string(s.id), "queryName": .string(s.queryName), "dest": .string(s.dest), "stream": .bool(s.stream),
                                     "reportIfEmpty": .bool(s.reportIfEmpty), "createdAt": .string(s.createdAt), "cursor": .string(s.cursor)]
                if let t = s.signatureToken { o["signatureToken"] = .string(t) }
                if let schedule = s.schedule { o["schedule"] = .object(schedule.json) }
                if let t = s.initialRecordTime { o["initialRecordTime"] = .string(t) }
                if let t = s.lastNotifiedAt { o["lastNotifiedAt"] = .string(t) }
                return .object(o)
            }),
        ]
        try PrivateFile.replace(path: path, content: json.serialized())
    }
}

/// A request that conflicts with what exists (409).
struct HTTPConflict: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
