/// One Application Identifier with its value, e.g. (01) 09520123456788.
public struct AIValue: Hashable, Sendable, CustomStringConvertible {
    public let ai: String
    public let value: String

    public init(_ ai: String, _ value: String) {
        self.ai = ai
        self.value = value
    }

    public var description: String { "(\(ai))\(value)" }
}

/// A GS1 element string: a sequence of AIs and values, written bracketed (`(01)…(21)…`) for people or
/// with FNC1 separators for barcodes.
public struct GS1ElementString: Hashable, Sendable, CustomStringConvertible {
    public var values: [AIValue]

    public init(_ values: [AIValue]) {
        self.values = values
    }

    /// The value of the first occurrence of `ai`.
    public subscript(ai: String) -> String? {
        values.first { $0.ai == ai }?.value
    }

    /// Parses the bracketed form, e.g. `(01)09520123456788(10)ABC`; a `(` inside a value is written `\(`.
    /// Every value is checked against its AI's format.
    public static func parse(bracketed text: String, permitUnknownAIs: Bool = false) throws(GS1Error) -> GS1ElementString {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "(") else {
            throw .malformedElementString(text, reason: "it must start with an AI in brackets, such as (01)")
        }
        var values: [AIValue] = []
        var index = 0
        while index < bytes.count {
            index += 1  // past "("
            guard let close = bytes[index...].firstIndex(of: UInt8(ascii: ")")) else {
                throw .malformedElementString(text, reason: "an AI bracket is not closed")
            }
            let code = String(decoding: bytes[index..<close], as: UTF8.self)
            guard (2...4).contains(code.utf8.count), code.isAllDigits else {
                throw .malformedElementString(text, reason: "'(\(code))' is not an AI of two to four digits")
            }
            let ai = try ApplicationIdentifier.resolve(code, permitUnknown: permitUnknownAIs)
            var value: [UInt8] = []
            index = close + 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "(") {
                if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "(") {
                    index += 1
                }
                value.append(bytes[index])
                index += 1
            }
            let string = String(decoding: value, as: UTF8.self)
            try ai.validate(string)
            values.append(AIValue(code, string))
        }
        let result = GS1ElementString(values)
        try result.checkAssociations()
        return result
    }

    /// Parses the FNC1 form written with `^` for FNC1 (a leading `^` is FNC1 in first position).
    public static func parse(fnc1 text: String, permitUnknownAIs: Bool = false) throws(GS1Error) -> GS1ElementString {
        var bytes = Array(text.utf8)[...]
        guard bytes.first == UInt8(ascii: "^") else {
            throw .malformedElementString(text, reason: "it must start with FNC1 (^)")
        }
        bytes = bytes.dropFirst()
        var values: [AIValue] = []
        while !bytes.isEmpty {
            guard let ai = (2...4).lazy.compactMap({ length in
                bytes.count >= length ? ApplicationIdentifier.lookup(String(decoding: bytes.prefix(length), as: UTF8.self)) : nil
            }).first else {
                throw .malformedElementString(text, reason: "no known AI starts '\(String(decoding: bytes.prefix(4), as: UTF8.self))'")
            }
            bytes = bytes.dropFirst(ai.code.utf8.count)
            let length = ai.requiresFNC1 ? (bytes.firstIndex(of: UInt8(ascii: "^")).map { $0 - bytes.startIndex } ?? bytes.count)
                : min(ai.maximumLength, bytes.count)
            let value = String(decoding: bytes.prefix(length), as: UTF8.self)
            try ai.validate(value)
            values.append(AIValue(ai.code, value))
            bytes = bytes.dropFirst(length)
            if bytes.first == UInt8(ascii: "^") { bytes = bytes.dropFirst() }
        }
        _ = permitUnknownAIs
        let result = GS1ElementString(values)
        try result.checkAssociations()
        return result
    }

    /// Checks each value against its AI, that repeated AIs repeat the same value, that no two AIs are
    /// exclusive and (unless `requisites` is false, for bare syntax checks) that every AI's requisite AIs
    /// are present, as in data that identifies something: (21) needs (01), (03) or (8006), and so on.
    public func validate(permitUnknownAIs: Bool = false, verifyCheckDigits: Bool = true, requisites: Bool = true) throws(GS1Error) {
        for value in values {
            try ApplicationIdentifier.resolve(value.ai, permitUnknown: permitUnknownAIs).validate(value.value, verifyCheckDigits: verifyCheckDigits)
        }
        try checkAssociations(requisites: requisites)
    }

    /// Repeated AIs must have equal values; exclusive AIs (General Specifications "invalid pairs") must not
    /// meet; with `requisites`, each AI's mandatory associations must be satisfied.
    func checkAssociations(requisites: Bool = false) throws(GS1Error) {
        // Element strings hold a handful of AIs: arrays, not hashing, hold them.
        var seen: [AIValue] = []  // each AI once, with its value
        for value in values {
            if let earlier = seen.first(where: { $0.ai == value.ai }) {
                if earlier.value != value.value { throw .duplicateAI(value.ai) }
            } else {
                seen.append(value)
            }
        }
        let found = seen.compactMap { value in ApplicationIdentifier.lookup(value.ai).map { (value, $0) } }
            .sorted { $0.0.ai.utf8.lexicographicallyPrecedes($1.0.ai.utf8) }
        let codes = seen.map(\.ai).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (value, ai) in found {
            for other in codes where ai.excludes(other) {
                throw .exclusiveAIs(value.ai, other)
            }
        }
        guard requisites else { return }
        for (value, ai) in found {
            if let missing = ai.unsatisfiedRequisite(among: codes) {
                throw .missingRequisiteAIs(value.ai, requires: missing)
            }
        }
        // A digital signature (8030) signs one instance: a key whose serial component is optional
        // (GDTI, GCN, GRAI) must carry it.
        if codes.contains("8030") {
            for (value, ai) in found where ai.isPrimaryKey && ai.components.last?.isOptional == true
                && value.value.utf8.count <= ai.components.dropLast().reduce(0, { $0 + $1.maximumLength }) {
                throw .serialRequiredWithSignature(value.ai)
            }
        }
    }

    /// The bracketed form; `(` inside values is written `\(`.
    public var bracketed: String {
        values.map { "(\($0.ai))" + $0.value.replacingOccurrences(of: "(", with: "\\(") }.joined()
    }

    /// The FNC1 form with `^` for FNC1: a leading `^`, and `^` after each variable-length value that is not last.
    public var fnc1: String {
        var out = "^"
        for (index, value) in values.enumerated() {
            out += value.ai + value.value
            let variable = ApplicationIdentifier.lookup(value.ai)?.requiresFNC1 ?? true
            if variable, index < values.count - 1 { out += "^" }
        }
        return out
    }

    public var description: String { bracketed }
}

extension String {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
