/// A JSON value: what JSON-RPC requests carry and what handlers return.
///
/// Numbers keep the text they were written with (``JSONNumber``), so an id such as
/// `18446744073709551617` or `1.50` is echoed back exactly, and nothing is lost to `Double`.
/// Objects keep their members in insertion order (``JSONObject``), so output is deterministic.
///
/// Build values with literals (`["hash": .string(h), "index": .quantity(3)]`), parse them with
/// ``JSON/parse(_:)-(UnsafeRawBufferPointer)`` and write them with ``JSON/serialized()``.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// Nesting allowed by default: far beyond any Ethereum JSON-RPC payload, shallow enough that
    /// recursion cannot exhaust a thread's stack.
    public static let defaultMaxDepth = 128

    /// Parses one JSON document (surrounding whitespace allowed, nothing else after it).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSON.defaultMaxDepth) throws(JSONParseError) -> JSON {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from bytes.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = JSON.defaultMaxDepth) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSON in try parse(raw, maxDepth: maxDepth) }
        }.get()
    }

    /// Parses one JSON document from text.
    public static func parse(_ text: String, maxDepth: Int = JSON.defaultMaxDepth) throws(JSONParseError) -> JSON {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth) }
        }.get()
    }

    /// The compact UTF-8 serialization (no whitespace).
    public func serialized() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// A hex quantity as Ethereum writes it: `0x0`, `0x1a` (no leading zeros).
    public static func quantity(_ value: UInt64) -> JSON { .string(RPCHex.encodeQuantity(value)) }

    /// Hex data as Ethereum writes it: `0x` followed by two digits per byte.
    public static func data(_ bytes: some Collection<UInt8>) -> JSON { .string(RPCHex.encodeData(bytes)) }
}

// MARK: - Reading values

extension JSON {
    /// The member `key` of an object; `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element at `index` of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    // Typed views: the payload when the value is of that kind, else nil.
    public var isNull: Bool { if case .null = self { true } else { false } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { n } else { nil } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// The kind of value, named as Go's encoding/json names it in its errors
    /// (`number`, `string`, `bool`, `array`, `object`, `null`).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSON: CustomStringConvertible {
    /// The compact serialization as text.
    public var description: String { String(decoding: serialized(), as: UTF8.self) }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    /// A float literal; literals are finite, so this cannot fail.
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)!) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

// MARK: - Numbers

/// A JSON number, kept as the text it was written with (always valid JSON number syntax).
///
/// Keeping the text means ids and big integers round-trip exactly. Two numbers are equal when
/// their texts are equal, so `1` and `1.0` differ: compare ``double`` for numeric equality.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as written, e.g. `-12`, `1.5e3`.
    public let text: String

    /// Wraps text already checked against the JSON number grammar (by the parser).
    init(validatedText: String) { self.text = validatedText }

    /// Wraps `text` if it is a valid JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    public init?(text: String) {
        var copy = text
        let valid = copy.withUTF8 { buffer in
            JSONParser.numberLength(UnsafeRawBufferPointer(buffer), from: 0) == buffer.count && !buffer.isEmpty
        }
        guard valid else { return nil }
        self.text = text
    }

    /// The integer's decimal text.
    public init(_ value: Int) { self.text = String(value) }
    public init(_ value: Int64) { self.text = String(value) }
    public init(_ value: UInt64) { self.text = String(value) }
    /// `nil` for NaN and infinities, which JSON cannot represent.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        // Swift prints the shortest text that reads back to the same Double; integral values
        // end in ".0" and exponents look like "1e-05" or "1e+20", all valid JSON.
        self.text = value.description
    }

    /// The value if the text is an integer that fits (no fraction, no exponent).
    public var int64: Int64? { Int64(text) }
    /// The value if the text is a non-negative integer that fits (no fraction, no exponent).
    public var uint64: UInt64? { UInt64(text) }
    /// The value if the text is an integer that fits `Int`.
    public var int: Int? { Int(text) }
    /// The nearest `Double` (may round; never fails for valid text except by overflow to infinity).
    public var double: Double { Double(text) ?? .nan }

    public var description: String { text }
}

// MARK: - Objects

/// A JSON object: members in insertion order, unique keys, lookup by key.
///
/// Small objects (the usual case for JSON-RPC) are scanned; from 16 members on an index is kept,
/// so large objects from untrusted input cannot make parsing or lookups quadratic. Setting an
/// existing key replaces its value in place; setting `nil` removes it. Equality ignores order.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSON)

    private var entries: [Entry] = []
    private var index: [String: Int]? = nil
    private static let indexThreshold = 16

    struct Entry: Sendable, Equatable {
        var key: String
        var value: JSON
    }

    public init() {}

    /// An object from key-value pairs; a repeated key keeps the last value (as Go and most parsers do).
    public init(_ pairs: some Sequence<(String, JSON)>) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// The value for `key`, or `nil`. Setting `nil` removes the member.
    public subscript(key: String) -> JSON? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let i = position(of: key) {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                    rebuildIndex()
                }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
                if index != nil {
                    index![key] = entries.count - 1
                } else if entries.count >= Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    private mutating func rebuildIndex() {
        guard entries.count >= Self.indexThreshold else { index = nil; return }
        var built = [String: Int](minimumCapacity: entries.count)
        for (i, entry) in entries.enumerated() { built[entry.key] = i }
        index = built
    }

    public func makeIterator() -> AnyIterator<Element> {
        var iterator = entries.makeIterator()
        return AnyIterator { iterator.next().map { ($0.key, $0.value) } }
    }

    /// Calls `body` for each member in order (no iterator allocation; the writer uses this).
    func forEachMember(_ body: (String, JSON) -> Void) {
        for entry in entries { body(entry.key, entry.value) }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.entries == rhs.entries { return true }
        for entry in lhs.entries where rhs[entry.key] != entry.value { return false }
        return true
    }
}
