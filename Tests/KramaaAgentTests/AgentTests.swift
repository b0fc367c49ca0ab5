import KramaaAgent
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import Testing

/// The agent's pure core: configuration checked with the field named, function calls encoded
/// as the Solidity ABI, rules edge-triggered per device.
@Suite struct AgentTests {
    static let sensor = Address(word: UInt256(0x5e))
    static let valves = Address(word: UInt256(0xa1))
    static let controller = Address(word: UInt256(0xc0))
    static let moisture = DeviceReading.kind(named: "soil.moisture")

    static func config(_ text: String) throws -> AgentConfiguration { try AgentConfiguration(parsing: Array(text.utf8)) }

    static let irrigation = """
        {"readings": [{"kind": "soil.moisture", "values": [41, -3], "interval": 0.5, "sendTo": ["\(controller)"]}],
         "rules": [{"name": "open", "when": {"reading": {"from": "\(sensor)", "kind": "soil.moisture", "below": 30}},
                    "do": [{"call": {"to": "\(valves)", "function": "open(uint8,int256)", "args": [1, "${value}"]}},
                           {"send": {"to": "\(controller)", "text": "dry: ${value}"}}]},
                   {"name": "close", "when": {"reading": {"kind": "soil.moisture", "above": 35}},
                    "do": [{"call": {"to": "\(valves)", "function": "close(uint8)", "args": [1]}}]}]}
        """

    static func reading(_ value: Int64, device: Address = sensor, sequence: UInt64) -> AgentEvent {
        .reading(DeviceReading(device: device, kind: moisture, value: value, observedAt: 1_800_000_000, sequence: sequence), signature: [7, 7])
    }

    @Test func aConfigurationParsesWithItsReadingsAndRules() throws {
        let c = try Self.config(Self.irrigation)
        #expect(c.readings.count == 1 && c.readings[0].values == [UInt256(41), UInt256(3).negated] && c.readings[0].interval == 0.5)
        #expect(c.readings[0].submit && c.readings[0].sendTo == [Self.controller] && c.readings[0].kind == Self.moisture)
        #expect(c.rules.map(\.name) == ["open", "close"] && c.rules[0].actions.count == 2)
    }

