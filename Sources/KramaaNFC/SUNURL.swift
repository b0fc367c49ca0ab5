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

        /// The text of `url` in the UTF-8 byte range `range`.
        init(_ url: String, _ range: Range<Int>) {
            let utf8 = url.utf8
            let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            value = url[lower..<utf8.index(lower, offsetBy: range.count)]
            offset = range.lowerBound
        }
    }

    public let url: String
    public let piccData: Field?
    public let uid: Field?
    public let readCounter: Field?
    public let encFileData: Field?
    public let cmac: Field

    /// Splits `url` into its SDM fields; throws when no MAC or no PICC data/UID/counter is found.
    public init(_ url: String) throws(SUNError) {
        var url = url
        url.makeContiguousUTF8()
        self.url = url
        let bytes = Array(url.utf8)
        var fields = Fields()
        let end = bytes.firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        if let question = bytes.firstIndex(of: UInt8(ascii: "?")), question < end {
            var position = question + 1
            while position < end {
                let pairEnd = bytes[position..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
                let equals = bytes[position..<pairEnd].firstIndex(of: UInt8(ascii: "="))
                let valueStart = equals.map { $0 + 1 } ?? pairEnd
                if let slot = Fields.Slot(name: bytes[position..<(equals ?? pairEnd)]) {
                    guard fields[slot] == nil else {
                        let name = String(decoding: bytes[position..<(equals ?? pairEnd)], as: UTF8.self)
                        throw .malformedURL("parameter '\(name)' (or an alias of it) appears twice")
                    }
                    fields[slot] = valueStart..<pairEnd
                }
                position = pairEnd + 1
            }
        }
        if let compact = fields[.compact] ?? (fields.isEmpty ? Self.lastSegment(of: bytes, before: end) : nil) {
            try Self.splitCompact(bytes, compact, into: &fields)
        }
        func field(_ slot: Fields.Slot) -> Field? { fields[slot].map { Field(url, $0) } }
        guard let cmac = field(.cmac) else { throw .malformedURL("no MAC parameter (cmac or c) in '\(url)'") }
        guard fields[.picc] != nil || fields[.uid] != nil || fields[.counter] != nil else {
            throw .malformedURL("no PICC data (picc_data, e or p) and no plain uid/ctr in '\(url)'")
        }
        self.cmac = cmac
        piccData = field(.picc)
        uid = field(.uid)
        readCounter = field(.counter)
        encFileData = field(.enc)
    }

    /// Reads `url` by position against the layout the tag is programmed with; throws when the URL
    /// does not have that layout.
    public init(_ url: String, layout: SUNURLLayout) throws(SUNError) {
        var url = url
        url.makeContiguousUTF8()
        guard let ranges = layout.match(url) else {
            throw .malformedURL("'\(url)' does not have the registered layout '\(layout.template)'")
        }
        func field(_ name: SUNField) -> Field? { ranges[name].map { Field(url, $0) } }
        self.url = url
        cmac = field(.sdmmac)!
        piccData = field(.piccData)
        uid = field(.uid)
        readCounter = field(.readCounter)
        encFileData = field(.encFileData)
    }

    /// Whether a query parameter is one a SUN URL carries its fields in (`picc_data`, `e`, `p`,
    /// `enc`, `cmac`, `c`, `uid`, `ctr`, `m`; any case): how a page tells a tag's URL from a plain link.
    public static func isParameterName(_ name: String) -> Bool {
        Fields.Slot(name: Array(name.utf8)[...]) != nil
    }

    /// The byte ranges of the recognised fields while parsing.
    private struct Fields {
        enum Slot: Int, CaseIterable {
            case picc, enc, cmac, uid, counter, compact

            /// The slot of a parameter name (ASCII, case-insensitive), nil for other parameters.
            init?(name: ArraySlice<UInt8>) {
                func `is`(_ candidate: StaticString) -> Bool {
                    guard candidate.utf8CodeUnitCount == name.count else { return false }
                    return zip(name, UnsafeBufferPointer(start: candidate.utf8Start, count: candidate.utf8CodeUnitCount))
                        .allSatisfy { (0x41...0x5A ~= $0 ? $0 | 0x20 : $0) == $1 }
                }
                if `is`("picc_data") || `is`("e") || `is`("p") { self = .picc }
                else if `is`("cmac") || `is`("c") { self = .cmac }
                else if `is`("enc") { self = .enc }
                else if `is`("uid") { self = .uid }
                else if `is`("ctr") { self = .counter }
                else if `is`("m") { self = .compact }
                else { return nil }
            }
        }

        private var ranges: [Range<Int>?] = Array(repeating: nil, count: Slot.allCases.count)

        subscript(slot: Slot) -> Range<Int>? {
            get { ranges[slot.rawValue] }
            set { ranges[slot.rawValue] = newValue }
        }

        var isEmpty: Bool { ranges.allSatisfy { $0 == nil } }
    }

    /// The text after the last `/` that follows `://`.
    private static func lastSegment(of bytes: [UInt8], before end: Int) -> Range<Int>? {
        let slash = UInt8(ascii: "/")
        var start = 0
        if let scheme = (0..<max(0, end - 2)).first(where: { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == slash && bytes[$0 + 2] == slash }) {
            start = scheme + 3
        }
        if let last = bytes[start..<end].lastIndex(of: slash) { start = last + 1 }
        return start < end ? start..<end : nil
    }

    /// `PICC x MAC` or `PICC x ENC x MAC`.
    private static func splitCompact(_ bytes: [UInt8], _ range: Range<Int>, into fields: inout Fields) throws(SUNError) {
        let separators = range.filter { bytes[$0] == UInt8(ascii: "x") }
        guard separators.count == 1 || separators.count == 2 else {
            throw .malformedURL("compact SUN data must be PICCxMAC or PICCxENCxMAC, got \(separators.count + 1) segment(s)")
        }
        let bounds = [range.lowerBound - 1] + separators + [range.upperBound]
        let slots: [Fields.Slot] = separators.count == 1 ? [.picc, .cmac] : [.picc, .enc, .cmac]
        for (i, slot) in slots.enumerated() {
            guard fields[slot] == nil else { throw .malformedURL("the compact form repeats a field given as a parameter") }
            fields[slot] = (bounds[i] + 1)..<bounds[i + 1]
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
            guard let scheme = url.utf8.firstRange(of: "://".utf8) else { throw .malformedURL("no '://' in '\(url)'") }
            from = url.utf8.distance(from: url.utf8.startIndex, to: scheme.upperBound)
        case .offset(let offset):
            from = offset
        }
        guard from >= 0, from <= cmac.offset else {
            throw .malformedURL("the MAC input would start at offset \(from), after the MAC at \(cmac.offset)")
        }
        let utf8 = url.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: from)
        return Array(utf8[lower..<utf8.index(lower, offsetBy: cmac.offset - from)])
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
