import KramaaJSON
import KramaaPrimitives
import KramaaRPC
import KramaaState

// Argument types of the eth_* methods, decoded with geth's rules and error texts.

extension Address: RPCParamDecodable {
    /// A 20-byte address as hex (`common.Address`); any letter case is accepted.
    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "common.Address") }
        self = try Address(RPCHex.decodeFixed(text, length: 20, typeName: "common.Address"))
    }
}

extension Bytes32: RPCParamDecodable {
    /// A 32-byte hash as hex (`common.Hash`).
    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "common.Hash") }
        self = try Bytes32(RPCHex.decodeFixed(text, length: 32, typeName: "common.Hash"))
    }
}

extension UInt256: RPCParamDecodable {
    /// A quantity of up to 256 bits (`hexutil.Big`).
    public init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "hexutil.Big") }
        do { self = try UInt256(bigEndianBytes: RPCHex.decodeQuantityBytes(text)) } catch {
            throw RPCParamTypeError(found: "\(error)", expected: "hexutil.Big")
        }
    }
}

/// A storage slot as eth_getStorageAt and eth_getProof take it: hex of up to 32 bytes, with
/// or without leading zeros (geth's `decodeHash`).
struct StorageSlot: RPCParamDecodable {
    var value: UInt256

    init(rpcParam value: JSON) throws {
        guard case .string(var text) = value else { throw RPCParamTypeError(found: "non-string", expected: "string") }
        if text.hasPrefix("0x") || text.hasPrefix("0X") { text.removeFirst(2) }
        if text.count % 2 == 1 { text = "0" + text }
        guard text.count <= 64 else { throw APIError.invalidArgument("hex string too long, want at most 32 bytes") }
        guard let bytes = try? RPCHex.decodeData("0x" + text) else { throw APIError.invalidArgument("hex string invalid") }
        self.value = try UInt256(bigEndianBytes: bytes)
    }
}

extension RPCHex {
    /// Fixed-length data checked in geth's order (`UnmarshalFixedJSON`): prefix and even length,
    /// then the length (`… want 40 for common.Address`), then the digits; the first and last
    /// kinds of error come wrapped as Go's json package words them.
    static func decodeFixed(_ text: String, length: Int, typeName: String) throws -> [UInt8] {
        let digits = text.utf8.count - 2
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else {
            throw RPCParamTypeError(found: KramaaJSON.HexError.missingPrefix.description, expected: typeName)
        }
        guard digits % 2 == 0 else { throw RPCParamTypeError(found: KramaaJSON.HexError.oddLength.description, expected: typeName) }
        guard digits == 2 * length else {
            throw APIError.invalidArgument("hex string has length \(digits), want \(2 * length) for \(typeName)")
        }
        do { return try RPCHex.decodeData(text) } catch { throw RPCParamTypeError(found: error.description, expected: typeName) }
    }
}

/// An index argument (geth's `hexutil.Uint`).
struct HexIndex: RPCParamDecodable {
    var value: UInt64

    init(rpcParam value: JSON) throws {
        guard case .string(let text) = value else { throw RPCParamTypeError(found: "non-string", expected: "hexutil.Uint") }
        do { self.value = try RPCHex.decodeQuantity(text) } catch { throw RPCParamTypeError(found: error.description, expected: "hexutil.Uint") }
    }
}

/// Which block a call is about: a tag, a number, or a hash (EIP-1898).
enum BlockSelector: RPCParamDecodable, Equatable {
    case latest, pending, earliest, safe, finalized
    case number(UInt64)
    case hash(Bytes32, requireCanonical: Bool)

    init(rpcParam value: JSON) throws {
        switch value {
        case .string(let text):
            switch text {
            case "latest": self = .latest
            case "pending": self = .pending
            case "earliest": self = .earliest
            case "safe": self = .safe
            case "finalized": self = .finalized
            default: self = .number(try RPCHex.decodeQuantity(text))
            }
        case .object(let object):
            if let hash = object["blockHash"] {
                if object["blockNumber"] != nil { throw APIError.invalidArgument("cannot specify both BlockHash and BlockNumber, choose one or the other") }
                self = .hash(try Bytes32(rpcParam: hash), requireCanonical: object["requireCanonical"]?.boolValue ?? false)
            } else if let number = object["blockNumber"] {
                self = try BlockSelector(rpcParam: number)
            } else {
                throw APIError.invalidArgument("block number or hash missing")
            }
        default:
            throw RPCParamTypeError(found: value.kindName, expected: "string")
        }
    }
}

/// A plain argument error whose text is the whole message after `invalid argument N: `.
struct APIError: Error, CustomStringConvertible {
    var description: String
    static func invalidArgument(_ text: String) -> APIError { APIError(description: text) }
}

extension AccountOverride {
    /// One entry of a state override set: `{balance, nonce, code, state, stateDiff}`.
    init(json: JSON) throws {
        guard let object = json.objectValue else { throw RPCParamTypeError(found: json.kindName, expected: "ethapi.OverrideAccount") }
        self.init()
        if let v = object["nonce"], !v.isNull { nonce = try UInt64(rpcParam: v) }
        if let v = object["balance"], !v.isNull { balance = try UInt256(rpcParam: v) }
        if let v = object["code"], !v.isNull { code = try HexData(rpcParam: v).bytes }
        func slots(_ v: JSON) throws -> [UInt256: UInt256] {
            guard let map = v.objectValue else { throw RPCParamTypeError(found: v.kindName, expected: "map[common.Hash]common.Hash") }
            var out: [UInt256: UInt256] = [:]
            for (key, value) in map {
                out[try StorageSlot(rpcParam: .string(key)).value] = UInt256(try Bytes32(rpcParam: value))
            }
            return out
        }
        if let v = object["state"], !v.isNull { state = try slots(v) }
        if let v = object["stateDiff"], !v.isNull { stateDiff = try slots(v) }
        if state != nil && stateDiff != nil {
            throw RPCError.server("account has both 'state' and 'stateDiff'")
        }
    }

    /// A whole override set, keyed by address.
    static func set(json: JSON) throws -> [Address: AccountOverride] {
        guard let object = json.objectValue else { throw RPCParamTypeError(found: json.kindName, expected: "ethapi.StateOverride") }
        var out: [Address: AccountOverride] = [:]
        for (key, value) in object { out[try Address(rpcParam: .string(key))] = try AccountOverride(json: value) }
        return out
    }
}
