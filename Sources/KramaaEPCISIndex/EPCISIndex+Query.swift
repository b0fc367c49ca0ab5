import KramaaEPCIS

/// One page of a query's results, and the token of the next page when there is one.
public struct EPCISQueryPage: Sendable {
    public var events: [EPCISEvent]
    public var nextPageToken: String?
    /// In chain order: where the last event returned is (a subscription's cursor), as a
    /// `nextPageToken` (`s` and the row) that continues after it.
    public var position: String?
}

extension EPCISIndex {
    /// The events that match `query`, one page (`perPage`, default 30) from its `nextPageToken`.
    ///
    /// Without `orderBy` or a count limit, results come in chain order and are streamed: only
    /// the candidates up to the end of the page are read, and the token names where the next
    /// page starts (`s` and the last row). With them, every match is read, sorted and limited
    /// as the standard says, and the token is an offset (`o` and a number). Either way the
    /// candidates are what the index's columns narrow the query to, and the full matcher decides.
    public func query(_ query: EPCISQuery, hierarchy: EPCISLocationHierarchy = EPCISLocationHierarchy()) throws -> EPCISQueryPage {
        let narrowing = EPCISIndexNarrowing(query)
        let perPage = query.perPage ?? EPCISQuery.defaultPerPage
        if query.orderBy == nil && query.eventCountLimit == nil && query.maxEventCount == nil {
            let after = try Self.token(query.nextPageToken, "s")
            var events: [EPCISEvent] = [], last: Int64 = 0, more = false
            try read { store in
                try store.scan(narrowing, after: after) { batch in
                    for (seq, entry) in batch where query.matches(entry.event, hierarchy: hierarchy) {
                        if events.count == perPage {
                            more = true
                            return false
                        }
                        events.append(entry.event)
                        last = seq
                    }
                    return true
                }
            }
            return EPCISQueryPage(events: events, nextPageToken: more ? "s\(last)" : nil, position: events.isEmpty ? query.nextPageToken : "s\(last)")
        }
        let offset = try Self.token(query.nextPageToken, "o") ?? 0
        var matched: [EPCISEvent] = []
        try read { store in
            try store.scan(narrowing, after: nil, byEventTime: query.orderBy == .eventTime) { batch in
                matched += batch.lazy.map(\.entry.event).filter { query.matches($0, hierarchy: hierarchy) }
                return true
            }
        }
        let result = try query.execute(matched, hierarchy: hierarchy)
        let page = query.page(of: result, from: Int(offset))
        return EPCISQueryPage(events: Array(page.items), nextPageToken: page.nextOffset.map { "o\($0)" }, position: nil)
    }

    /// The position a `nextPageToken` this index issued names; nil when there is none.
    static func token(_ text: String?, _ kind: Character) throws(QueryParameterException) -> Int64? {
        guard let text else { return nil }
        guard text.first == kind, let value = Int64(text.dropFirst()), value >= 0 else {
            throw .invalidValue(parameter: "nextPageToken", value: text, expected: "a token from this query's previous page")
        }
        return value
    }
}
