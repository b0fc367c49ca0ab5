import KramaaJSON
import KramaaPrimitives

/// A payment channel voucher (contracts/PaymentChannel.vy): the device `device` promises the
/// payee of `channel` in `contract` a CUMULATIVE amount. The payee settles the latest one it
/// holds and is paid what it adds to what was paid before. Sent over messaging as a message of
/// content type ``contentType``:
///
/// ```json
/// {"contract": "0x…", "channel": "1", "cumulative": "3000000000000000", "device": "0x…", "signature": "0x…"}
/// ```
public struct Voucher: Hashable, Sendable {
    public var contract: Address
    public var channel: UInt256
    public var cumulative: UInt256
    /// The device whose registered key signs it (the channel's `device`).
    public var device: Address

    public static let contentType = "application/vnd.kramaa.voucher+json"
    /// What the digest starts with: the 14 ASCII bytes `kramaa:voucher`.
    public static let domain = Array("kramaa:voucher".utf8)
    /// The channel's settlement: `settle(channelId, cumulative, signature)`.
    public static let settleFunction = "settle(uint256,uint256,bytes)"

    public init(contract: Address, channel: UInt256, cumulative: UInt256, device: Address) {
        (self.contract, self.channel, self.cumulative, self.device) = (contract, channel, cumulative, device)
    }

    /// The (contract, channel) the voucher pays on.
    public var channelKey: VoucherLedger.Channel { .init(contract: contract, channel: channel) }

    /// keccak256(`"kramaa:voucher"` ‖ chainId (8 bytes big-endian) ‖ contract (20) ‖ channel (32
    /// big-endian) ‖ cumulative (32 big-endian)): what the device signs, as PaymentChannel's `_digest`.
    public func digest(chainId: UInt64) -> Bytes32 {
        Keccak256.hash(Self.domain + withUnsafeBytes(of: chainId.bigEndian, Array.init) + contract.bytes + channel.bigEndianBytes + cumulative.bigEndianBytes)
    }

    /// The calldata of `settle(channel, cumulative, signature)` on the voucher's contract.
    public func settleCallData(signature: [UInt8]) -> [UInt8] {
        ABI.selector(Self.settleFunction) + ABI.encode([.uint(channel), .uint(cumulative), .bytes(signature)])
    }

    /// The message's payload.
    public func encode(signature: [UInt8]) -> [UInt8] {
        let object: JSON = ["contract": .string(contract.checksummed), "channel": .string(channel.description),
                            "cumulative": .string(cumulative.description), "device": .string(device.checksummed),
                            "signature": .string(Hex.encode(signature))]
        return object.serialized()
    }

    public static func decode(_ bytes: [UInt8]) throws(AgentError) -> (voucher: Voucher, signature: [UInt8]) {
        guard let json = try? JSON.parse(bytes), let o = json.objectValue else { throw AgentError("voucher", "not a JSON object") }
        func decimal(_ name: String) -> UInt256? {
            (o[name]?.stringValue ?? o[name]?.numberValue?.description).flatMap { try? UInt256(decimal: $0) }
        }
        guard let contract = o["contract"]?.stringValue.flatMap({ try? Address(hex: $0) }), let channel = decimal("channel"),
              let cumulative = decimal("cumulative"), let device = o["device"]?.stringValue.flatMap({ try? Address(hex: $0) }),
              let signature = o["signature"]?.stringValue.flatMap({ try? Hex.decode($0) }) else {
            throw AgentError("voucher", "needs contract (address), channel and cumulative (decimal strings), device (address) and signature (hex)")
        }
        return (Voucher(contract: contract, channel: channel, cumulative: cumulative, device: device), signature)
    }
}

/// Per channel, the last cumulative this device signed as a payer and the last it accepted as a
/// payee, so it never signs a lower total and never accepts a voucher twice or out of order.
/// The agent keeps it in a 0600 file beside the device's key (`KEY.vouchers`):
///
/// ```json
/// {"signed": [{"contract": "0x…", "channel": "1", "cumulative": "2000"}], "accepted": []}
/// ```
public struct VoucherLedger: Equatable, Sendable {
    public struct Channel: Hashable, Sendable {
        public var contract: Address
        public var channel: UInt256

        public init(contract: Address, channel: UInt256) { (self.contract, self.channel) = (contract, channel) }
    }

    public var signed: [Channel: UInt256] = [:]
    public var accepted: [Channel: UInt256] = [:]

    public init() {}

    /// The next cumulative for `channel`, the last signed plus `add`, recorded as signed. The
    /// caller persists the ledger before it signs, so a crash never makes it sign a lower total.
    public mutating func reserve(_ channel: Channel, add: UInt256) throws(AgentError) -> UInt256 {
        let (next, overflow) = (signed[channel] ?? .zero).addingReportingOverflow(add)
        guard !overflow else { throw AgentError("voucher", "the cumulative of channel \(channel.channel) in \(channel.contract) would pass 2^256") }
        signed[channel] = next
        return next
    }

    /// Records `voucher` as the latest accepted for its channel, or throws, changing nothing,
    /// when its cumulative is not above the last accepted (a replay, or one out of order).
    public mutating func accept(_ voucher: Voucher) throws(AgentError) {
        let last = accepted[voucher.channelKey] ?? .zero
        guard last < voucher.cumulative else {
            throw AgentError("voucher", "cumulative \(voucher.cumulative) of channel \(voucher.channel) is not above \(last), the last accepted: a replay or out of order")
        }
        accepted[voucher.channelKey] = voucher.cumulative
    }

    public func serialized() -> [UInt8] {
        func entries(_ totals: [Channel: UInt256]) -> JSON {
            .array(totals.sorted { ($0.key.contract, $0.key.channel) < ($1.key.contract, $1.key.channel) }.map { key, cumulative in
                ["contract": .string(key.contract.checksummed), "channel": .string(key.channel.description), "cumulative": .string(cumulative.description)]
            })
        }
        let object: JSON = ["signed": entries(signed), "accepted": entries(accepted)]
        return object.serialized() + [0x0a]
    }

    public init(parsing bytes: [UInt8]) throws(AgentError) {
        guard let json = try? JSON.parse(bytes), json.objectValue != nil else { throw AgentError("vouchers", "not a JSON object") }
        func entries(_ name: String) throws(AgentError) -> [Channel: UInt256] {
            var out: [Channel: UInt256] = [:]
            for item in json[name]?.arrayValue ?? [] {
                guard let contract = item["contract"]?.stringValue.flatMap({ try? Address(hex: $0) }),
                      let channel = item["channel"]?.stringValue.flatMap({ try? UInt256(decimal: $0) }),
                      let cumulative = item["cumulative"]?.stringValue.flatMap({ try? UInt256(decimal: $0) }) else {
                    throw AgentError("vouchers.\(name)", "an entry is not {contract, channel, cumulative}")
                }
                out[Channel(contract: contract, channel: channel)] = cumulative
            }
            return out
        }
        signed = try entries("signed")
        accepted = try entries("accepted")
    }
}
