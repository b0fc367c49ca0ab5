import KramaaJSON

/// One way an instance breaks a schema: where (a JSON pointer into the instance), which keyword
/// failed (and where it sits in the schema), and a sentence for the user.
public struct JSONSchemaViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing value, e.g. `/epcisBody/eventList/0/bizStep`.
    public var instanceLocation: JSONPointer
    /// The keyword that failed: `required`, `pattern`, `anyOf`, ...
    public var keyword: String
    /// The keyword's place in the schema, e.g. `#/definitions/Event/required`.
    public var schemaLocation: String
    /// What is wrong, without the location: `missing required property "action"`.
    public var message: String
    /// For `anyOf` / `oneOf`: why each alternative failed, in schema order.
    public var alternatives: [[JSONSchemaViolation]]

    public init(instanceLocation: JSONPointer, keyword: String, schemaLocation: String, message: String,
                alternatives: [[JSONSchemaViolation]] = []) {
        self.instanceLocation = instanceLocation
        self.keyword = keyword
        self.schemaLocation = schemaLocation
        self.message = message
        self.alternatives = alternatives
    }

    /// `/epcisBody/eventList/0/bizStep: does not match any of the allowed forms (...)`; the root is `/`.
    public var description: String {
        let location = instanceLocation.isRoot ? "/" : instanceLocation.description
        return "\(location): \(explanation)"
    }

    /// The message followed, for a failed `anyOf`/`oneOf`, by why each alternative failed:
    /// `(is not a valid URI; or "x" is not one of the allowed values: ...)`, with the place of a
    /// failure inside the value written relative to it (`ilmd: must not be present`).
    public var explanation: String {
        guard !alternatives.isEmpty else { return message }
        let base = instanceLocation.tokens.count
        let reasons = alternatives.map { failures in
            var parts = failures.prefix(3).map { failure in
                let inner = failure.instanceLocation.tokens.dropFirst(base)
                let place = inner.isEmpty ? "" : JSONPointer(tokens: Array(inner)).description.dropFirst() + ": "
                return place + failure.explanation
            }
            if failures.count > 3 { parts.append("\(failures.count - 3) more") }
            return parts.joined(separator: " and ")
        }
        return message + " (" + reasons.joined(separator: "; or ") + ")"
    }
}

/// A JSON Schema (draft-07) compiled once and applied to any number of instances.
///
/// Supports the keywords of draft-07 validation: `type`, `enum`, `const`, string length,
/// `pattern`, `format` (date-time, date, time, uri, uri-reference, iri, iri-reference,
/// json-pointer, relative-json-pointer, regex, ipv4, ipv6, hostname, email), numeric bounds,
/// `multipleOf`, `properties`, `patternProperties`, `additionalProperties`, `propertyNames`,
/// `required`, `dependencies`, property counts, `items` (single and tuple), `additionalItems`,
/// `contains`, item counts, `uniqueItems`, `allOf`/`anyOf`/`oneOf`/`not`, `if`/`then`/`else`,
/// and `$ref` to JSON pointers, `$id` URIs and plain-name fragments, including recursion.
public struct JSONSchemaValidator: Sendable {
    /// Choices the draft leaves to the application.
    public struct Options: Sendable, Equatable {
        /// Accept JSON-LD blank node identifiers (`_:document1`) for the `uri`/`iri` formats:
        /// JSON-LD documents such as EPCIS ones may use them wherever a node id is expected.
        public var blankNodeIdentifiersAsURIs: Bool

        public init(blankNodeIdentifiersAsURIs: Bool = false) {
            self.blankNodeIdentifiersAsURIs = blankNodeIdentifiersAsURIs
        }
    }

    private let nodes: [SchemaNode]
    private let entry: Int
    private let options: Options

    /// Compiles `schema`. `entry` picks the subschema to validate against (a URI fragment such as
    /// `#/definitions/ObjectEvent`; `#` is the whole schema); `$ref`s still resolve across all of
    /// `schema` and `additionalSchemas` (registered by their `$id`).
    public init(schema: JSON, entry: String = "#", additionalSchemas: [JSON] = [], options: Options = Options()) throws(JSONSchemaError) {
        self.options = options
        var compiler = SchemaCompiler(documents: [schema] + additionalSchemas)
        self.entry = try compiler.compileEntry(fragment: entry)
        nodes = compiler.nodes
    }

