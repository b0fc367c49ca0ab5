import Foundation
import KramaaJSON

/// One compiled (sub)schema. Built once by ``SchemaCompiler`` and never changed afterwards, so
/// validators share nodes across threads. Subschemas are indices into the validator's node table,
/// which lets `$ref` cycles (a schema that refers to itself) exist without reference cycles.
final class SchemaNode: @unchecked Sendable {
    /// Where the schema sits, as a URI fragment of its document (`#/definitions/ObjectEvent`).
    let location: String

    /// `true` / `false` schemas (and `{}`): the fixed answer, else nil.
    var fixedResult: Bool?
    /// `$ref`: in draft-07 every other keyword beside it is ignored.
    var reference: Int?

    var types: JSONTypeSet?
    var enumValues: [JSON]?
    var constValue: JSON??

    // Strings
    var minLength: Int?
    var maxLength: Int?
    var pattern: SchemaPattern?
    var format: SchemaFormat?

    // Numbers
    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    var multipleOf: Double?

    // Objects
    var properties: [String: Int] = [:]
    var patternProperties: [(pattern: SchemaPattern, schema: Int)] = []
    var additionalProperties: Int?
    var propertyNames: Int?
    var required: [String] = []
    var minProperties: Int?
    var maxProperties: Int?
    var propertyDependencies: [(property: String, requires: [String])] = []
    var schemaDependencies: [(property: String, schema: Int)] = []

    // Arrays
    var items: Int?
    var tupleItems: [Int]?
    var additionalItems: Int?
    var contains: Int?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false

    // Combinations
    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?
    var ifSchema: Int?
    var thenSchema: Int?
    var elseSchema: Int?

    init(location: String) { self.location = location }

    /// The location of one of this schema's keywords, for error reports.
    func keywordLocation(_ keyword: String) -> String {
        location == "#" ? "#/" + keyword : location + "/" + keyword
    }
}

/// The JSON Schema primitive types a `type` keyword lists.
struct JSONTypeSet: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = JSONTypeSet(rawValue: 1)
    static let boolean = JSONTypeSet(rawValue: 2)
    static let object = JSONTypeSet(rawValue: 4)
    static let array = JSONTypeSet(rawValue: 8)
    static let number = JSONTypeSet(rawValue: 16)
    static let string = JSONTypeSet(rawValue: 32)
    static let integer = JSONTypeSet(rawValue: 64)

    static let names: [(String, JSONTypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("object", .object), ("array", .array),
        ("number", .number), ("string", .string), ("integer", .integer),
    ]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init?(name: String) {
        guard let found = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = found.1
    }

    /// Whether `value` is of one of these types (an integral number counts as `integer`).
    func admits(_ value: JSON) -> Bool {
        switch value {
        case .null: contains(.null)
        case .bool: contains(.boolean)
        case .object: contains(.object)
        case .array: contains(.array)
        case .string: contains(.string)
        case .number(let number): contains(.number) || (contains(.integer) && number.isIntegral)
        }
    }

    /// "string", "string or null", ...
    var listing: String {
        Self.names.filter { contains($0.1) }.map(\.0).joined(separator: " or ")
    }
}

/// A `pattern` or `patternProperties` regular expression, compiled once.
///
/// JSON Schema patterns are ECMA 262 expressions that match anywhere in the string unless
/// anchored; ICU (NSRegularExpression) reads the syntax the EPCIS schemas use (anchors, classes,
/// look-ahead) the same way. Matching does not mutate the expression, so sharing is safe.
final class SchemaPattern: @unchecked Sendable {
    let source: String
    private let expression: NSRegularExpression

    init(source: String) throws {
        self.source = source
        self.expression = try NSRegularExpression(pattern: source)
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) != nil
    }
}

extension JSONNumber {
    /// Whether the number has no fractional part (`3`, `3.0`, `3e2`).
    var isIntegral: Bool {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return true
        }
        let value = double
        return value.isFinite && value.rounded(.towardZero) == value
    }
}

/// Equality as JSON Schema defines it for `enum`, `const` and `uniqueItems`: numbers are equal
/// when their values are (`1` equals `1.0`), objects regardless of member order.
func schemaEqual(_ lhs: JSON, _ rhs: JSON) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.number(let a), .number(let b)): return a.text == b.text || a.double == b.double
    case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy(schemaEqual)
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        for (key, value) in a {
            guard let other = b[key], schemaEqual(value, other) else { return false }
        }
        return true
    default: return false
    }
}
