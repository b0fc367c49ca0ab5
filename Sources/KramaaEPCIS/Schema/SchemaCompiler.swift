import KramaaJSON

/// Why a schema could not be compiled. The schema is the product's own input (the EPCIS schema
/// file), so these point at the place in it to fix.
public enum JSONSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A schema (or subschema) that is neither an object nor a boolean.
    case notASchema(location: String)
    /// A keyword whose value has the wrong shape (`"required": "a"`, `"minItems": -1`).
    case invalidKeyword(String, location: String, reason: String)
    /// A `pattern` or `patternProperties` key that is not a valid regular expression.
    case invalidPattern(String, location: String)
    /// A `$ref` that names nothing in the schema or the additional schemas given.
    case unresolvableReference(String, location: String)

    public var description: String {
        switch self {
        case .notASchema(let location):
            "the schema at \(location) is neither an object nor a boolean"
        case .invalidKeyword(let keyword, let location, let reason):
            "the keyword \"\(keyword)\" at \(location) is invalid: \(reason)"
        case .invalidPattern(let pattern, let location):
            "the regular expression \(pattern) at \(location) does not compile"
        case .unresolvableReference(let reference, let location):
            "the reference \"\(reference)\" at \(location) names no schema; add the schema it refers to or fix the reference"
        }
    }
}

/// Turns schema JSON into ``SchemaNode``s: resolves every `$ref` (JSON pointers, `$id` base
/// URIs and plain-name fragments) once, and compiles each regular expression once.
struct SchemaCompiler {
    /// A place in one of the documents: the document's index and a pointer from its root.
    private struct Location: Hashable {
        var document: Int
        var pointer: JSONPointer
    }

    private let documents: [JSON]
    private(set) var nodes: [SchemaNode] = []
    private var compiled: [Location: Int] = [:]
    /// Absolute URIs (no fragment) and `uri#anchor` names of the schema resources.
    private var resources: [String: Location] = [:]
    /// The base URI in force at each schema location that was walked.
    private var baseURIs: [Location: String] = [:]
    private var patterns: [String: SchemaPattern] = [:]

    /// Registers `documents` (the first is the main schema) and their `$id`s.
    init(documents: [JSON]) {
        self.documents = documents
        // A main schema without `$id` is the resource that `#...` references name.
        resources[""] = Location(document: 0, pointer: JSONPointer())
        for index in documents.indices {
            register(documents[index], at: Location(document: index, pointer: JSONPointer()), base: "")
        }
    }

    /// Compiles the schema found at `fragment` (a JSON pointer such as `#/definitions/x`) of the main document.
    mutating func compileEntry(fragment: String) throws(JSONSchemaError) -> Int {
        let text = fragment.hasPrefix("#") ? String(fragment.dropFirst()) : fragment
        guard let pointer = JSONPointer(uriFragment: text) else {
            throw .unresolvableReference(fragment, location: "#")
        }
        let location = Location(document: 0, pointer: pointer)
        guard pointer.resolve(in: documents[0]) != nil else { throw .unresolvableReference(fragment, location: "#") }
        return try compile(location)
    }

    // MARK: - Registering $id

    private static let subschemaKeywords = ["additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else", "items"]
    private static let subschemaListKeywords = ["allOf", "anyOf", "oneOf", "items"]
    private static let subschemaMapKeywords = ["properties", "patternProperties", "definitions", "dependencies"]

    private mutating func register(_ schema: JSON, at location: Location, base: String) {
        guard case .object(let object) = schema else { return }
        var base = base
        if case .string(let id) = object["$id"] {
            let resolved = URIReference.resolve(id, against: base)
            let (uri, fragment) = URIReference.split(resolved)
            if fragment.isEmpty {
                base = uri
                resources[uri] = location
            } else if !fragment.hasPrefix("/") {
                resources[uri + "#" + fragment] = location
            }
        }
        baseURIs[location] = base
        for keyword in Self.subschemaKeywords {
            if let sub = object[keyword], sub.objectValue != nil {
                register(sub, at: Location(document: location.document, pointer: location.pointer.appending(keyword)), base: base)
            }
        }
        for keyword in Self.subschemaListKeywords {
            if case .array(let list)? = object[keyword] {
                for (i, sub) in list.enumerated() {
                    register(sub, at: Location(document: location.document, pointer: location.pointer.appending(keyword).appending(i)), base: base)
                }
            }
        }
        for keyword in Self.subschemaMapKeywords {
            if case .object(let map)? = object[keyword] {
                for (name, sub) in map {
                    register(sub, at: Location(document: location.document, pointer: location.pointer.appending(keyword).appending(name)), base: base)
                }
            }
        }
    }

    // MARK: - Compiling

