import KramaaJSON
/// The positional arguments of a call, with decoders whose errors name the argument and the
/// reason the way geth does (`invalid argument 0: hex string without 0x prefix`, code -32602).
///
/// ```swift
/// router.register("eth_getBalance") { params, _ in
///     try params.expect(atMost: 2)
///     let address = try params.data(0, length: 20)
///     let block = try params.decodeIfPresent(1, as: String.self) ?? "latest"
///     …
/// }
/// ```
public struct RPCParams: Sendable, Equatable {
    /// The `params` member as sent (`nil` when absent); use it for by-name parameters.
    public let raw: JSON?
    /// The positional arguments; empty for absent or `null` params, and for an object.
    public let values: [JSON]

    public init(_ raw: JSON?) {
        self.raw = raw
        if case .array(let values) = raw { self.values = values } else { self.values = [] }
    }

    /// Positional arguments, as a handler test would write them.
    public init(_ values: [JSON]) { self.init(.array(values)) }

    /// How many positional arguments were sent.
    public var count: Int { values.count }

    /// The argument at `index`, or `nil` when not sent.
    public subscript(index: Int) -> JSON? { values.indices.contains(index) ? values[index] : nil }

    /// Throws -32602 `non-array args` if params were sent but not as an array, and
    /// `too many arguments, want at most N` if more than `limit` were sent.
    public func expect(atMost limit: Int) throws(RPCError) {
        try requireArray()
        guard values.count <= limit else { throw .invalidParams("too many arguments, want at most \(limit)") }
    }

    /// The argument at `index` decoded as `T`; throws when it is missing, `null`, or malformed.
    public func decode<T: RPCParamDecodable>(_ index: Int, as type: T.Type = T.self) throws(RPCError) -> T {
        try requireArray()
        guard let value = self[index], !value.isNull else {
            throw .invalidParams("missing value for required argument \(index)")
        }
        return try Self.decode(value, at: index)
    }

    /// The argument at `index` decoded as `T`, or `nil` when it is missing or `null` (optional
    /// trailing arguments such as a block tag).
    public func decodeIfPresent<T: RPCParamDecodable>(_ index: Int, as type: T.Type = T.self) throws(RPCError) -> T? {
        try requireArray()
        guard let value = self[index], !value.isNull else { return nil }
        return try Self.decode(value, at: index) as T
    }

    /// A hex quantity of at most 64 bits (geth's `hexutil.Uint64`).
    public func quantity(_ index: Int) throws(RPCError) -> UInt64 { try decode(index, as: UInt64.self) }

    /// Hex data of any length (geth's `hexutil.Bytes`), e.g. a raw transaction.
    public func data(_ index: Int) throws(RPCError) -> [UInt8] { try decode(index, as: HexData.self).bytes }

    /// Hex data of exactly `length` bytes: 20 for an address, 32 for a hash.
    public func data(_ index: Int, length: Int) throws(RPCError) -> [UInt8] {
        let bytes = try data(index)
        guard bytes.count == length else {
            throw Self.invalid(index, HexError.wrongLength(digits: 2 * bytes.count, want: 2 * length).description)
        }
        return bytes
    }

    /// A string argument.
    public func string(_ index: Int) throws(RPCError) -> String { try decode(index, as: String.self) }

    /// A boolean argument.
    public func bool(_ index: Int) throws(RPCError) -> Bool { try decode(index, as: Bool.self) }

    private func requireArray() throws(RPCError) {
        switch raw {
        case nil, .null?, .array?: return
        default: throw .invalidParams("non-array args")
        }
    }

    private static func decode<T: RPCParamDecodable>(_ value: JSON, at index: Int) throws(RPCError) -> T {
        do {
            return try T(rpcParam: value)
        } catch let error as RPCError {
            throw error
        } catch {
            throw invalid(index, String(describing: error))
        }
    }

    private static func invalid(_ index: Int, _ reason: String) -> RPCError {
        .invalidParams("invalid argument \(index): \(reason)")
    }
}

/// A type that can be decoded from one JSON-RPC argument. Conform chain types (addresses,
/// hashes, 256-bit quantities, block tags) in their own module; whatever the initializer throws
/// becomes `invalid argument N: <description>` (throw ``RPCError`` to answer with it unchanged).
public protocol RPCParamDecodable {
    init(rpcParam value: JSON) throws
}

/// An argument of the wrong JSON type, or a malformed hex value, worded as Go's encoding/json
/// words it (`json: cannot unmarshal number into Go value of type string`, `json: cannot
/// unmarshal hex string without 0x prefix into Go value of type hexutil.Bytes`).
public struct RPCParamTypeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was sent: a JSON kind (`number`, `object`, …) or `non-string` for hex types.
    public var found: String
    /// The expected type, named as geth names it (`string`, `hexutil.Bytes`, …).
    public var expected: String

    public init(found: String, expected: String) {
        self.found = found
        self.expected = expected
    }

    public var description: String { "json: cannot unmarshal \(found) into Go value of type \(expected)" }
}

/// Hex data as a parameter type (geth's `hexutil.Bytes`).
public struct HexData: RPCParamDecodable, Sendable, Equatable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "hexutil.Bytes") }
        do { bytes = try RPCHex.decodeData(text) } catch { throw RPCParamTypeError(found: error.description, expected: "hexutil.Bytes") }
    }
}

extension UInt64: RPCParamDecodable {
    /// Decodes a hex quantity (geth's `hexutil.Uint64`); JSON numbers are refused, as in geth.
    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "hexutil.Uint64") }
        do { self = try RPCHex.decodeQuantity(text) } catch { throw RPCParamTypeError(found: error.description, expected: "hexutil.Uint64") }
    }
}

extension String: RPCParamDecodable {
    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: value.kindName, expected: "string") }
        self = text
    }
}

extension Bool: RPCParamDecodable {
    public init(rpcParam value: JSON) throws {
        guard case .bool(let flag) = value else { throw RPCParamTypeError(found: value.kindName, expected: "bool") }
        self = flag
    }
}

extension JSON: RPCParamDecodable {
    /// Any value, unchecked: for handlers that read structured arguments themselves.
    public init(rpcParam value: JSON) throws { self = value }
}

extension Array: RPCParamDecodable where Element: RPCParamDecodable {
    /// A JSON array whose elements all decode as `Element`.
    public init(rpcParam value: JSON) throws {
        guard case .array(let elements) = value else {
            throw RPCParamTypeError(found: value.kindName, expected: "[]\(Element.self)")
        }
        self = try elements.map { try Element(rpcParam: $0) }
    }
}
