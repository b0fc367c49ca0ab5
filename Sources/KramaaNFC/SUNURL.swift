/// Where the tag's SDMMACInputOffset points in the URL: the MAC covers the URL text from
/// there up to the MAC itself.
public enum SDMMACInputStart: Sendable, Equatable {
    /// SDMMACInputOffset == SDMMACOffset: the MAC covers no bytes (AN12196's first example).
    case empty
    /// From the first character of the PICCData value.
    case piccData
    /// From the first character of the SDMENCFileData value (AN12196's `…&cmac=` example).
    case encFileData
    /// From the encrypted file data when the URL has some, else empty: the layout of
    /// AN12196's examples and the sdm-backend project.
    case conventional
    /// From the first character after `://` (the scheme is an NDEF URI prefix code, not file data).
    case afterScheme
    /// From this UTF-8 offset within the URL string.
    case offset(Int)
}

/// A SUN URL split into its SDM fields, with their positions.
///
/// Recognised query parameters: PICCData `picc_data`, `e` (AN12196) or `p` (Bolt Card);
/// file data `enc`; MAC `cmac` or `c`; plain mirroring `uid` and `ctr`. The compact form
/// `PICC x [ENC x] MAC` (hex segments joined by `x`) is read from an `m` parameter or, when
/// the URL has no recognised parameter, from its last path segment.
public struct SUNURL: Sendable {
    /// One field's text and its UTF-8 offset in the URL.
    public struct Field: Sendable, Equatable {
        public let value: Substring
        public let offset: Int
    }

    public let url: String
    public let piccData: Field?
    public let uid: Field?
    public let readCounter: Field?
    public let encFileData: Field?
    public let cmac: Field

    private static let piccNames: Set<String> = ["picc_data", "e", "p"]
    private static let macNames: Set<String> = ["cmac", "c"]

    /// Splits `url` into its SDM fields; throws when no MAC or no PICC data/UID/counter is found.
    public init(_ url: String) throws(SUNError) {
        self.url = url
        var fields: [String: Field] = [:]
        let utf8 = url.utf8
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?")).map { utf8.index(after: $0) }
        let end = utf8.firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        if let queryStart, queryStart <= end {
            for pair in url[queryStart..<end].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = parts[0].lowercased()
                let value = parts.count > 1 ? parts[1] : pair[pair.endIndex...]
                let key: String
                switch name {
                case _ where Self.piccNames.contains(name): key = "picc"
                case _ where Self.macNames.contains(name): key = "cmac"
                case "enc", "uid", "ctr", "m": key = name
                default: continue
                }
                guard fields[key] == nil else { throw .malformedURL("parameter '\(name)' (or an alias of it) appears twice") }
                fields[key] = Field(value: value, offset: utf8.distance(from: utf8.startIndex, to: value.startIndex))
            }
        }
        if let compact = fields["m"] ?? (fields.isEmpty ? Self.lastSegment(of: url, before: end) : nil) {
            try Self.splitCompact(compact, into: &fields)
        }
        guard let cmac = fields["cmac"] else { throw .malformedURL("no MAC parameter (cmac or c) in '\(url)'") }
        guard fields["picc"] != nil || fields["uid"] != nil || fields["ctr"] != nil else {
            throw .malformedURL("no PICC data (picc_data, e or p) and no plain uid/ctr in '\(url)'")
        }
        self.cmac = cmac
        piccData = fields["picc"]
        uid = fields["uid"]
        readCounter = fields["ctr"]
        encFileData = fields["enc"]
    }

    /// The text after the last `/` that follows `://`, as a field.
    private static func lastSegment(of url: String, before end: String.Index) -> Field? {
        let utf8 = url.utf8
        let scheme = url.firstRange(of: "://")
        let searchStart = scheme?.upperBound ?? url.startIndex
        let path = url[searchStart..<end]
        let start = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let segment = url[start..<end]
        guard !segment.isEmpty else { return nil }
        return Field(value: segment, offset: utf8.distance(from: utf8.startIndex, to: start))
    }

    /// `PICC x MAC` or `PICC x ENC x MAC`.
    private static func splitCompact(_ field: Field, into fields: inout [String: Field]) throws(SUNError) {
        let parts = field.value.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else {
            throw .malformedURL("compact SUN data must be PICCxMAC or PICCxENCxMAC, got \(parts.count) segment(s)")
        }
        func make(_ part: Substring) -> Field {
            Field(value: part, offset: field.offset + field.value.utf8.distance(from: field.value.startIndex, to: part.startIndex))
        }
        for (key, part) in zip(parts.count == 2 ? ["picc", "cmac"] : ["picc", "enc", "cmac"], parts) {
            guard fields[key] == nil else { throw .malformedURL("the compact form repeats a field given as a parameter") }
            fields[key] = make(part)
        }
    }

    /// The MAC input the tag used, given where its SDMMACInputOffset points.
    public func macInput(start: SDMMACInputStart) throws(SUNError) -> [UInt8] {
        let from: Int
        switch start {
        case .empty:
            return []
        case .piccData:
            guard let field = piccData ?? uid ?? readCounter else { throw .missing(.piccData) }
            from = field.offset
        case .encFileData:
            guard let encFileData else { throw .missing(.encFileData) }
            from = encFileData.offset
        case .conventional:
            guard let encFileData else { return [] }
            from = encFileData.offset
        case .afterScheme:
            guard let scheme = url.firstRange(of: "://") else { throw .malformedURL("no '://' in '\(url)'") }
            from = url.utf8.distance(from: url.utf8.startIndex, to: scheme.upperBound)
        case .offset(let offset):
            from = offset
        }
        guard from >= 0, from <= cmac.offset else {
            throw .malformedURL("the MAC input would start at offset \(from), after the MAC at \(cmac.offset)")
        }
        return Array(url.utf8.dropFirst(from).prefix(cmac.offset - from))
    }

    /// The SUN message of this URL, with the MAC input taken from `macInputStart`.
    public func message(macInputStart: SDMMACInputStart = .conventional) throws(SUNError) -> SUNMessage {
        let input = try macInput(start: macInputStart)
        if let piccData {
            return try SUNMessage(piccDataHex: piccData.value, encHex: encFileData?.value, cmacHex: cmac.value, macInput: input)
        }
        return try SUNMessage(uidHex: uid?.value, readCounterHex: readCounter?.value, encHex: encFileData?.value,
                              cmacHex: cmac.value, macInput: input)
    }
}