    private func fragment(_ location: Location) -> String { "#" + location.pointer.description }

    private mutating func compile(_ location: Location) throws(JSONSchemaError) -> Int {
        if let index = compiled[location] { return index }
        guard let schema = location.pointer.resolve(in: documents[location.document]) else {
            throw .unresolvableReference(fragment(location), location: fragment(location))
        }
        let node = SchemaNode(location: fragment(location))
        let index = nodes.count
        nodes.append(node)
        compiled[location] = index
        switch schema {
        case .bool(let value):
            node.fixedResult = value
        case .object(let object):
            if object.isEmpty { node.fixedResult = true } else { try fill(node, from: object, at: location) }
        default:
            throw .notASchema(location: fragment(location))
        }
        return index
    }

    private mutating func sub(_ location: Location, _ tokens: String...) throws(JSONSchemaError) -> Int {
        var pointer = location.pointer
        for token in tokens { pointer.append(token) }
        return try compile(Location(document: location.document, pointer: pointer))
    }

    private mutating func fill(_ node: SchemaNode, from object: JSONObject, at location: Location) throws(JSONSchemaError) {
        let here = fragment(location)
        func invalid(_ keyword: String, _ reason: String) -> JSONSchemaError {
            .invalidKeyword(keyword, location: here, reason: reason)
        }
        func count(_ keyword: String) throws(JSONSchemaError) -> Int? {
            guard let value = object[keyword] else { return nil }
            guard let number = value.numberValue, number.isIntegral, number.double >= 0 else {
                throw invalid(keyword, "expected a non-negative integer")
            }
            return Int(number.double)
        }
        func number(_ keyword: String) throws(JSONSchemaError) -> Double? {
            guard let value = object[keyword] else { return nil }
            guard let number = value.numberValue else { throw invalid(keyword, "expected a number") }
            return number.double
        }

        if case .string(let reference)? = object["$ref"] {
            let base = baseURIs[location] ?? ""
            node.reference = try resolveReference(reference, base: base, from: here)
            return
        }

        switch object["type"] {
        case nil: break
        case .string(let name)?:
            guard let type = JSONTypeSet(name: name) else { throw invalid("type", "unknown type \"\(name)\"") }
            node.types = type
        case .array(let names)?:
            var set: JSONTypeSet = []
            for name in names {
                guard let name = name.stringValue, let type = JSONTypeSet(name: name) else { throw invalid("type", "unknown type \(name)") }
                set.insert(type)
            }
            node.types = set
        default: throw invalid("type", "expected a type name or a list of them")
        }
        if let values = object["enum"] {
            guard case .array(let list) = values else { throw invalid("enum", "expected an array") }
            node.enumValues = list
        }
        if let value = object["const"] { node.constValue = .some(value) }

        node.minLength = try count("minLength")
        node.maxLength = try count("maxLength")
        if let pattern = object["pattern"] {
            guard let source = pattern.stringValue else { throw invalid("pattern", "expected a string") }
            node.pattern = try compilePattern(source, at: here)
        }
        if case .string(let name)? = object["format"] { node.format = SchemaFormat(rawValue: name) }

        node.minimum = try number("minimum")
        node.maximum = try number("maximum")
        node.exclusiveMinimum = try number("exclusiveMinimum")
        node.exclusiveMaximum = try number("exclusiveMaximum")
        node.multipleOf = try number("multipleOf")
        if let divisor = node.multipleOf, divisor <= 0 { throw invalid("multipleOf", "expected a number above 0") }

        if let properties = object["properties"] {
            guard case .object(let map) = properties else { throw invalid("properties", "expected an object") }
            for (name, _) in map { node.properties[name] = try sub(location, "properties", name) }
        }
        if let patternProperties = object["patternProperties"] {
            guard case .object(let map) = patternProperties else { throw invalid("patternProperties", "expected an object") }
            for (source, _) in map {
                node.patternProperties.append((try compilePattern(source, at: here), try sub(location, "patternProperties", source)))
            }
        }
        if object["additionalProperties"] != nil { node.additionalProperties = try sub(location, "additionalProperties") }
        if object["propertyNames"] != nil { node.propertyNames = try sub(location, "propertyNames") }
        if let required = object["required"] {
            guard case .array(let names) = required, names.allSatisfy({ $0.stringValue != nil }) else {
                throw invalid("required", "expected an array of property names")
            }
            node.required = names.compactMap(\.stringValue)
        }
        node.minProperties = try count("minProperties")
        node.maxProperties = try count("maxProperties")
        if let dependencies = object["dependencies"] {
            guard case .object(let map) = dependencies else { throw invalid("dependencies", "expected an object") }
            for (name, value) in map {
                if case .array(let names) = value {
                    node.propertyDependencies.append((name, names.compactMap(\.stringValue)))
                } else {
                    node.schemaDependencies.append((name, try sub(location, "dependencies", name)))
                }
            }
        }

        switch object["items"] {
        case nil: break
        case .array(let list)?:
            var tuple: [Int] = []
            for i in list.indices { tuple.append(try sub(location, "items", String(i))) }
            node.tupleItems = tuple
            if object["additionalItems"] != nil { node.additionalItems = try sub(location, "additionalItems") }
        default: node.items = try sub(location, "items")
        }
        if object["contains"] != nil { node.contains = try sub(location, "contains") }
        node.minItems = try count("minItems")
        node.maxItems = try count("maxItems")
        if case .bool(let unique)? = object["uniqueItems"] { node.uniqueItems = unique }

        node.allOf = try list("allOf", object, location)
        node.anyOf = try list("anyOf", object, location)
        node.oneOf = try list("oneOf", object, location)
        if object["not"] != nil { node.not = try sub(location, "not") }
        if object["if"] != nil {
            node.ifSchema = try sub(location, "if")
            if object["then"] != nil { node.thenSchema = try sub(location, "then") }
            if object["else"] != nil { node.elseSchema = try sub(location, "else") }
        }
    }

