import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// What a device agent does (docs/AGENT.md), read from `agent.json`:
///
/// ```json
/// {"readings": [{"kind": "soil.moisture", "values": [41, 33, 27], "file": null, "interval": 1,
///                "submit": true, "sendTo": ["0xController…"]}],
///  "rules": [{"name": "open valve", "when": {"reading": {"from": "0xSensor…", "kind": "soil.moisture", "below": 30}},
///             "do": [{"call": {"to": "0xValves…", "function": "open(uint8)", "args": [1]}},
///                    {"send": {"to": "0xPump…", "contentType": "text/plain", "text": "moisture ${value}"}},
///                    {"submit": {}}]}]}
/// ```
///
/// and vouchers and chain events (docs/AGENT.md): `"when": {"voucher": {"from": "0xPump…"}}` with
/// `{"settle": {}}`, `{"voucher": {"contract", "channel", "add", "to"}}`, and
/// `"when": {"event": {"contract", "signature", "topics": {"2": "0x…"}}}`.
public struct AgentConfiguration: Equatable, Sendable {
    /// A reading this device makes: scripted `values` (one per `interval`, then it stops) or the
    /// last integer line of `file` (a sensor process writes it); signed, submitted on chain
    /// (`submit`) and sent to devices (`sendTo`).
    public struct ReadingSource: Equatable, Sendable {
        public var kindName: String
        public var values: [UInt256]?
        public var file: String?
        public var interval: Double
        public var submit: Bool
        public var sendTo: [Address]
        public var kind: Bytes32 { DeviceReading.kind(named: kindName) }
    }

    public enum Condition: Equatable, Sendable {
        /// A reading of `kind` (from `from`, or any device), strictly below or above a threshold:
        /// the rule fires when the condition becomes true (edge), again only after it was false.
        case reading(from: Address?, kind: Bytes32, below: UInt256?, above: UInt256?)
        /// Each message (from `from`, of `contentType`, when given).
        case message(from: Address?, contentType: String?)
        /// Each voucher signed by its device's registered key (`from`, when given) on `contract`
        /// (when given) with a cumulative above the last accepted for its channel.
        case voucher(from: Address?, contract: Address?)
        /// Each log of a contract's event (``EventFilter``), once, from when the agent started.
        case event(EventFilter)
    }

    public enum Action: Equatable, Sendable {
        case call(to: Address, function: FunctionCall, value: UInt256)
        /// Submits the reading that fired the rule (signed by its device, relayed here) to the
        /// readings contract: anyone may, the device's signature is what counts.
        case submitReading
        case send(to: Address, contentType: String, text: String)
        /// Signs a voucher for `add` more on the channel (cumulative, ``Voucher``) and sends it to `to`.
        case voucher(contract: Address, channel: UInt256, add: UInt256, to: Address)
        /// Settles the voucher that fired the rule on its channel (the payee's transaction).
        case settle
    }

    public struct Rule: Equatable, Sendable {
        public var name: String
        public var when: Condition
        public var actions: [Action]
    }

    public var readings: [ReadingSource]
    public var rules: [Rule]

    public init(readings: [ReadingSource] = [], rules: [Rule] = []) {
        self.readings = readings
        self.rules = rules
    }

    /// Parses and checks a configuration document; the error names the field.
    public init(parsing bytes: [UInt8]) throws(AgentError) {
        guard let document = try? JSON.parse(bytes), let root = document.objectValue else { throw AgentError("", "the configuration must be a JSON object") }
        let reader = Reader(path: "")
        readings = try reader.list(root, "readings").enumerated().map { i, item throws(AgentError) in try Self.source(item, Reader(path: "readings[\(i)]")) }
        rules = try reader.list(root, "rules").enumerated().map { i, item throws(AgentError) in try Self.rule(item, Reader(path: "rules[\(i)]")) }
        guard !readings.isEmpty || !rules.isEmpty else { throw AgentError("", "the configuration has neither readings nor rules: the agent would do nothing") }
    }

