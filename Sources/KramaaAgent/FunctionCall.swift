import KramaaJSON
import KramaaPrimitives

/// A contract call written as people write one: a Solidity signature (`open(uint8,uint256)`)
/// and JSON arguments, where a string `${name}` stands for a value of the event that fires the
/// rule (`${value}`, `${device}`, `${sequence}`, `${observedAt}`, `${from}`, `${topic1}`…). Encoded
/// with the Solidity ABI; static types, `string` and `bytes`. Integers are decimal or 0x-hex, so
/// a log's 32-byte words fill uint256, address and bytes32 arguments alike.
public struct FunctionCall: Equatable, Sendable {
    public let signature: String
    public let types: [String]
    public let arguments: [JSON]

    /// Checks the signature and the arguments' count; the values are checked when encoded.
    public init(signature: String, arguments: [JSON], path: String = "") throws(AgentError) {
        let types = try Self.types(of: signature, path: path)
        guard types.count == arguments.count else {
            throw AgentError(path, "\(signature) takes \(types.count) arguments, \(arguments.count) given")
        }
        self.signature = signature
        self.types = types
        self.arguments = arguments
    }

    /// The argument types of a Solidity signature (a function's or an event's), checked.
    public static func types(of signature: String, path: String) throws(AgentError) -> [String] {
        guard let open = signature.firstIndex(of: "("), signature.hasSuffix(")"), open != signature.startIndex,
              signature[..<open].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw AgentError(path, "\(signature) is not a function signature such as open(uint8,uint256)")
        }
        let inner = signature[signature.index(after: open)..<signature.index(before: signature.endIndex)]
        let types = inner.isEmpty ? [] : inner.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for type in types where Self.kind(of: type) == nil {
            throw AgentError(path, "type \(type) of \(signature) is not supported (uint<N>, int<N>, address, bool, bytes<N>, bytes, string)")
        }
        return types
    }

    /// The calldata, with `${name}` arguments taken from `values`.
    public func calldata(_ values: [String: JSON] = [:], path: String = "") throws(AgentError) -> [UInt8] {
        var encoded: [ABIValue] = []
        for (i, (type, argument)) in zip(types, arguments).enumerated() {
            var value = argument
            if let text = argument.stringValue, text.hasPrefix("${"), text.hasSuffix("}") {
                let name = String(text.dropFirst(2).dropLast())
                guard let given = values[name] else {
                    throw AgentError("\(path).args[\(i)]", "${\(name)} is not a value of this event (\(values.keys.sorted().joined(separator: ", ")))")
                }
                value = given
            }
            encoded.append(try Self.encode(value, as: type, path: "\(path).args[\(i)]"))
        }
        return ABI.selector(signature) + ABI.encode(encoded)
    }

    enum Kind { case uint(Int), int(Int), address, bool, fixed(Int), bytes, string }

    static func kind(of type: String) -> Kind? {
        func bits(_ suffix: Substring) -> Int? {
            if suffix.isEmpty { return 256 }
            guard let n = Int(suffix), n >= 8, n <= 256, n % 8 == 0 else { return nil }
            return n
        }
        switch type {
        case "address": return .address
        case "bool": return .bool
        case "bytes": return .bytes
        case "string": return .string
        case _ where type.hasPrefix("uint"): return bits(type.dropFirst(4)).map(Kind.uint)
        case _ where type.hasPrefix("int"): return bits(type.dropFirst(3)).map(Kind.int)
        case _ where type.hasPrefix("bytes"):
            guard let n = Int(type.dropFirst(5)), (1...32).contains(n) else { return nil }
            return .fixed(n)
        default: return nil
        }
    }

    static func encode(_ value: JSON, as type: String, path: String) throws(AgentError) -> ABIValue {
        func integer() throws(AgentError) -> UInt256 {
            let text = value.numberValue?.description ?? value.stringValue ?? ""
            if text.hasPrefix("-"), let magnitude = try? UInt256(parsing: text.dropFirst()) { return magnitude.negated }
            guard let n = try? UInt256(parsing: text) else { throw AgentError(path, "\(value) is not an integer for \(type)") }
            return n
        }
        func hex() throws(AgentError) -> [UInt8] {
            guard let text = value.stringValue, let bytes = try? Hex.decode(text) else { throw AgentError(path, "\(value) is not 0x-hex for \(type)") }
            return bytes
        }
        switch kind(of: type)! {
        case .uint(let bits):
            let n = try integer()
            guard bits == 256 || n >> bits == .zero, !(value.stringValue ?? "").hasPrefix("-") else { throw AgentError(path, "\(value) does not fit \(type)") }
            return .uint(n)
        case .int(let bits):
            let n = try integer()
            let limit = UInt256.one << (bits - 1)
            guard bits == 256 || (n.isNegative ? n.negated <= limit : n < limit) else { throw AgentError(path, "\(value) does not fit \(type)") }
            return .uint(n)
        case .address:
            // An address, or a 32-byte word that holds one (an indexed topic, a log's data word).
            let text = value.stringValue ?? ""
            let word = text.count == 66 ? (try? Hex.decode(text)) ?? [] : []
            let address: Address?
            if word.count == 32, word.prefix(12).allSatisfy({ $0 == 0 }) { address = try? Address(word.suffix(20)) } else { address = try? Address(hex: text) }
            guard let address else {
                throw AgentError(path, "\(value) is not an address (or a 32-byte word holding one)")
            }
            return .address(address)
        case .bool:
            guard case .bool(let flag) = value else { throw AgentError(path, "\(value) is not true or false") }
            return .bool(flag)
        case .fixed(let n):
            let bytes = try hex()
            guard bytes.count == n else { throw AgentError(path, "\(type) takes \(n) bytes, \(bytes.count) given") }
            return .fixedBytes(try! Bytes32(bytes + [UInt8](repeating: 0, count: 32 - n)))
        case .bytes: return .bytes(try hex())
        case .string:
            guard let text = value.stringValue else { throw AgentError(path, "\(value) is not a string") }
            return .string(text)
        }
    }
}
