import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// What an agent observes: a signed reading (its own, or one a device sent it, verified), or
/// a message from a device.
public enum AgentEvent: Equatable, Sendable {
    /// A reading with its device's signature (which lets anyone submit it on chain).
    case reading(DeviceReading, signature: [UInt8])
    case message(from: Address, contentType: String, payload: [UInt8])
}

/// What a rule makes the agent do, its arguments filled in from the event.
public enum AgentAction: Equatable, Sendable {
    case call(rule: String, to: Address, data: [UInt8], value: UInt256, function: String)
    case send(rule: String, to: Address, contentType: String, payload: [UInt8])
}

/// The agent's rules as a pure state machine: events in, actions out. A reading condition is
/// edge-triggered per device: it fires when it becomes true, and again only after a reading
/// made it false (a valve is opened once when the soil gets dry, not at every dry reading).
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
        case .call(let to, let function, let value):
            return .call(rule: rule, to: to, data: try function.calldata(values, path: path + ".call"), value: value, function: function.signature)
        case .send(let to, let contentType, let text):
            var filled = text
            for (name, value) in values { filled = filled.replacingOccurrences(of: "${\(name)}", with: value.stringValue ?? value.description) }
            return .send(rule: rule, to: to, contentType: contentType, payload: Array(filled.utf8))
        }
    }
}
