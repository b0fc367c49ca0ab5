/// The Solidity contract ABI: function selectors and the head/tail encoding of arguments.
/// Covers what calls to contracts and the native system contracts need: static words (uint,
/// int, address, bool, bytes32), dynamic `bytes` and `string`, dynamic arrays (`T[]`) and
/// tuples of any of these.
public enum ABIValue: Sendable, Equatable {
    case uint(UInt256)
    case address(Address)
    case bool(Bool)
    case fixedBytes(Bytes32)
    case bytes([UInt8])
    case string(String)
    /// `T[]`: a dynamic-length array (its elements may be dynamic themselves).
    case array([ABIValue])
    /// `(T1, T2, ...)`: a struct; dynamic when any member is.
    case tuple([ABIValue])

    var isDynamic: Bool {
        switch self {
        case .bytes, .string, .array: return true
        case .tuple(let members): return members.contains { $0.isDynamic }
        default: return false
        }
    }
}

public enum ABI {
    /// The 4-byte selector of a signature such as `transfer(address,uint256)`.
    public static func selector(_ signature: String) -> [UInt8] {
        Array(Keccak256.hash(Array(signature.utf8)).bytes.prefix(4))
    }

    /// The selector of `signature` as a big-endian integer (for dispatch tables).
    public static func selectorValue(_ signature: String) -> UInt32 {
        selector(signature).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The topic of an event signature such as `Transfer(address,address,uint256)`.
    public static func eventTopic(_ signature: String) -> Bytes32 {
        Keccak256.hash(Array(signature.utf8))
    }

    /// `selector(signature)` followed by the encoded arguments: calldata for a function call.
    public static func call(_ signature: String, _ arguments: [ABIValue]) -> [UInt8] {
        selector(signature) + encode(arguments)
    }

    /// The arguments as a tuple: one 32-byte head slot each (the value, or the offset of a
    /// dynamic value's tail), then the tails in order.
    public static func encode(_ arguments: [ABIValue]) -> [UInt8] {
        var out: [UInt8] = []
        appendTuple(arguments, to: &out)
        return out
    }

    /// Revert data of Solidity's `Error(string)`: what `revert("reason")` returns.
    public static func errorString(_ reason: String) -> [UInt8] {
        call("Error(string)", [.string(reason)])
    }

    private static func appendTuple(_ members: [ABIValue], to out: inout [UInt8]) {
        let start = out.count
        let headSize = members.reduce(0) { $0 + headLength($1) }
        out.reserveCapacity(start + headSize)
        var heads: [(position: Int, value: ABIValue)] = []
        for member in members {
            if member.isDynamic {
                heads.append((out.count, member))
                out += [UInt8](repeating: 0, count: 32)  // the offset, filled in below
            } else {
                appendStatic(member, to: &out)
            }
        }
        for (position, value) in heads {
            let offset = UInt256(UInt64(out.count - start)).bigEndianBytes
            out.replaceSubrange(position..<position + 32, with: offset)
            appendDynamic(value, to: &out)
        }
    }

    /// Bytes a value takes in its tuple's head: 32, or the whole of a static tuple.
    private static func headLength(_ value: ABIValue) -> Int {
        if case .tuple(let members) = value, !value.isDynamic { return members.reduce(0) { $0 + headLength($1) } }
        return 32
    }

    private static func appendStatic(_ value: ABIValue, to out: inout [UInt8]) {
        switch value {
        case .uint(let v): out += v.bigEndianBytes
        case .address(let a): out += UInt256(a).bigEndianBytes
        case .bool(let b): out += (b ? UInt256.one : .zero).bigEndianBytes
        case .fixedBytes(let b): out += b.bytes
        case .tuple(let members): appendTuple(members, to: &out)
        case .bytes, .string, .array: preconditionFailure("dynamic value in a static position")
        }
    }

    private static func appendDynamic(_ value: ABIValue, to out: inout [UInt8]) {
        switch value {
        case .bytes(let data): appendPadded(data, to: &out)
        case .string(let s): appendPadded(Array(s.utf8), to: &out)
        case .array(let elements):
            out += UInt256(UInt64(elements.count)).bigEndianBytes
            appendTuple(elements, to: &out)
        case .tuple(let members): appendTuple(members, to: &out)
        default: appendStatic(value, to: &out)
        }
    }

    private static func appendPadded(_ data: [UInt8], to out: inout [UInt8]) {
        out += UInt256(UInt64(data.count)).bigEndianBytes
        out += data
        out += [UInt8](repeating: 0, count: (32 - data.count % 32) % 32)
    }
}
