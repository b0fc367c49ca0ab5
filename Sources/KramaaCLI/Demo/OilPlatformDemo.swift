import Foundation
import KramaaAgent
import KramaaContracts
import KramaaDeviceMessaging
import KramaaJSON
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// Scenario 2, oil platform: a met service's weather station signs its wind readings; the
/// platform operator's pump and crane controllers receive them directly (MQTT, no broker of
/// either company in between), check the station's signature against the device registry, and
/// adjust their operation by the agreed rules: above 25 m/s the pumps drop to 40 % and the crane
/// stows; below 20 m/s both return to normal. Each adjustment is a device transaction recorded in
/// the equipment register with the reading that caused it. Refused on the way: a reading the
/// station did not sign (on chain and by the pump's agent), and a leaked crane key trying to
/// move the crane's coin.
struct OilPlatformDemo {
    let stage: DemoStage
    static let windKind = "wind.speed"
    static let winds: [Int] = [14, 18, 27, 31, 22, 16]

    func run() async throws {
        let n = stage.narrator
        n.section("the parties, their devices and their agreement")
        let operatorOrg = try stage.organization("platform operator", account: 1)
        let met = try stage.organization("met service", account: 2)
        let station = try stage.device("weather station", of: met, type: .p256, model: "anemometer WS-7")
        let pump = try stage.device("pump controller", of: operatorOrg, type: .ed25519, model: "export pump PLC")
        let crane = try stage.device("crane controller", of: operatorOrg, type: .p256, model: "deck crane PLC")
        try stage.allowMessages(from: met, to: operatorOrg)
        let equipment = try stage.deploy(.equipment, [.array([.address(pump.address), .address(crane.address)])], by: operatorOrg,
                                         "the platform's equipment register")
        for controller in [pump, crane] { try stage.policy(controller, calls: [(equipment, DemoSettings.adjust)]) }

        n.section("the devices run on their own")
        let pumpRate = DemoSettings.name("pump.rate"), craneMode = DemoSettings.name("crane.mode")
        try await stage.startAgent(pump, DemoSettings.agent(station: station.address, kind: Self.windKind, equipment: equipment, [
            .above(25, "storm: pumps to 40 %", set: pumpRate, to: 40), .below(20, "calm: pumps to 100 %", set: pumpRate, to: 100)]),
            sponsor: operatorOrg)
        try await stage.startAgent(crane, DemoSettings.agent(station: station.address, kind: Self.windKind, equipment: equipment, [
            .above(25, "storm: crane stowed", set: craneMode, to: 0), .below(20, "calm: crane operating", set: craneMode, to: 1)]),
            sponsor: operatorOrg)
        try await stage.waitForAgents([pump, crane])
        try await stage.startAgent(station, ["readings": [["kind": .string(Self.windKind), "values": .array(Self.winds.map { .number(JSONNumber($0)) }),
                                                           "interval": 1.5, "submit": true,
                                                           "sendTo": [.string(pump.address.description), .string(crane.address.description)]]]],
                                   sponsor: met)
        // Calm (14): both to normal; storm (27): reduce; calm again (16): normal. Three each.
        try await stage.waitUntil("the six adjustments", timeout: 90) { try stage.word(equipment, "adjustments()") >= 6 }
        try await stage.waitForActions(6, by: [pump, crane])
        try await stage.waitUntil("the station's last reading on chain", timeout: 30) {
            try stage.word(DeviceReadings.address, "latestReading(address,bytes32)", [.address(station.address), .fixedBytes(DeviceReading.kind(named: Self.windKind))])
                == UInt256(UInt64(Self.winds.last!))
        }

        n.section("what the chain holds")
        let rate = try stage.word(equipment, "levelOf(bytes32)", [.fixedBytes(pumpRate)])
        let mode = try stage.word(equipment, "levelOf(bytes32)", [.fixedBytes(craneMode)])
        let pumpChanges = try stage.word(equipment, "adjustmentsOf(bytes32)", [.fixedBytes(pumpRate)])
        let craneChanges = try stage.word(equipment, "adjustmentsOf(bytes32)", [.fixedBytes(craneMode)])
        n.say("equipment register", "pump rate \(rate) % after \(pumpChanges) adjustments; crane mode \(mode == 1 ? "operating" : "stowed") after \(craneChanges)",
              ["pumpRate": .string(rate.description), "craneMode": .string(mode.description),
               "pumpAdjustments": .string(pumpChanges.description), "craneAdjustments": .string(craneChanges.description)])
        guard rate == 100, mode == 1, pumpChanges == 3, craneChanges == 3 else {
            throw DemoFailure("the equipment did not follow the wind: pump \(rate) % (\(pumpChanges) changes), crane \(mode) (\(craneChanges) changes)")
        }

        n.section("refused on the way")
        try await refuseForgedReading(station: station, pump: pump, met: met)
        try stage.fund(crane.address, UInt256(UInt64(10_000_000_000_000_000)), from: operatorOrg, "tops up the crane controller's account (0.01)")
        try stage.expectRefusal("leaked crane key", "sends the crane's coin to an outside account, unsponsored",
                                mustMention: "policy requires its fees to be sponsored") {
            _ = try stage.contracts.send(met.account, [], signer: try ContractClient.Signer(crane.key), value: UInt256(UInt64(1_000_000_000_000_000)))
        }
        guard try stage.word(equipment, "adjustments()") == 6 else { throw DemoFailure("a refused step changed the equipment") }
    }