    private static func source(_ o: JSONObject, _ r: Reader) throws(AgentError) -> ReadingSource {
        let values = try o["values"].map { v throws(AgentError) in
            guard let items = v.arrayValue else { throw AgentError(r.path + ".values", "must be a list of integers") }
            return try items.enumerated().map { i, item throws(AgentError) in try r.integer(item, "values[\(i)]") }
        }
        let file = try r.optionalString(o, "file")
        guard (values == nil) != (file == nil) else { throw AgentError(r.path, "give either values (a script) or file (a sensor's output)") }
        let interval = o["interval"]?.numberValue?.double ?? 1
        guard interval >= 0.05, interval <= 86_400 else { throw AgentError(r.path + ".interval", "must be 0.05 to 86400 seconds") }
        return ReadingSource(kindName: try r.string(o, "kind"), values: values, file: file, interval: interval,
                             submit: o["submit"]?.boolValue ?? true,
                             sendTo: try r.addresses(o, "sendTo"))
    }

    private static func rule(_ o: JSONObject, _ r: Reader) throws(AgentError) -> Rule {
        let conditions = "{\"reading\": …}, {\"message\": …}, {\"voucher\": …} or {\"event\": …}"
        guard let when = o["when"]?.objectValue else { throw AgentError(r.path + ".when", "is required: " + conditions) }
        let condition: Condition
        if let reading = when["reading"]?.objectValue {
            let c = Reader(path: r.path + ".when.reading")
            let below = try reading["below"].map { v throws(AgentError) in try c.integer(v, "below") }
            let above = try reading["above"].map { v throws(AgentError) in try c.integer(v, "above") }
            guard (below == nil) != (above == nil) else { throw AgentError(c.path, "give one of below or above") }
            condition = .reading(from: try c.optionalAddress(reading, "from"), kind: DeviceReading.kind(named: try c.string(reading, "kind")),
                                 below: below, above: above)
        } else if let message = when["message"]?.objectValue {
            let c = Reader(path: r.path + ".when.message")
            condition = .message(from: try c.optionalAddress(message, "from"), contentType: try c.optionalString(message, "contentType"))
        } else if let voucher = when["voucher"]?.objectValue {
            let c = Reader(path: r.path + ".when.voucher")
            condition = .voucher(from: try c.optionalAddress(voucher, "from"), contract: try c.optionalAddress(voucher, "contract"))
        } else if let event = when["event"]?.objectValue {
            condition = .event(try Self.event(event, Reader(path: r.path + ".when.event")))
        } else {
            throw AgentError(r.path + ".when", "must be " + conditions)
        }
        let actions = try r.list(o, "do").enumerated().map { i, item throws(AgentError) in try action(item, Reader(path: r.path + ".do[\(i)]")) }
        guard !actions.isEmpty else { throw AgentError(r.path + ".do", "lists no action") }
        for (i, action) in actions.enumerated() {
            switch (action, condition) {
            case (.submitReading, .reading), (.settle, .voucher): continue
            case (.submitReading, _):
                throw AgentError(r.path + ".do[\(i)]", "submit sends the reading that fired the rule: it needs a reading condition")
            case (.settle, _):
                throw AgentError(r.path + ".do[\(i)]", "settle settles the voucher that fired the rule: it needs a voucher condition")
            default: continue
            }
        }
        return Rule(name: o["name"]?.stringValue ?? r.path, when: condition, actions: actions)
    }

    private static func action(_ o: JSONObject, _ r: Reader) throws(AgentError) -> Action {
        if let call = o["call"]?.objectValue {
            let c = Reader(path: r.path + ".call")
            let function = try FunctionCall(signature: try c.string(call, "function"), arguments: call["args"]?.arrayValue ?? [], path: c.path)
            return .call(to: try c.address(call, "to"), function: function, value: try call["value"].map { v throws(AgentError) in try c.integer(v, "value") } ?? .zero)
        }
        if let send = o["send"]?.objectValue {
            let c = Reader(path: r.path + ".send")
            return .send(to: try c.address(send, "to"), contentType: try c.optionalString(send, "contentType") ?? "text/plain", text: try c.string(send, "text"))
        }
        if let voucher = o["voucher"]?.objectValue {
            let c = Reader(path: r.path + ".voucher")
            let add = try c.unsigned(voucher["add"] ?? .null, "add")
            guard add != .zero else { throw AgentError(c.path + ".add", "must be above zero") }
            return .voucher(contract: try c.address(voucher, "contract"), channel: try c.unsigned(voucher["channel"] ?? .null, "channel"),
                            add: add, to: try c.address(voucher, "to"))
        }
        if o["submit"]?.objectValue != nil { return .submitReading }
        if o["settle"]?.objectValue != nil { return .settle }
        throw AgentError(r.path, "an action is {\"call\": …}, {\"send\": …}, {\"voucher\": …}, {\"submit\": {}} or {\"settle\": {}}")
    }

