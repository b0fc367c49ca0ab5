/// The Solidity contract ABI: function selectors and the head/tail encoding of arguments.
/// Covers what calls to contracts need: static words (uint, int, address, bool, bytes32) and
/// dynamic `bytes` and `string`.
public enum ABIValue: Sendable, Equatable {
    case uint(UInt256)
    case address(Address)
    case bool(Bool)
    case fixedBytes(Bytes32)
    case bytes([UInt8])
    case string(String)

    var isDynamic: Bool {
        switch self {
        case .bytes, .string: return true
        default: return false
        }
    }
}

public enum ABI {
    /// The 4-byte selector of a signature such as `transfer(address,uint256)`.
    public static func selector(_ signature: String) -> [UInt8] {
        Array(Keccak256.hash(Array(signature.utf8)).bytes.prefix(4))
    }

    /// `selector(signature)` followed by the encoded arguments: calldata for a function call.
    public static func call(_ signature: String, _ arguments: [ABIValue]) -> [UInt8] {
        selector(signature) + encode(arguments)
    }

    /// The arguments as a tuple: one 32-byte head slot each (the value, or the offset of a
    /// dynamic value's tail), then the tails in order.
    public static func encode(_ arguments: [ABIValue]) -> [UInt8] {
        var head: [UInt8] = []
        var tail: [UInt8] = []
        let headSize = 32 * arguments.count
        for argument in arguments {
            switch argument {
            case .uint(let v): head += v.bigEndianBytes
            case .address(let a): head += UInt256(a).bigEndianBytes
            case .bool(let b): head += (b ? UInt256.one : .zero).bigEndianBytes
            case .fixedBytes(let b): head += b.bytes
            case .bytes(let data): appendDynamic(data, head: &head, tail: &tail, headSize: headSize)
            case .string(let s): appendDynamic(Array(s.utf8), head: &head, tail: &tail, headSize: headSize)
            }
        }
        return head + tail
    }

    private static func appendDynamic(_ data: [UInt8], head: inout [UInt8], tail: inout [UInt8], headSize: Int) {
        head += UInt256(headSize + tail.count).bigEndianBytes
        tail += UInt256(data.count).bigEndianBytes
        tail += data
        tail += [UInt8](repeating: 0, count: (32 - data.count % 32) % 32)
    }
}