    /// A storm reading of the station signed by another key: the readings contract refuses it,
    /// and so does the pump's agent when it arrives over MQTT (the envelope really is the
    /// station's: only the reading's signature is wrong, as from a tampered gateway). Nothing moves.
    private func refuseForgedReading(station: DemoDevice, pump: DemoDevice, met: DemoParty) async throws {
        let impostor = SigningKey(generating: .p256)
        let reading = DeviceReading(device: station.address, kind: DeviceReading.kind(named: Self.windKind), valueWord: UInt256(45),
                                    observedAt: UInt64(Date().timeIntervalSince1970), sequence: 1 << 40)
        let forged = reading.sign(with: impostor, chainId: stage.chainId)
        try stage.expectRefusal("met service", "submits a 45 m/s reading signed by another key", mustMention: "signature") {
            _ = try stage.contracts.send(DeviceReadings.address, reading.submitCallData(signature: forged), signer: .account(met.admin))
        }
        let before = stage.narrator.steps.count
        try await stage.sendOnce(from: station, ReadingMessage.encode(reading, signature: forged), contentType: ReadingMessage.contentType, to: pump)
        try await stage.waitUntil("the pump's agent to refuse the forged reading", timeout: 30) {
            stage.narrator.steps[before...].contains { $0["actor"]?.stringValue == pump.name && $0["agent"]?.stringValue == "refused" }
        }
    }
}

/// Equipment settings and the agent rules that change them.
enum DemoSettings {
    /// A rule: when a reading crosses `above` or `below`, set `setting` to `level`.
    struct Rule {
        let name: String
        let above: Int?
        let below: Int?
        let setting: Bytes32
        let level: Int
        /// Further actions of the rule (docs/AGENT.md), after the adjustment.
        var also: [JSON] = []
        static func above(_ threshold: Int, _ name: String, set setting: Bytes32, to level: Int) -> Rule {
            Rule(name: name, above: threshold, below: nil, setting: setting, level: level)
        }
        static func below(_ threshold: Int, _ name: String, set setting: Bytes32, to level: Int) -> Rule {
            Rule(name: name, above: nil, below: threshold, setting: setting, level: level)
        }
    }

    /// A setting's name hash in the equipment register.
    static func name(_ text: String) -> Bytes32 { Keccak256.hash(Array(text.utf8)) }

    /// An agent configuration: each rule calls the equipment register's `adjust` when `kind` from
    /// `station` crosses its threshold, naming the reading (its device and sequence) as the cause.
    static func agent(station: Address, kind: String, equipment: Address, _ rules: [Rule]) -> JSON {
        .object(["rules": .array(rules.map { rule in
            var when: JSONObject = ["from": .string(station.description), "kind": .string(kind)]
            if let above = rule.above { when["above"] = .number(JSONNumber(above)) }
            if let below = rule.below { when["below"] = .number(JSONNumber(below)) }
            return ["name": .string(rule.name), "when": ["reading": .object(when)],
                    "do": .array([["call": ["to": .string(equipment.description), "function": .string(adjust),
                                            "args": [.string(rule.setting.description), .number(JSONNumber(rule.level)), "${device}", "${sequence}"]]]]
                                 + rule.also)]
        })])
    }

    /// The equipment register's (contracts/Equipment.vy) one write a controller makes.
    static let adjust = "adjust(bytes32,int256,address,uint64)"
}
