import Foundation
import KramaaAgent
import KramaaContracts
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// Scenario 1, irrigation: a farm's soil sensor sends its signed moisture readings straight to
/// the farm's irrigation controller (MQTT, no broker of anyone's in between). The controller
/// checks the sensor's signature and follows the agreed rule: below 30 % it opens valve 1 (a
/// device transaction into the farm's valve register, naming the reading) and pays the water
/// utility for the irrigation with a voucher on a payment channel the farm funded; above 35 % it
/// closes the valve. The utility's meter gateway checks each voucher and settles it: paid per use,
/// with no invoice and no human. Refused on the way: a reading the sensor did not sign, a replayed
/// voucher, and a voucher above the channel's deposit.
struct IrrigationDemo {
    let stage: DemoStage
    static let moistureKind = "soil.moisture"
    static let moisture: [Int] = [33, 28, 37, 26, 38]
    /// One irrigation: 500 litres at 0.0001 a litre.
    static let perIrrigation = UInt256(UInt64(50_000_000_000_000_000))
    static let deposit = UInt256(UInt64(200_000_000_000_000_000))

    func run() async throws {
        let n = stage.narrator
        n.section("the farm, the water utility and their agreement")
        let farm = try stage.organization("farm", account: 7)
        let utility = try stage.organization("water utility", account: 8)
        let sensor = try stage.device("soil sensor", of: farm, type: .p256, model: "capacitive soil probe")
        let controller = try stage.device("irrigation controller", of: farm, type: .ed25519, model: "valve controller")
        let meter = try stage.device("meter gateway", of: utility, type: .p256, model: "water meter gateway")
        try stage.allowMessages(from: farm, to: utility)
        let valves = try stage.deploy(.equipment, [.array([.address(controller.address)])], by: farm, "the farm's valve register")
        let channels = try stage.deploy(.paymentChannel, [.uint(UInt256(3600))], by: utility, "the utility's payment channels (1 h dispute window)")
        let expiry = UInt256(UInt64(Date().timeIntervalSince1970) + 86_400)
        let opened = try stage.send(farm.name, "opens payment channel 1 to the meter gateway with 0.2, vouchers signed by the irrigation controller",
                                    to: channels, ABI.selector("open(address,address,uint256)")
                                        + ABI.encode([.address(meter.address), .address(controller.address), .uint(expiry)]),
                                    signer: .account(farm.admin), value: Self.deposit)
        guard try channel(channels).deposit == Self.deposit else { throw DemoFailure("channel 1 was not opened: \(opened)") }
        try stage.policy(controller, calls: [(valves, DemoSettings.adjust)])
        try stage.policy(meter, calls: [(channels, Voucher.settleFunction)])

        n.section("the devices run on their own")
        let valve = DemoSettings.name("valve.1")
        // The opening also pays for the water it lets through.
        var open = DemoSettings.Rule.below(30, "dry: open valve 1 and pay for the water", set: valve, to: 1)
        open.also = [["voucher": ["contract": .string(channels.description), "channel": 1, "add": .string(Self.perIrrigation.description),
                                  "to": .string(meter.address.description)]]]
        let controllerRules = DemoSettings.agent(station: sensor.address, kind: Self.moistureKind, equipment: valves,
                                                 [open, .above(35, "wet: close valve 1", set: valve, to: 0)])
        try await stage.startAgent(meter, ["rules": [["name": "settle the farm's vouchers",
            "when": ["voucher": ["from": .string(controller.address.description), "contract": .string(channels.description)]], "do": [["settle": [:]]]]]],
                                   sponsor: utility)
        try await stage.startAgent(controller, controllerRules, sponsor: farm)
        try await stage.waitForAgents([meter, controller])
        try await stage.startAgent(sensor, ["readings": [["kind": .string(Self.moistureKind), "values": .array(Self.moisture.map { .number(JSONNumber($0)) }),
                                                          "interval": 1.5, "submit": true, "sendTo": [.string(controller.address.description)]]]],
                                   sponsor: farm)
        // 28: open and pay; 37: close; 26: open and pay; 38: close.
        let paidInFull = Self.perIrrigation &* UInt256(2)
        try await stage.waitUntil("two irrigations, each paid", timeout: 90) {
            try stage.word(valves, "adjustments()") >= 4 && channel(channels).paid >= paidInFull
        }
        try await stage.waitForActions(6, by: [controller, meter])

        n.section("what the chain holds")
        let level = try stage.word(valves, "levelOf(bytes32)", [.fixedBytes(valve)])
        let changes = try stage.word(valves, "adjustmentsOf(bytes32)", [.fixedBytes(valve)])
        let paid = try channel(channels).paid, gateway = try stage.balance(meter.address)
        n.say("valve register", "valve 1 \(level == 0 ? "closed" : "open") after \(changes) changes", ["valve": .string(level.description), "changes": .string(changes.description)])
        n.say("payment channel 1", "paid \(paid) wei to the meter gateway for two irrigations; the gateway holds \(gateway) wei",
              ["channelPaid": .string(paid.description), "meterBalance": .string(gateway.description)])
        guard level == 0, changes == 4, paid == paidInFull, gateway == paidInFull else {
            throw DemoFailure("valve \(level) after \(changes) changes, \(paid) paid on the channel, \(gateway) at the gateway")
        }

        n.section("refused on the way")
        // A dry reading the sensor did not sign, sent from the sensor's own connection.
        let impostor = SigningKey(generating: .p256)
        let forgedReading = DeviceReading(device: sensor.address, kind: DeviceReading.kind(named: Self.moistureKind), valueWord: UInt256(5),
                                          observedAt: UInt64(Date().timeIntervalSince1970), sequence: 1 << 40)
        var mark = n.steps.count
        try await stage.sendOnce(from: sensor, ReadingMessage.encode(forgedReading, signature: forgedReading.sign(with: impostor, chainId: stage.chainId)),
                                 contentType: ReadingMessage.contentType, to: controller)
        try await stage.waitForAgent(controller, "refused", after: mark, "the controller to refuse the forged reading")
        // The first voucher again, and a voucher for more than the deposit, both truly the controller's.
        for (cumulative, event, what) in [(Self.perIrrigation, "refused", "the meter gateway to refuse the replayed voucher"),
                                          (Self.deposit &+ Self.perIrrigation, "action-failed", "the channel to refuse the voucher above the deposit")] {
            let voucher = Voucher(contract: channels, channel: UInt256(1), cumulative: cumulative, device: controller.address)
            mark = n.steps.count
            try await stage.sendOnce(from: controller, voucher.encode(signature: controller.key.signature(digest: voucher.digest(chainId: stage.chainId))),
                                     contentType: Voucher.contentType, to: meter)
            try await stage.waitForAgent(meter, event, after: mark, what)
        }
        guard try stage.word(valves, "adjustments()") == 4, try channel(channels).paid == paidInFull, try stage.balance(meter.address) == paidInFull else {
            throw DemoFailure("a refused step moved the valve or money")
        }
    }

    struct Channel { let deposit: UInt256; let paid: UInt256 }

    /// `channels(1)`: payer, payee, device, deposit, paid, expiry, closesAt, finished.
    private func channel(_ channels: Address) throws -> Channel {
        let out = try stage.read(channels, "channels(uint256)", [.uint(UInt256(1))])
        guard out.count >= 8 * 32 else { throw DemoFailure("channels(1) answered \(out.count) bytes") }
        return Channel(deposit: try UInt256(bigEndianBytes: out[96..<128]), paid: try UInt256(bigEndianBytes: out[128..<160]))
    }
}