    @Test func badConfigurationsNameTheField() {
        let cases: [(String, String)] = [
            ("[]", "the configuration must be a JSON object"),
            ("{}", "the configuration has neither readings nor rules: the agent would do nothing"),
            (#"{"readings": [{"kind": "t"}]}"#, "readings[0]: give either values (a script) or file (a sensor's output)"),
            (#"{"readings": [{"kind": "t", "values": [1], "interval": 0}]}"#, "readings[0].interval: must be 0.05 to 86400 seconds"),
            (#"{"readings": [{"kind": "t", "values": ["x"]}]}"#, "readings[0].values[0]: \"x\" is not an integer"),
            (#"{"rules": [{"when": {"reading": {"kind": "t"}}, "do": [{"send": {"to": "0x01", "text": "a"}}]}]}"#,
             "rules[0].when.reading: give one of below or above"),
            (#"{"rules": [{"when": {"message": {}}, "do": []}]}"#, "rules[0].do: lists no action"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"call": {"to": "0x0000000000000000000000000000000000000001", "function": "open(uint8", "args": []}}]}]}"#,
             "rules[0].do[0].call: open(uint8 is not a function signature such as open(uint8,uint256)"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"call": {"to": "0x0000000000000000000000000000000000000001", "function": "open(uint8)", "args": []}}]}]}"#,
             "rules[0].do[0].call: open(uint8) takes 1 arguments, 0 given"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"call": {"to": "0x0000000000000000000000000000000000000001", "function": "f(uint7)", "args": [1]}}]}]}"#,
             "rules[0].do[0].call: type uint7 of f(uint7) is not supported (uint<N>, int<N>, address, bool, bytes<N>, bytes, string)"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"send": {"to": "valves", "text": "a"}}]}]}"#, "rules[0].do[0].send.to: valves is not an address"),
        ]
        for (text, message) in cases {
            #expect(throws: (any Error).self) { try Self.config(text) }
            do { _ = try Self.config(text) } catch { #expect("\(error)" == message, "\(text)") }
        }
    }

    @Test func functionCallsEncodeAsTheSolidityABI() throws {
        let call = try FunctionCall(signature: "set(address,int256,bool,bytes4,string)",
                                    arguments: [.string("\(Self.valves)"), .string("${value}"), .bool(true), .string("0xdeadbeef"), .string("hi")])
        let data = try call.calldata(["value": .string("-2")])
        #expect(Array(data.prefix(4)) == ABI.selector("set(address,int256,bool,bytes4,string)"))
        let expected = ABI.encode([.address(Self.valves), .uint(UInt256(2).negated), .bool(true),
                                   .fixedBytes(try Bytes32(hex: "0xdeadbeef" + String(repeating: "00", count: 28))), .string("hi")])
        #expect(Array(data.dropFirst(4)) == expected)
        #expect(throws: AgentError(".args[0]", "300 does not fit uint8")) { try FunctionCall(signature: "f(uint8)", arguments: [300]).calldata() }
        #expect(throws: AgentError(".args[0]", "-129 does not fit int8")) { try FunctionCall(signature: "f(int8)", arguments: [-129]).calldata() }
        #expect(try FunctionCall(signature: "f(int8)", arguments: [-128]).calldata().suffix(32) == UInt256(128).negated.bigEndianBytes[...])
        #expect(throws: AgentError(".args[0]", "${level} is not a value of this event (value)")) {
            try FunctionCall(signature: "f(uint256)", arguments: ["${level}"]).calldata(["value": 1])
        }
    }

    @Test func readingRulesFireOnceWhenTheyBecomeTrueAndAgainOnlyAfterTheyWereFalse() throws {
        var engine = RuleEngine(rules: try Self.config(Self.irrigation).rules)
        #expect(engine.observe(Self.reading(33, sequence: 1)).isEmpty, "neither dry nor wet")
        let dry = engine.observe(Self.reading(28, sequence: 2)).map { try? $0.get() }
        #expect(dry.count == 2)
        guard case .call(let rule, let to, let data, _, let function)?? = dry.first else { Issue.record("no call"); return }
        #expect(rule == "open" && to == Self.valves && function == "open(uint8,int256)")
        #expect(data == ABI.selector("open(uint8,int256)") + ABI.encode([.uint(.one), .uint(UInt256(28))]))
        #expect(dry.last == .send(rule: "open", to: Self.controller, contentType: "text/plain", payload: Array("dry: 28".utf8)))
        #expect(engine.observe(Self.reading(20, sequence: 3)).isEmpty, "still dry: the valve is open already")
        #expect(engine.observe(Self.reading(25, device: Self.controller, sequence: 1)).isEmpty, "another device: the rule names the sensor")
        let wet = engine.observe(Self.reading(36, sequence: 4)).compactMap { try? $0.get() }
        #expect(wet.count == 1 && { if case .call(let rule, _, _, _, _) = wet[0] { rule == "close" } else { false } }())
        #expect(engine.observe(Self.reading(29, sequence: 5)).count == 2, "dry again after it was wet: fires again")
    }

    @Test func messageRulesFireOnEachMatchingMessage() throws {
        let c = try Self.config(#"{"rules": [{"when": {"message": {"contentType": "text/plain"}}, "do": [{"send": {"to": "\#(Self.valves)", "text": "heard ${text} from ${from}"}}]}]}"#)
        var engine = RuleEngine(rules: c.rules)
        let actions = engine.observe(.message(from: Self.sensor, contentType: "text/plain", payload: Array("ping".utf8))).compactMap { try? $0.get() }
        #expect(actions == [.send(rule: "rules[0]", to: Self.valves, contentType: "text/plain", payload: Array("heard ping from \(Self.sensor.checksummed)".utf8))])
        #expect(engine.observe(.message(from: Self.sensor, contentType: "application/json", payload: [])).isEmpty)
        #expect(engine.observe(.message(from: Self.sensor, contentType: "text/plain", payload: [])).count == 1)
    }

    @Test func aReadingMessageRoundTripsAndBadOnesAreRefused() throws {
        let key = SigningKey(generating: .ed25519)
        let reading = DeviceReading(device: key.publicKey.address, kind: Self.moisture, value: -7, observedAt: 1_800_000_123, sequence: 9)
        let signature = reading.sign(with: key, chainId: 1337)
        let decoded = try ReadingMessage.decode(ReadingMessage.encode(reading, signature: signature))
        #expect(decoded.reading == reading && decoded.signature == signature)
        #expect(key.publicKey.isValidSignature(decoded.signature, digest: decoded.reading.digest(chainId: 1337)))
        #expect(throws: AgentError.self) { try ReadingMessage.decode(Array(#"{"device": "0x01"}"#.utf8)) }
    }

    @Test func aSubmitActionRelaysTheReadingThatFiredTheRuleWithItsDevicesSignature() throws {
        let c = try Self.config(#"{"rules": [{"when": {"reading": {"kind": "soil.moisture", "below": 30}}, "do": [{"submit": {}}]}]}"#)
        var engine = RuleEngine(rules: c.rules)
        let reading = DeviceReading(device: Self.sensor, kind: Self.moisture, value: 12, observedAt: 1_800_000_000, sequence: 4)
        let actions = engine.observe(.reading(reading, signature: [1, 2, 3])).compactMap { try? $0.get() }
        #expect(actions == [.call(rule: "rules[0]", to: DeviceReadings.address, data: reading.submitCallData(signature: [1, 2, 3]), value: .zero,
                                  function: "submitReading(address,bytes32,int256,uint64,uint64,bytes)")])
    }
}