    private mutating func list(_ keyword: String, _ object: JSONObject, _ location: Location) throws(JSONSchemaError) -> [Int] {
        guard let value = object[keyword] else { return [] }
        guard case .array(let list) = value, !list.isEmpty else {
            throw .invalidKeyword(keyword, location: fragment(location), reason: "expected a non-empty array of schemas")
        }
        var indices: [Int] = []
        for i in list.indices { indices.append(try sub(location, keyword, String(i))) }
        return indices
    }

    private mutating func compilePattern(_ source: String, at location: String) throws(JSONSchemaError) -> SchemaPattern {
        if let cached = patterns[source] { return cached }
        do {
            let pattern = try SchemaPattern(source: source)
            patterns[source] = pattern
            return pattern
        } catch {
            throw .invalidPattern(source, location: location)
        }
    }

    private mutating func resolveReference(_ reference: String, base: String, from here: String) throws(JSONSchemaError) -> Int {
        let (uri, fragment) = URIReference.split(URIReference.resolve(reference, against: base))
        if fragment.isEmpty || fragment.hasPrefix("/") {
            guard let resource = resources[uri], let pointer = JSONPointer(uriFragment: fragment) else {
                throw .unresolvableReference(reference, location: here)
            }
            let target = Location(document: resource.document, pointer: JSONPointer(tokens: resource.pointer.tokens + pointer.tokens))
            guard target.pointer.resolve(in: documents[target.document]) != nil else {
                throw .unresolvableReference(reference, location: here)
            }
            return try compile(target)
        }
        guard let anchor = resources[uri + "#" + fragment] else { throw .unresolvableReference(reference, location: here) }
        return try compile(anchor)
    }
}

/// The parts of RFC 3986 reference resolution (section 5.2) that `$id` and `$ref` need.
enum URIReference {
    /// `reference` made absolute against `base`.
    static func resolve(_ reference: String, against base: String) -> String {
        if hasScheme(reference) || base.isEmpty { return reference }
        let (baseURI, _) = split(base)
        if reference.hasPrefix("#") { return baseURI + reference }
        guard let schemeEnd = baseURI.firstIndex(of: ":") else { return reference }
        let scheme = baseURI[...schemeEnd]
        if reference.hasPrefix("//") { return scheme + reference }
        let afterScheme = baseURI[baseURI.index(after: schemeEnd)...]
        var authority = Substring("")
        var path = afterScheme
        if afterScheme.hasPrefix("//") {
            let rest = afterScheme.dropFirst(2)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            authority = afterScheme[..<slash]
            path = rest[slash...]
        }
        if reference.hasPrefix("/") { return scheme + authority + removeDotSegments(reference) }
        let directory = path.lastIndex(of: "/").map { path[...$0] } ?? (authority.isEmpty ? "" : "/")
        return scheme + authority + removeDotSegments(directory + reference)
    }

    /// (URI without fragment, fragment without `#`).
    static func split(_ uri: String) -> (String, String) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, "") }
        return (String(uri[..<hash]), String(uri[uri.index(after: hash)...]))
    }

    private static func hasScheme(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), let first = text.first, first.isLetter else { return false }
        return text[..<colon].allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }
    }

    private static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (i, segment) in segments.enumerated() {
            switch segment {
            case ".": if i == segments.count - 1 { output.append("") }
            case "..":
                if output.count > 1 { output.removeLast() }
                if i == segments.count - 1 { output.append("") }
            default: output.append(segment)
            }
        }
        return output.joined(separator: "/")
    }
}
