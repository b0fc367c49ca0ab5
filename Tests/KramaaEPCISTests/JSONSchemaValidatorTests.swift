import KramaaEPCIS
import KramaaJSON
import Testing

/// The draft-07 keywords, each with instances that pass and fail.
@Suite struct JSONSchemaValidatorTests {
    private func validator(_ schema: String) throws -> JSONSchemaValidator {
        try JSONSchemaValidator(schema: try JSON.parse(schema))
    }

    private func check(_ schema: String, valid: [String], invalid: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let compiled = try validator(schema)
        for text in valid {
            let instance = try JSON.parse(text)
            #expect(compiled.validate(instance) == [], "\(text) should pass \(schema)", sourceLocation: sourceLocation)
            #expect(compiled.isValid(instance), "\(text) should pass \(schema)", sourceLocation: sourceLocation)
        }
        for text in invalid {
            let instance = try JSON.parse(text)
            #expect(!compiled.validate(instance).isEmpty, "\(text) should fail \(schema)", sourceLocation: sourceLocation)
            #expect(!compiled.isValid(instance), "\(text) should fail \(schema)", sourceLocation: sourceLocation)
        }
    }

    @Test func types() throws {
        try check(#"{"type": "integer"}"#, valid: ["1", "1.0", "-3e2"], invalid: ["1.5", "\"1\"", "null"])
        try check(#"{"type": ["string", "null"]}"#, valid: ["\"a\"", "null"], invalid: ["1", "[]", "{}", "true"])
        try check(#"{"type": "number"}"#, valid: ["1", "2.5"], invalid: ["\"2\""])
        try check(#"{"type": "boolean"}"#, valid: ["true"], invalid: ["0"])
    }

    @Test func enumAndConstCompareValuesNotText() throws {
        try check(#"{"enum": [1, "a", {"x": [1, 2]}, null]}"#, valid: ["1.0", "\"a\"", #"{"x": [1, 2.0]}"#, "null"], invalid: ["2", "\"A\"", #"{"x": [2, 1]}"#, "false"])
        try check(#"{"const": {"a": 1, "b": 2}}"#, valid: [#"{"b": 2, "a": 1}"#], invalid: [#"{"a": 1}"#])
        try check(#"{"const": null}"#, valid: ["null"], invalid: ["0"])
    }

    @Test func stringKeywords() throws {
        try check(#"{"minLength": 2, "maxLength": 3}"#, valid: ["\"ab\"", "\"äöü\"", "5"], invalid: ["\"a\"", "\"abcd\""])
        try check(#"{"pattern": "b+"}"#, valid: ["\"abbc\"", "3"], invalid: ["\"ac\""])
        try check(#"{"pattern": "^(?!(urn:epcglobal:cbv))"}"#, valid: ["\"urn:x\""], invalid: ["\"urn:epcglobal:cbv:bizstep:x\""])
    }

    @Test func numberKeywords() throws {
        try check(#"{"minimum": 1, "maximum": 3}"#, valid: ["1", "3", "2.5", "\"x\""], invalid: ["0.99", "3.01"])
        try check(#"{"exclusiveMinimum": 1, "exclusiveMaximum": 3}"#, valid: ["2"], invalid: ["1", "3"])
        try check(#"{"multipleOf": 0.01}"#, valid: ["0.07", "19.99", "3"], invalid: ["0.075"])
    }

    @Test func objectKeywords() throws {
        try check(#"{"properties": {"a": {"type": "string"}}, "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": false}"#,
                  valid: [#"{"a": "s", "x-1": 3}"#, "{}"], invalid: [#"{"a": 1}"#, #"{"x-1": "s"}"#, #"{"b": 1}"#])
        try check(#"{"additionalProperties": {"type": "boolean"}, "properties": {"a": {}}}"#, valid: [#"{"a": 1, "b": true}"#], invalid: [#"{"b": 1}"#])
        try check(#"{"required": ["a", "b"], "minProperties": 2, "maxProperties": 3}"#, valid: [#"{"a": 1, "b": 2}"#], invalid: [#"{"a": 1}"#, #"{"a": 1, "b": 2, "c": 3, "d": 4}"#])
        try check(#"{"propertyNames": {"pattern": "^[a-z]+$"}}"#, valid: [#"{"abc": 1}"#], invalid: [#"{"aBc": 1}"#])
        try check(#"{"dependencies": {"a": ["b"], "c": {"required": ["d"]}}}"#, valid: [#"{"a": 1, "b": 1}"#, #"{"c": 1, "d": 1}"#, #"{"b": 1}"#], invalid: [#"{"a": 1}"#, #"{"c": 1}"#])
    }

    @Test func arrayKeywords() throws {
        try check(#"{"items": {"type": "integer"}, "minItems": 1, "maxItems": 2}"#, valid: ["[1]", "[1, 2]"], invalid: ["[]", "[1, 2, 3]", "[\"a\"]"])
        try check(#"{"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}"#, valid: ["[\"a\", 1]", "[\"a\"]"], invalid: ["[1]", "[\"a\", 1, 2]"])
        try check(#"{"contains": {"const": 5}}"#, valid: ["[1, 5]"], invalid: ["[1, 2]", "[]"])
        try check(#"{"uniqueItems": true}"#, valid: ["[1, 2]", "[\"a\", \"b\"]", "[{\"a\": 1}, {\"a\": 2}]"], invalid: ["[1, 1.0]", "[\"a\", \"a\"]", "[{\"a\": 1, \"b\": 2}, {\"b\": 2, \"a\": 1}]"])
    }

    @Test func combinations() throws {
        try check(#"{"allOf": [{"minimum": 2}, {"maximum": 4}]}"#, valid: ["3"], invalid: ["1", "5"])
        try check(#"{"anyOf": [{"type": "string"}, {"minimum": 2}]}"#, valid: ["\"a\"", "3"], invalid: ["1"])
        try check(#"{"oneOf": [{"type": "integer"}, {"minimum": 2}]}"#, valid: ["1", "2.5"], invalid: ["3", "1.5"])
        try check(#"{"not": {"type": "string"}}"#, valid: ["1"], invalid: ["\"a\""])
        try check(#"{"if": {"minimum": 10}, "then": {"multipleOf": 10}, "else": {"maximum": 5}}"#, valid: ["20", "4"], invalid: ["15", "7"])
        try check("true", valid: ["1", "{}"], invalid: [])
        try check("false", valid: [], invalid: ["1", "null"])
    }

    @Test func referencesResolvePointersIdsAnchorsAndRecursion() throws {
        try check(##"{"definitions": {"@node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/%40node"}, "v": {"type": "integer"}}}}, "$ref": "#/definitions/%40node"}"##,
                  valid: [#"{"v": 1, "next": {"v": 2, "next": {}}}"#], invalid: [#"{"next": {"next": {"v": "x"}}}"#])
        try check(##"{"$id": "https://example.com/root.json", "properties": {"a": {"$ref": "item.json"}, "b": {"$ref": "#thing"}, "c": {"$ref": "#/definitions/a~1b"}}, "definitions": {"item": {"$id": "item.json", "type": "integer"}, "thing": {"$id": "#thing", "type": "string"}, "a/b": {"const": 1}}}"##,
                  valid: [#"{"a": 1, "b": "x", "c": 1}"#], invalid: [#"{"a": "x"}"#, #"{"b": 1}"#, #"{"c": 2}"#])
        let other = try JSON.parse(#"{"$id": "https://example.com/other.json", "definitions": {"n": {"type": "null"}}}"#)
        let main = try JSON.parse(#"{"$id": "https://example.com/main.json", "$ref": "other.json#/definitions/n"}"#)
        let combined = try JSONSchemaValidator(schema: main, additionalSchemas: [other])
        #expect(combined.isValid(nil) && !combined.isValid(1))
        let entry = try JSONSchemaValidator(schema: try JSON.parse(##"{"definitions": {"s": {"type": "string"}}}"##), entry: "#/definitions/s")
        #expect(entry.isValid("a") && !entry.isValid(1))
    }

    @Test func refIgnoresItsSiblingsInDraft07() throws {
        try check(##"{"definitions": {"i": {"type": "integer"}}, "properties": {"a": {"$ref": "#/definitions/i", "maximum": 1}}}"##, valid: [##"{"a": 5}"##], invalid: [##"{"a": "x"}"##])
    }

    @Test func formats() throws {
        try check(#"{"format": "date-time"}"#,
                  valid: ["\"2005-04-03T20:33:31.116-06:00\"", "\"2024-02-29T00:00:00Z\"", "\"1998-12-31T23:59:60Z\"", "\"1998-12-31t15:59:60.5-08:00\"", "1"],
                  invalid: ["\"2023-02-29T00:00:00Z\"", "\"2024-01-01T24:00:00Z\"", "\"2024-01-01T00:00:00\"", "\"2024-01-01 00:00:00Z\"", "\"2024-01-01T12:00:60Z\"", "\"2024-01-01T00:00:00.Z\""])
        try check(#"{"format": "uri"}"#,
                  valid: ["\"urn:epc:id:sgtin:0614141.107346.2017\"", "\"https://id.gs1.org/01/09521234543213/21/ab%20c?x=1#f\"", "\"http://[::1]:8080/a\"", "\"ext1:float\""],
                  invalid: ["\"0614141.107346.2017\"", "\"urn:epc:id:sgtin:0614 141\"", "\"https://a.b/%zz\"", "\"http://host:port/\"", "\"_:b0\"", "\"\""])
        try check(#"{"format": "uri-reference"}"#, valid: ["\"../a/b?c\"", "\"#frag\"", "\"\""], invalid: ["\"a b\"", "\"1a:b\""])
        try check(#"{"format": "ipv4"}"#, valid: ["\"192.168.0.1\""], invalid: ["\"256.1.1.1\"", "\"01.1.1.1\"", "\"1.1.1\""])
        try check(#"{"format": "ipv6"}"#, valid: ["\"::1\"", "\"2001:db8::8a2e:370:7334\"", "\"::ffff:192.0.2.1\"", "\"1:2:3:4:5:6:7:8\""], invalid: ["\"1::2::3\"", "\"12345::\"", "\"1:2:3\""])
        try check(#"{"format": "date"}"#, valid: ["\"2020-02-29\""], invalid: ["\"2021-02-29\"", "\"2021-1-01\""])
        try check(#"{"format": "json-pointer"}"#, valid: ["\"/a~1b/0\"", "\"\""], invalid: ["\"a\"", "\"/~2\""])
        try check(#"{"format": "something-unknown"}"#, valid: ["\"anything\""], invalid: [])
    }

    @Test func blankNodesCountAsURIsOnlyWhenAsked() throws {
        let schema = try JSON.parse(#"{"format": "uri"}"#)
        #expect(!(try JSONSchemaValidator(schema: schema)).isValid("_:document1"))
        let lenient = try JSONSchemaValidator(schema: schema, options: .init(blankNodeIdentifiersAsURIs: true))
        #expect(lenient.isValid("_:document1") && !lenient.isValid("_:") && !lenient.isValid("_:a b"))
    }

    @Test func violationsNameTheInstanceLocationTheKeywordAndTheSchemaLocation() throws {
        let compiled = try validator(##"{"properties": {"list": {"items": {"$ref": "#/definitions/entry"}}}, "definitions": {"entry": {"required": ["id"]}}}"##)
        let violations = compiled.validate(try JSON.parse(#"{"list": [{"id": 1}, {}]}"#))
        #expect(violations == [JSONSchemaViolation(instanceLocation: JSONPointer("/list/1")!, keyword: "required",
                                                    schemaLocation: "#/definitions/entry/required", message: #"missing required property "id""#)])
        #expect(violations.first?.description == #"/list/1: missing required property "id""#)
        let escaped = try validator(#"{"properties": {"a/b": {"type": "string"}}}"#).validate(try JSON.parse(#"{"a/b": 1}"#))
        #expect(escaped.map(\.description) == ["/a~1b: must be a string, not a number"])
    }

    @Test func oneOfMatchingTwiceSaysSo() throws {
        let violations = try validator(#"{"oneOf": [{"type": "integer"}, {"minimum": 0}]}"#).validate(3)
        #expect(violations.map(\.description) == ["/: matches more than one of the exclusive forms (0, 1); it must match exactly one"])
    }

    @Test func badSchemasAreRejectedWithTheirLocation() {
        #expect(throws: JSONSchemaError.invalidPattern("([a-z", location: "#/properties/a")) {
            try JSONSchemaValidator(schema: ["properties": ["a": ["pattern": "([a-z"]]])
        }
        #expect(throws: JSONSchemaError.unresolvableReference("#/definitions/missing", location: "#")) {
            try JSONSchemaValidator(schema: ["$ref": "#/definitions/missing"])
        }
        #expect(throws: JSONSchemaError.unresolvableReference("https://elsewhere.example/s.json", location: "#/items")) {
            try JSONSchemaValidator(schema: ["items": ["$ref": "https://elsewhere.example/s.json"]])
        }
        #expect(throws: JSONSchemaError.invalidKeyword("type", location: "#", reason: #"unknown type "text""#)) {
            try JSONSchemaValidator(schema: ["type": "text"])
        }
        #expect(throws: JSONSchemaError.notASchema(location: "#/not")) {
            try JSONSchemaValidator(schema: ["not": 3])
        }
        #expect(throws: JSONSchemaError.invalidKeyword("minItems", location: "#", reason: "expected a non-negative integer")) {
            try JSONSchemaValidator(schema: ["minItems": -1])
        }
    }
}
