import KramaaAgent
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import Testing

/// Vouchers (the payer signs cumulative totals, the payee accepts each once and settles) and
/// chain event conditions: digests as contracts/PaymentChannel.vy computes them, configuration
/// errors naming the field, rules firing per log with its words as call arguments.
@Suite struct PaymentAndEventTests {
    static let channelContract = Address(word: UInt256(0xa1))
    static let payee = Address(word: UInt256(0xb0))
    static let orders = Address(word: UInt256(0x0d))
    static let machine = Address(word: UInt256(0x3ac))
    static let orderPlaced = "OrderPlaced(uint256,address,bytes32,uint256)"

    static func config(_ text: String) throws -> AgentConfiguration { try AgentConfiguration(parsing: Array(text.utf8)) }

    @Test func theVoucherDigestIsPaymentChannelsAndItsMessageRoundTrips() throws {
        let voucher = Voucher(contract: Self.channelContract, channel: UInt256(7), cumulative: try UInt256(parsing: "1000000000000000005"),
                              device: Self.payee)
        // The preimage written out by hand: "kramaa:voucher", chain 1337 (8 bytes), the contract,
        // channel 7 and cumulative 10^18 + 5 (32 bytes each); the digest computed with Python's eth_utils.
        let preimage = try Hex.decode("0x" + Hex.encode(Array("kramaa:voucher".utf8), prefix: false) + "0000000000000539"
                                      + "00000000000000000000000000000000000000a1" + String(repeating: "0", count: 62) + "07"
                                      + String(repeating: "0", count: 48) + "0de0b6b3a7640005")
        #expect(Keccak256.hash(preimage) == voucher.digest(chainId: 1337))
        #expect(voucher.digest(chainId: 1337) == (try Bytes32(hex: "0x5b2913d1756d77c68971157d73d60ac0eeafb8a7c01a6c1c37aab6b3a7abac93")))
        #expect(voucher.digest(chainId: 1338) != voucher.digest(chainId: 1337))

        let key = SigningKey(generating: .p256)
        let signed = Voucher(contract: Self.channelContract, channel: .one, cumulative: UInt256(3000), device: key.publicKey.address)
        let signature = key.signature(digest: signed.digest(chainId: 1337))
        let payload = signed.encode(signature: signature)
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.contains(#""channel":"1""#) && text.contains(#""cumulative":"3000""#))
        let decoded = try Voucher.decode(payload)
        #expect(decoded.voucher == signed && decoded.signature == signature)
        #expect(key.publicKey.isValidSignature(decoded.signature, digest: decoded.voucher.digest(chainId: 1337)))
        #expect(!SigningKey(generating: .p256).publicKey.isValidSignature(decoded.signature, digest: decoded.voucher.digest(chainId: 1337)))
        #expect(throws: AgentError.self) { try Voucher.decode(Array(#"{"contract": "0x01", "channel": "-1"}"#.utf8)) }
        #expect(signed.settleCallData(signature: [9, 9]) == ABI.selector("settle(uint256,uint256,bytes)") + ABI.encode([.uint(.one), .uint(UInt256(3000)), .bytes([9, 9])]))
    }

    @Test func theLedgerNeverSignsLowerAndRefusesReplaysAndVouchersOutOfOrder() throws {
        var ledger = VoucherLedger()
        let one = VoucherLedger.Channel(contract: Self.channelContract, channel: .one)
        let two = VoucherLedger.Channel(contract: Self.channelContract, channel: UInt256(2))
        #expect(try ledger.reserve(one, add: UInt256(1000)) == UInt256(1000))
        #expect(try ledger.reserve(one, add: UInt256(1000)) == UInt256(2000))
        #expect(try ledger.reserve(two, add: UInt256(5)) == UInt256(5), "each channel has its own total")
        _ = try ledger.reserve(one, add: UInt256.one << 255)
        #expect(throws: AgentError.self, "past 2^256") { try ledger.reserve(one, add: UInt256.one << 255) }
        #expect(ledger.signed[one] == (UInt256.one << 255) &+ UInt256(2000), "a refused reservation changes nothing")

        func voucher(_ cumulative: UInt64, channel: UInt256 = .one) -> Voucher {
            Voucher(contract: Self.channelContract, channel: channel, cumulative: UInt256(cumulative), device: Self.payee)
        }
        try ledger.accept(voucher(1000))
        #expect(throws: AgentError("voucher", "cumulative 1000 of channel 1 is not above 1000, the last accepted: a replay or out of order")) {
            try ledger.accept(voucher(1000))
        }
        try ledger.accept(voucher(3000))
        #expect(throws: AgentError.self, "an older voucher after a newer one") { try ledger.accept(voucher(2000)) }
        try ledger.accept(voucher(2000, channel: UInt256(2)))
        #expect(ledger.accepted[one] == UInt256(3000))

        let restored = try VoucherLedger(parsing: ledger.serialized())
        #expect(restored == ledger, "the file keeps every total across restarts")
        #expect(throws: AgentError("vouchers.signed", "an entry is not {contract, channel, cumulative}")) {
            try VoucherLedger(parsing: Array(#"{"signed": [{"contract": "0x01"}]}"#.utf8))
        }
    }

    @Test func voucherRulesParseAndSettleTheVoucherThatFiredThem() throws {
        let payer = Address(word: UInt256(0xfa))
        let c = try Self.config("""
            {"rules": [{"name": "pay", "when": {"message": {}},
                        "do": [{"voucher": {"contract": "\(Self.channelContract)", "channel": "1", "add": 1000000000000000, "to": "\(Self.payee)"}}]},
                       {"name": "settle", "when": {"voucher": {"from": "\(payer)", "contract": "\(Self.channelContract)"}},
                        "do": [{"settle": {}}, {"send": {"to": "\(payer)", "text": "${cumulative} on ${channel} from ${device}"}}]}]}
            """)
        #expect(c.rules[0].actions == [.voucher(contract: Self.channelContract, channel: .one, add: UInt256(1_000_000_000_000_000), to: Self.payee)])
        #expect(c.rules[1].when == .voucher(from: payer, contract: Self.channelContract) && c.rules[1].actions.first == .settle)

        var engine = RuleEngine(rules: c.rules)
        #expect(engine.observe(.message(from: payer, contentType: "text/plain", payload: [])).compactMap { try? $0.get() }
                == [.voucher(rule: "pay", contract: Self.channelContract, channel: .one, add: UInt256(1_000_000_000_000_000), to: Self.payee)])
        let voucher = Voucher(contract: Self.channelContract, channel: .one, cumulative: UInt256(2000), device: payer)
        let actions = engine.observe(.voucher(voucher, signature: [4, 2])).compactMap { try? $0.get() }
        #expect(actions == [.call(rule: "settle", to: Self.channelContract, data: voucher.settleCallData(signature: [4, 2]), value: .zero,
                                  function: "settle(uint256,uint256,bytes)"),
                            .send(rule: "settle", to: payer, contentType: "text/plain", payload: Array("2000 on 1 from \(payer.checksummed)".utf8))])
        var other = voucher
        other.device = Self.machine
        #expect(engine.observe(.voucher(other, signature: [])).isEmpty, "the rule names the paying device")
        other = voucher
        other.contract = Self.orders
        #expect(engine.observe(.voucher(other, signature: [])).isEmpty, "the rule names the channel contract")
    }

    @Test func badVoucherAndEventRulesNameTheField() {
        let to = "0x00000000000000000000000000000000000000b0"
        let cases: [(String, String)] = [
            (#"{"rules": [{"when": {"message": {}}, "do": [{"settle": {}}]}]}"#,
             "rules[0].do[0]: settle settles the voucher that fired the rule: it needs a voucher condition"),
            (#"{"rules": [{"when": {"voucher": {}}, "do": [{"submit": {}}]}]}"#,
             "rules[0].do[0]: submit sends the reading that fired the rule: it needs a reading condition"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"voucher": {"contract": "\#(to)", "channel": 1, "add": "-5", "to": "\#(to)"}}]}]}"#,
             "rules[0].do[0].voucher.add: \"-5\" is not an unsigned integer"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"voucher": {"contract": "\#(to)", "channel": 1, "add": 0, "to": "\#(to)"}}]}]}"#,
             "rules[0].do[0].voucher.add: must be above zero"),
            (#"{"rules": [{"when": {"message": {}}, "do": [{"voucher": {"contract": "\#(to)", "add": 1, "to": "\#(to)"}}]}]}"#,
             "rules[0].do[0].voucher.channel: null is not an unsigned integer"),
            (#"{"rules": [{"when": {"event": {"contract": "\#(to)"}}, "do": [{"send": {"to": "\#(to)", "text": "a"}}]}]}"#,
             "rules[0].when.event.signature: is required: a non-empty string"),
            (#"{"rules": [{"when": {"event": {"contract": "\#(to)", "signature": "E(uint256)", "topics": {"4": "0x01"}}}, "do": [{"send": {"to": "\#(to)", "text": "a"}}]}]}"#,
             "rules[0].when.event.topics.4: a topic position is 1, 2 or 3 (0 is the event's signature)"),
            (#"{"rules": [{"when": {"event": {"contract": "\#(to)", "signature": "E(uint256)", "topics": {"1": "0x0102"}}}, "do": [{"send": {"to": "\#(to)", "text": "a"}}]}]}"#,
             "rules[0].when.event.topics.1: \"0x0102\" is not an address, a 32-byte 0x-hex word or an unsigned integer"),
            (#"{"rules": [{"when": {"event": {"contract": "\#(to)", "signature": "E(uint7)"}}, "do": [{"send": {"to": "\#(to)", "text": "a"}}]}]}"#,
             "rules[0].when.event.signature: type uint7 of E(uint7) is not supported (uint<N>, int<N>, address, bool, bytes<N>, bytes, string)"),
            (#"{"rules": [{"when": {"block": {}}, "do": []}]}"#,
             "rules[0].when: must be {\"reading\": …}, {\"message\": …}, {\"voucher\": …} or {\"event\": …}"),
        ]
        for (text, message) in cases {
            #expect(throws: (any Error).self) { try Self.config(text) }
            do { _ = try Self.config(text) } catch { #expect("\(error)" == message, "\(text)") }
        }
    }

    static func orderLog(order: UInt64, machine: Address, item: Bytes32, price: UInt64, index: UInt64 = 0) -> ChainLog {
        ChainLog(address: orders, topics: [Keccak256.hash(Array(orderPlaced.utf8)), UInt256(order).bytes32, UInt256(machine).bytes32, item],
                 data: UInt256(price).bigEndianBytes, blockNumber: 42, logIndex: index, transactionHash: Keccak256.hash([1]))
    }

    @Test func eventRulesFireOnEachMatchingLogWithItsWordsAsArguments() throws {
        let item = DeviceReading.kind(named: "pump seal")
        let c = try Self.config("""
            {"rules": [{"name": "accept", "when": {"event": {"contract": "\(Self.orders)", "signature": "\(Self.orderPlaced)", "topics": {"2": "\(Self.machine)"}}},
                        "do": [{"call": {"to": "\(Self.orders)", "function": "accept(uint256,uint256)", "args": ["${topic1}", "${data0}"]}},
                               {"call": {"to": "\(Self.payee)", "function": "note(address,bytes32,uint64)", "args": ["${topic2}", "${topic3}", "${block}"]}}]}]}
            """)
        guard case .event(let filter) = c.rules[0].when else { Issue.record("not an event condition"); return }
        #expect(filter.topic0 == (try Bytes32(hex: "0x0e0c725ddcbcedfcd3a56347d0b6c7e4cb947a9711be2cb9e6a7e3ac59a9bf3d")), "keccak256 of the signature")
        #expect(filter.topics == [2: UInt256(Self.machine).bytes32], "an address is compared as its left-padded word")
        #expect(filter.query(from: 5, to: 9)["topics"] == [.string(filter.topic0.description)] && filter.query(from: 5, to: 9)["fromBlock"] == "0x5")

        var engine = RuleEngine(rules: c.rules)
        let log = Self.orderLog(order: 3, machine: Self.machine, item: item, price: 250)
        let actions = engine.observe(.log(log)).map { try? $0.get() }
        #expect(actions == [
            .call(rule: "accept", to: Self.orders, data: ABI.selector("accept(uint256,uint256)") + ABI.encode([.uint(UInt256(3)), .uint(UInt256(250))]),
                  value: .zero, function: "accept(uint256,uint256)"),
            .call(rule: "accept", to: Self.payee, data: ABI.selector("note(address,bytes32,uint64)") + ABI.encode([.address(Self.machine), .fixedBytes(item), .uint(UInt256(42))]),
                  value: .zero, function: "note(address,bytes32,uint64)"),
        ])
        #expect(engine.observe(.log(Self.orderLog(order: 4, machine: Self.machine, item: item, price: 9, index: 1))).count == 2, "each log fires, not only the first")
        #expect(engine.observe(.log(Self.orderLog(order: 5, machine: Self.payee, item: item, price: 9))).isEmpty, "another machine: topic 2 differs")
        var elsewhere = log
        elsewhere.address = Self.payee
        #expect(engine.observe(.log(elsewhere)).isEmpty, "another contract")
        elsewhere = log
        elsewhere.topics[0] = Keccak256.hash(Array("OrderAccepted(uint256,uint256)".utf8))
        #expect(engine.observe(.log(elsewhere)).isEmpty, "another event")
    }

    @Test func aLogDecodesFromItsJSONRPCForm() throws {
        let log = Self.orderLog(order: 1, machine: Self.machine, item: Keccak256.hash([2]), price: 7, index: 3)
        let rpc: JSON = ["address": .string(Self.orders.lowercased), "topics": .array(log.topics.map { .string($0.description) }),
                         "data": .data(log.data), "blockNumber": "0x2a", "logIndex": "0x3", "transactionHash": .string(log.transactionHash.description)]
        #expect(try ChainLog(rpc: rpc) == log)
        #expect(log.values["topic1"] == .string(UInt256.one.bytes32.description) && log.values["data0"] == .string(UInt256(7).bytes32.description))
        #expect(log.values["block"] == 42 && log.values["contract"] == .string(Self.orders.checksummed) && log.values["topic0"] == nil)
        #expect(throws: AgentError.self) { try ChainLog(rpc: ["address": "0x01"]) }
        // A word holds an address only when its first 12 bytes are zero.
        let word = "0x" + String(repeating: "11", count: 32)
        #expect(throws: AgentError(".args[0]", "\"\(word)\" is not an address (or a 32-byte word holding one)")) {
            try FunctionCall(signature: "f(address)", arguments: [.string(word)]).calldata()
        }
    }
}