    /// Every violation of the schema by `instance`; empty when it is valid.
    public func validate(_ instance: JSON) -> [JSONSchemaViolation] {
        var path = JSONPointer()
        var violations: [JSONSchemaViolation] = []
        _ = evaluate(entry, instance, &path, &violations, collect: true)
        return violations
    }

    /// Whether `instance` is valid; stops at the first failure (the fast path).
    public func isValid(_ instance: JSON) -> Bool {
        var path = JSONPointer()
        var unused: [JSONSchemaViolation] = []
        return evaluate(entry, instance, &path, &unused, collect: false)
    }

    // MARK: - Evaluation

    /// Applies node `index` to `value` at `path`. With `collect` it checks every keyword and appends
    /// what fails to `out`; without, it returns at the first failure and leaves `out` alone.
    private func evaluate(_ index: Int, _ value: JSON, _ path: inout JSONPointer,
                          _ out: inout [JSONSchemaViolation], collect: Bool) -> Bool {
        let node = nodes[index]
        if let fixed = node.fixedResult {
            if !fixed && collect { out.append(violation(node, "false", path, "no value is allowed here")) }
            return fixed
        }
        if let reference = node.reference { return evaluate(reference, value, &path, &out, collect: collect) }

        var valid = true
        func fail(_ keyword: String, _ message: @autoclosure () -> String) -> Bool {
            failed(node, keyword, path, message(), &out, collect, &valid)
        }

        if let types = node.types, !types.admits(value) {
            guard fail("type", "must be \(Self.article(types.listing)), not \(Self.article(value.schemaKind))") else { return false }
        }
        if let values = node.enumValues, !values.contains(where: { schemaEqual($0, value) }) {
            guard fail("enum", "\(Self.quoted(value)) is not one of the allowed values: \(Self.listing(values))") else { return false }
        }
        if let constant = node.constValue, let expected = constant, !schemaEqual(expected, value) {
            guard fail("const", "must be \(expected)") else { return false }
        }

        switch value {
        case .string(let text):
            guard checkString(node, text, path, &out, collect: collect, &valid) else { return false }
        case .number(let number):
            guard checkNumber(node, number, path, &out, collect: collect, &valid) else { return false }
        case .object(let object):
            guard checkObject(node, object, &path, &out, collect: collect, &valid) else { return false }
        case .array(let array):
            guard checkArray(node, array, &path, &out, collect: collect, &valid) else { return false }
        default: break
        }

        for sub in node.allOf where !evaluate(sub, value, &path, &out, collect: collect) {
            valid = false
            if !collect { return false }
        }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { passes($0, value) }) {
            valid = false
            guard collect else { return false }
            out.append(violation(node, "anyOf", path, "does not match any of the allowed forms",
                                 alternatives: node.anyOf.map { failures($0, value, path) }))
        }
        if !node.oneOf.isEmpty {
            let matching = node.oneOf.indices.filter { passes(node.oneOf[$0], value) }
            if matching.count != 1 {
                valid = false
                guard collect else { return false }
                if matching.isEmpty {
                    out.append(violation(node, "oneOf", path, "does not match any of the allowed forms",
                                         alternatives: node.oneOf.map { failures($0, value, path) }))
                } else {
                    let forms = matching.map(String.init).joined(separator: ", ")
                    out.append(violation(node, "oneOf", path, "matches more than one of the exclusive forms (\(forms)); it must match exactly one"))
                }
            }
        }
        if let not = node.not, passes(not, value) {
            let message = nodes[not].fixedResult == true ? "must not be present here" : "matches a form that is not allowed here"
            guard fail("not", message) else { return false }
        }
        if let condition = node.ifSchema {
            let branch = passes(condition, value) ? node.thenSchema : node.elseSchema
            if let branch, !evaluate(branch, value, &path, &out, collect: collect) {
                valid = false
                if !collect { return false }
            }
        }
        return valid
    }

    /// Whether `value` satisfies node `index` (no errors gathered).
    private func passes(_ index: Int, _ value: JSON) -> Bool {
        var path = JSONPointer()
        var unused: [JSONSchemaViolation] = []
        return evaluate(index, value, &path, &unused, collect: false)
    }

    /// Why `value` at `path` fails node `index` (used to explain a failed alternative).
    private func failures(_ index: Int, _ value: JSON, _ path: JSONPointer) -> [JSONSchemaViolation] {
        var path = path
        var found: [JSONSchemaViolation] = []
        _ = evaluate(index, value, &path, &found, collect: true)
        return found
    }

    private func checkString(_ node: SchemaNode, _ text: String, _ path: JSONPointer,
                             _ out: inout [JSONSchemaViolation], collect: Bool, _ valid: inout Bool) -> Bool {
        func fail(_ keyword: String, _ message: String) -> Bool { failed(node, keyword, path, message, &out, collect, &valid) }
        if node.minLength != nil || node.maxLength != nil {
            let length = text.unicodeScalars.count
            if let minimum = node.minLength, length < minimum,
               !fail("minLength", "must be at least \(minimum) characters long, not \(length)") { return false }
            if let maximum = node.maxLength, length > maximum,
               !fail("maxLength", "must be at most \(maximum) characters long, not \(length)") { return false }
        }
        if let pattern = node.pattern, !pattern.matches(text),
           !fail("pattern", "\(Self.quoted(.string(text))) does not match the pattern \(pattern.source)") { return false }
        if let format = node.format, !format.accepts(text, blankNodes: options.blankNodeIdentifiersAsURIs),
           !fail("format", "\(Self.quoted(.string(text))) is not \(format.expectation)") { return false }
        return true
    }

    private func checkNumber(_ node: SchemaNode, _ number: JSONNumber, _ path: JSONPointer,
                             _ out: inout [JSONSchemaViolation], collect: Bool, _ valid: inout Bool) -> Bool {
        func fail(_ keyword: String, _ message: String) -> Bool { failed(node, keyword, path, message, &out, collect, &valid) }
        let value = number.double
        if let bound = node.minimum, value < bound, !fail("minimum", "must be at least \(bound), not \(number)") { return false }
        if let bound = node.maximum, value > bound, !fail("maximum", "must be at most \(bound), not \(number)") { return false }
        if let bound = node.exclusiveMinimum, value <= bound,
           !fail("exclusiveMinimum", "must be greater than \(bound), not \(number)") { return false }
        if let bound = node.exclusiveMaximum, value >= bound,
           !fail("exclusiveMaximum", "must be less than \(bound), not \(number)") { return false }
        if let divisor = node.multipleOf {
            let quotient = value / divisor
            if quotient.isFinite, abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)),
               !fail("multipleOf", "must be a multiple of \(divisor), not \(number)") { return false }
        }
        return true
    }

    private func checkObject(_ node: SchemaNode, _ object: JSONObject, _ path: inout JSONPointer,
                             _ out: inout [JSONSchemaViolation], collect: Bool, _ valid: inout Bool) -> Bool {
        func fail(_ keyword: String, _ message: String) -> Bool { failed(node, keyword, path, message, &out, collect, &valid) }
        for name in node.required where object[name] == nil {
            guard fail("required", "missing required property \"\(name)\"") else { return false }
        }
        if let minimum = node.minProperties, object.count < minimum,
           !fail("minProperties", "must have at least \(minimum) properties, not \(object.count)") { return false }
        if let maximum = node.maxProperties, object.count > maximum,
           !fail("maxProperties", "must have at most \(maximum) properties, not \(object.count)") { return false }
        for (name, requires) in node.propertyDependencies where object[name] != nil {
            for other in requires where object[other] == nil {
                guard fail("dependencies", "property \"\(name)\" requires property \"\(other)\"") else { return false }
            }
        }
        for (name, schema) in node.schemaDependencies where object[name] != nil {
            if !evaluate(schema, .object(object), &path, &out, collect: collect) {
                valid = false
                if !collect { return false }
            }
        }
        let checksMembers = !node.properties.isEmpty || !node.patternProperties.isEmpty
            || node.additionalProperties != nil || node.propertyNames != nil
        guard checksMembers else { return true }
        for (name, member) in object {
            if let names = node.propertyNames, !passes(names, .string(name)) {
                valid = false
                guard collect else { return false }
                for reason in failures(names, .string(name), JSONPointer()) {
                    var named = reason
                    named.instanceLocation = path
                    named.message = "property name \"\(name)\" is not allowed: \(reason.message)"
                    out.append(named)
                }
            }
            var matched = false
            if collect { path.append(name) }
            defer { if collect { path.removeLast() } }
            if let schema = node.properties[name] {
                matched = true
                if !evaluate(schema, member, &path, &out, collect: collect) {
                    valid = false
                    if !collect { return false }
                }
            }
            for (pattern, schema) in node.patternProperties where pattern.matches(name) {
                matched = true
                if !evaluate(schema, member, &path, &out, collect: collect) {
                    valid = false
                    if !collect { return false }
                }
            }
            if !matched, let additional = node.additionalProperties {
                if nodes[additional].fixedResult == false {
                    valid = false
                    guard collect else { return false }
                    path.removeLast()
                    out.append(violation(node, "additionalProperties", path, "property \"\(name)\" is not allowed here"))
                    path.append(name)
                } else if !evaluate(additional, member, &path, &out, collect: collect) {
                    valid = false
                    if !collect { return false }
                }
            }
        }
        return true
    }

    private func checkArray(_ node: SchemaNode, _ array: [JSON], _ path: inout JSONPointer,
                            _ out: inout [JSONSchemaViolation], collect: Bool, _ valid: inout Bool) -> Bool {
        func fail(_ keyword: String, _ message: String) -> Bool { failed(node, keyword, path, message, &out, collect, &valid) }
        if let minimum = node.minItems, array.count < minimum,
           !fail("minItems", "must have at least \(minimum) item\(minimum == 1 ? "" : "s"), not \(array.count)") { return false }
        if let maximum = node.maxItems, array.count > maximum,
           !fail("maxItems", "must have at most \(maximum) item\(maximum == 1 ? "" : "s"), not \(array.count)") { return false }
        if node.uniqueItems, let (first, second) = Self.firstDuplicate(array),
           !fail("uniqueItems", "items \(first) and \(second) are equal; every item must be unique") { return false }
        for (i, item) in array.enumerated() {
            let schema: Int?
            if let tuple = node.tupleItems {
                schema = i < tuple.count ? tuple[i] : node.additionalItems
            } else {
                schema = node.items
            }
            guard let schema else { continue }
            if collect { path.append(String(i)) }
            let ok = evaluate(schema, item, &path, &out, collect: collect)
            if collect { path.removeLast() }
            if !ok {
                valid = false
                if !collect { return false }
            }
        }
        if let contains = node.contains, !array.contains(where: { passes(contains, $0) }),
           !fail("contains", "must contain at least one item of the required form") { return false }
        return true
    }

    /// The first pair of equal items; strings (the usual EPC lists) are checked through a set.
    private static func firstDuplicate(_ array: [JSON]) -> (Int, Int)? {
        if array.allSatisfy({ $0.stringValue != nil }) {
            var seen: [String: Int] = [:]
            for (i, item) in array.enumerated() {
                if let earlier = seen.updateValue(i, forKey: item.stringValue!) { return (earlier, i) }
            }
            return nil
        }
        for i in array.indices {
            for j in array.indices where j > i && schemaEqual(array[i], array[j]) { return (i, j) }
        }
        return nil
    }

    /// Records that `keyword` of `node` failed at `path` (when collecting) and returns whether
    /// evaluation goes on: when collecting every failure is wanted, otherwise the first ends it.
    private func failed(_ node: SchemaNode, _ keyword: String, _ path: JSONPointer, _ message: @autoclosure () -> String,
                        _ out: inout [JSONSchemaViolation], _ collect: Bool, _ valid: inout Bool) -> Bool {
        valid = false
        if collect { out.append(violation(node, keyword, path, message())) }
        return collect
    }

    private func violation(_ node: SchemaNode, _ keyword: String, _ path: JSONPointer, _ message: String,
                           alternatives: [[JSONSchemaViolation]] = []) -> JSONSchemaViolation {
        JSONSchemaViolation(instanceLocation: path, keyword: keyword, schemaLocation: node.keywordLocation(keyword),
                            message: message, alternatives: alternatives)
    }

    // MARK: - Message text

    private static func article(_ kind: String) -> String {
        kind.first.map { "aeiou".contains($0) } == true ? "an \(kind)" : "a \(kind)"
    }

    /// A value for a message: strings quoted, long values cut.
    static func quoted(_ value: JSON) -> String {
        let text = value.description
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }

    private static func listing(_ values: [JSON]) -> String {
        let shown = values.prefix(8).map { $0.stringValue ?? $0.description }.joined(separator: ", ")
        return values.count > 8 ? shown + ", ... (\(values.count) values)" : shown
    }
}

extension JSONPointer {
    mutating func removeLast() { _ = tokens.popLast() }
}

extension JSON {
    /// The JSON Schema name of the value's type, for messages.
    var schemaKind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