    private static func event(_ o: JSONObject, _ r: Reader) throws(AgentError) -> EventFilter {
        let signature = try r.string(o, "signature")
        _ = try FunctionCall.types(of: signature, path: r.path + ".signature")
        var topics: [Int: Bytes32] = [:]
        if let given = o["topics"] {
            guard let object = given.objectValue else { throw AgentError(r.path + ".topics", "must be an object of positions (1 to 3) to words") }
            for (name, value) in object {
                guard let position = Int(name), (1...3).contains(position) else {
                    throw AgentError("\(r.path).topics.\(name)", "a topic position is 1, 2 or 3 (0 is the event's signature)")
                }
                topics[position] = try EventFilter.word(value, path: "\(r.path).topics.\(name)")
            }
        }
        return EventFilter(contract: try r.address(o, "contract"), signature: signature, topics: topics)
    }

    /// Field access that names the field in its errors.
    struct Reader {
        let path: String

        func string(_ o: JSONObject, _ name: String) throws(AgentError) -> String {
            guard let s = o[name]?.stringValue, !s.isEmpty else { throw AgentError("\(path).\(name)", "is required: a non-empty string") }
            return s
        }

        func optionalString(_ o: JSONObject, _ name: String) throws(AgentError) -> String? {
            guard let value = o[name], !value.isNull else { return nil }
            return try string(o, name)
        }

        func address(_ o: JSONObject, _ name: String) throws(AgentError) -> Address {
            let text = try string(o, name)
            guard let address = try? Address(hex: text) else { throw AgentError("\(path).\(name)", "\(text) is not an address") }
            return address
        }

        func optionalAddress(_ o: JSONObject, _ name: String) throws(AgentError) -> Address? {
            o[name] == nil || o[name]!.isNull ? nil : try address(o, name)
        }

        func addresses(_ o: JSONObject, _ name: String) throws(AgentError) -> [Address] {
            try (o[name]?.arrayValue ?? []).enumerated().map { i, item throws(AgentError) in
                guard let text = item.stringValue, let a = try? Address(hex: text) else { throw AgentError("\(path).\(name)[\(i)]", "\(item) is not an address") }
                return a
            }
        }

        func list(_ o: JSONObject, _ name: String) throws(AgentError) -> [JSONObject] {
            guard let value = o[name] else { return [] }
            guard let items = value.arrayValue else { throw AgentError("\(path).\(name)", "must be a list") }
            return try items.enumerated().map { i, item throws(AgentError) in
                guard let object = item.objectValue else { throw AgentError("\(path).\(name)[\(i)]", "must be an object") }
                return object
            }
        }

        /// An int256 from a JSON integer or a decimal string ("-12" too), as its two's-complement word.
        func integer(_ value: JSON, _ name: String) throws(AgentError) -> UInt256 {
            let text = value.numberValue?.description ?? value.stringValue ?? ""
            guard let word = DeviceReading.parseSignedDecimal(text) else { throw AgentError("\(path).\(name)", "\(value) is not an integer") }
            return word
        }

        /// A uint256 from a JSON integer or a decimal string.
        func unsigned(_ value: JSON, _ name: String) throws(AgentError) -> UInt256 {
            guard let text = value.numberValue?.description ?? value.stringValue, let n = try? UInt256(decimal: text) else {
                throw AgentError("\(path).\(name)", "\(value) is not an unsigned integer")
            }
            return n
        }
    }
}
