import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// What an agent observes: a signed reading (its own, or one a device sent it, verified), a
/// message from a device, a voucher (its signature verified, its cumulative above the last
/// accepted), or a contract's log.
public enum AgentEvent: Equatable, Sendable {
    /// A reading with its device's signature (which lets anyone submit it on chain).
    case reading(DeviceReading, signature: [UInt8])
    case message(from: Address, contentType: String, payload: [UInt8])
    /// A voucher with its device's signature (which the channel checks again when settled).
    case voucher(Voucher, signature: [UInt8])
    case log(ChainLog)
}

/// What a rule makes the agent do, its arguments filled in from the event.
public enum AgentAction: Equatable, Sendable {
    case call(rule: String, to: Address, data: [UInt8], value: UInt256, function: String)
    case send(rule: String, to: Address, contentType: String, payload: [UInt8])
    /// Sign a voucher for `add` more than the last cumulative signed on the channel, send it to `to`.
    case voucher(rule: String, contract: Address, channel: UInt256, add: UInt256, to: Address)
}

/// The agent's rules as a pure state machine: events in, actions out. A reading condition is
/// edge-triggered per device: it fires when it becomes true, and again only after a reading
/// made it false (a valve is opened once when the soil gets dry, not at every dry reading).
/// Message, voucher and event conditions fire on each matching message, voucher and log.
public struct RuleEngine: Sendable {
    public let rules: [AgentConfiguration.Rule]
    /// Per rule and device, whether the condition held at the last reading.
    private var held: [String: Bool] = [:]

    public init(rules: [AgentConfiguration.Rule]) { self.rules = rules }

    /// The actions `event` causes, in rule order. A rule whose action cannot be built (an
    /// argument that does not fit its type) yields an error for that rule and no action.
    public mutating func observe(_ event: AgentEvent) -> [Result<AgentAction, AgentError>] {
        var out: [Result<AgentAction, AgentError>] = []
        for (index, rule) in rules.enumerated() {
            guard let values = fires(rule, index, event) else { continue }
            for (i, action) in rule.actions.enumerated() {
                out.append(Result { () throws(AgentError) in try Self.build(action, rule: rule.name, values, event, path: "rules[\(index)].do[\(i)]") })
            }
        }
        return out
    }

    /// The event's values when `rule` fires on it, else nil.
    private mutating func fires(_ rule: AgentConfiguration.Rule, _ index: Int, _ event: AgentEvent) -> [String: JSON]? {
        switch (rule.when, event) {
        case (.reading(let from, let kind, let below, let above), .reading(let reading, _)):
            guard reading.kind == kind, from == nil || from == reading.device else { return nil }
            let holds = below.map { reading.value.signedLessThan($0) } ?? above.map { $0.signedLessThan(reading.value) } ?? false
            let key = "\(index)/\(reading.device)"
            let before = held[key] ?? false
            held[key] = holds
            guard holds, !before else { return nil }
            return ["value": .string(reading.signedDecimal), "device": .string(reading.device.checksummed),
                    "from": .string(reading.device.checksummed), "sequence": .number(JSONNumber(reading.sequence)),
                    "observedAt": .number(JSONNumber(reading.observedAt)), "kind": .string(reading.kind.description)]
        case (.message(let from, let contentType), .message(let sender, let type, let payload)):
            guard from == nil || from == sender, contentType == nil || contentType == type else { return nil }
            return ["from": .string(sender.checksummed), "contentType": .string(type), "text": .string(String(decoding: payload, as: UTF8.self))]
        case (.voucher(let from, let contract), .voucher(let voucher, _)):
            guard from == nil || from == voucher.device, contract == nil || contract == voucher.contract else { return nil }
            return ["contract": .string(voucher.contract.checksummed), "channel": .string(voucher.channel.description),
                    "cumulative": .string(voucher.cumulative.description), "device": .string(voucher.device.checksummed),
                    "from": .string(voucher.device.checksummed)]
        case (.event(let filter), .log(let log)):
            return filter.matches(log) ? log.values : nil
        default:
            return nil
        }
    }

    static func build(_ action: AgentConfiguration.Action, rule: String, _ values: [String: JSON], _ event: AgentEvent,
                      path: String) throws(AgentError) -> AgentAction {
        switch action {
        case .submitReading:
            // The configuration allows it only under a reading condition.
            guard case .reading(let reading, let signature) = event else { throw AgentError(path, "submit needs a reading") }
            return .call(rule: rule, to: DeviceReadings.address, data: reading.submitCallData(signature: signature), value: .zero,
                         function: DeviceReadings.Method.submit.signature)
        case .settle:
            // The configuration allows it only under a voucher condition.
            guard case .voucher(let voucher, let signature) = event else { throw AgentError(path, "settle needs a voucher") }
            return .call(rule: rule, to: voucher.contract, data: voucher.settleCallData(signature: signature), value: .zero, function: Voucher.settleFunction)
        case .voucher(let contract, let channel, let add, let to):
            return .voucher(rule: rule, contract: contract, channel: channel, add: add, to: to)
        case .call(let to, let function, let value):
            return .call(rule: rule, to: to, data: try function.calldata(values, path: path + ".call"), value: value, function: function.signature)
        case .send(let to, let contentType, let text):
            var filled = text
            for (name, value) in values { filled = filled.replacingOccurrences(of: "${\(name)}", with: value.stringValue ?? value.description) }
            return .send(rule: rule, to: to, contentType: contentType, payload: Array(filled.utf8))
        }
    }
}
