import Foundation
import KramaaContracts
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// Scenario 3, spare part: a milling machine measures its spindle's wear; when the wear crosses
/// 80 % its agent orders a new spindle from its supplier under their agreement (a ServiceOrder
/// contract: catalogue, prices, windows), paying the price into escrow from the machine's own
/// account within its spending policy. The supplier's order desk (a device with its own agent)
/// sees the order on chain and accepts it, naming the spindle from stock it will deliver. The
/// supplier ships it (EPCIS shipping), the factory's dock receives it (EPCIS receiving: custody
/// moves to the factory), and the escrow pays the supplier because the chain shows the custody.
/// Then the failure paths: a second order the supplier accepts but never delivers is refunded
/// after the delivery window (not before), and a third order is over the machine's spending
/// limit, refused by the protocol before it runs.
struct SparePartDemo {
    let stage: DemoStage
    static let wearKind = "spindle.wear"
    static let price = UInt256(UInt64(500_000_000_000_000_000))  // 0.5
    static let deliveryWindow: UInt64 = 20

    func run() async throws {
        let n = stage.narrator
        n.section("the parties, their devices and their supply agreement")
        let factory = try stage.organization("machine works", account: 3)
        let supplier = try stage.organization("spindle supplier", account: 4)
        let machine = try stage.device("milling machine", of: factory, type: .p256, model: "5-axis mill with spindle wear sensor")
        let desk = try stage.device("order desk", of: supplier, type: .ed25519, model: "supplier order gateway")
        let serial = "SP" + stage.runLabel.uppercased()
        let spindles = [try stage.mint("urn:epc:id:sgtin:4012345.011111.\(serial)A", by: supplier, "spindle A"),
                        try stage.mint("urn:epc:id:sgtin:4012345.011111.\(serial)B", by: supplier, "spindle B")]
        let item = DemoSettings.name("spindle SP-200")
        let agreement = try stage.deploy(.serviceOrder, [.address(supplier.account), .address(desk.address), .array([.fixedBytes(item)]),
                                                         .array([.uint(Self.price)]), .uint(UInt256(60)), .uint(UInt256(Self.deliveryWindow))],
                                         by: factory, "the supply agreement: spindle SP-200 at 0.5, accept within 60 s, deliver within \(Self.deliveryWindow) s")
        try stage.send(factory.name, "allows the milling machine to order under the agreement", to: agreement,
                       ABI.selector("setMachine(address,bool)") + ABI.encode([.address(machine.address), .bool(true)]), signer: .account(factory.admin))
        try stage.fund(machine.address, Self.price &* UInt256(3), from: factory, "funds the milling machine's account (1.5)")
        try stage.policy(machine, calls: [(agreement, "order(bytes32)"), (DeviceReadings.address, DeviceReadings.Method.submit.signature)],
                         nativePerPeriod: Self.price &* UInt256(2) &+ Self.price / UInt256(UInt64(2)), period: 86_400)
        try stage.policy(desk, calls: [(agreement, "accept(uint256,uint256)")])

        n.section("the machine and the supplier's desk run on their own")
        let placed = "OrderPlaced(uint256,address,bytes32,uint256)"
        try await stage.startAgent(desk, ["rules": .array(spindles.enumerated().map { i, spindle in
            ["name": .string("accept order \(i + 1) with spindle \(i == 0 ? "A" : "B")"),
             "when": ["event": ["contract": .string(agreement.description), "signature": .string(placed),
                                "topics": ["1": .string(Bytes32(UInt256(UInt64(i + 1))).description)]]],
             "do": [["call": ["to": .string(agreement.description), "function": "accept(uint256,uint256)",
                              "args": ["${topic1}", .string(spindle.description)]]]]]
        })], sponsor: supplier)
        let wearFile = stage.directory.appendingPathComponent("spindle-wear.txt")
        try "".write(to: wearFile, atomically: true, encoding: .utf8)
        try await stage.startAgent(machine, [
            "readings": [["kind": .string(Self.wearKind), "file": .string(wearFile.path), "interval": 0.5, "submit": true]],
            "rules": [["name": "order a spindle when worn", "when": ["reading": ["from": .string(machine.address.description),
                                                                                 "kind": .string(Self.wearKind), "above": 80]],
                       "do": [["call": ["to": .string(agreement.description), "function": "order(bytes32)", "args": [.string(item.description)],
                                        "value": .string(Self.price.description)]]]]]], sponsor: factory)
        try await stage.waitForAgents([desk, machine], watching: [desk])
        let wear = WearSensor(file: wearFile, stage: stage, machine: machine)

        try await wear.report([62, 71, 84])
        try await stage.waitUntil("the order desk to accept order 1", timeout: 60) { try order(agreement, 1).state == 2 }
        n.section("delivery of order 1")
        let epcA = "urn:epc:id:sgtin:4012345.011111.\(serial)A"
        try stage.capture("shipping", disposition: "in_transit", epc: epcA, at: "urn:epc:id:sgln:4012345.00001.0", by: supplier,
                          "ships spindle A (EPCIS shipping)")
        try stage.expectRefusal(factory.name, "claims the escrow before the spindle arrived", mustMention: "not delivered") {
            _ = try stage.contracts.send(agreement, ABI.selector("release(uint256)") + ABI.encode([.uint(UInt256(1))]), signer: .account(factory.admin))
        }
        try stage.capture("receiving", disposition: "in_progress", epc: epcA, at: "urn:epc:id:sgln:4098765.00002.0", by: factory,
                          "receives spindle A at its dock (EPCIS receiving: custody to the factory)")
        let released = try stage.send(factory.name, "releases the escrow: the chain shows spindle A in the factory's custody", to: agreement,
                                      ABI.selector("release(uint256)") + ABI.encode([.uint(UInt256(1))]), signer: .account(factory.admin))
        let paid = try stage.received(supplier.account, in: released)
        n.say(supplier.name, "is paid \(paid) wei for order 1", receipt: released, ["paid": .string(paid.description)])
        guard paid == Self.price, try order(agreement, 1).state == 3 else { throw DemoFailure("order 1 was not paid: \(paid) wei") }

        n.section("a second spindle the supplier never delivers")
        try await wear.report([5, 44, 86])
        try await stage.waitUntil("the order desk to accept order 2", timeout: 60) { try order(agreement, 2).state == 2 }
        let refund = ABI.selector("refund(uint256)") + ABI.encode([.uint(UInt256(2))])
        try stage.expectRefusal(factory.name, "asks for its money back at once", mustMention: "the delivery window is still open") {
            _ = try stage.contracts.send(agreement, refund, signer: .account(factory.admin))
        }
        let acceptedAt = try order(agreement, 2).acceptedAt
        n.say(factory.name, "waits for the delivery window (\(Self.deliveryWindow) s from acceptance) to pass")
        try await stage.waitUntil("the delivery window of order 2 to pass", timeout: Double(Self.deliveryWindow) + 60) {
            // The next block's time is the wall clock's (blocks are made when transactions come).
            UInt64(Date().timeIntervalSince1970) > acceptedAt + Self.deliveryWindow + 1
        }
        let refunded = try stage.send(factory.name, "is refunded for order 2 (anyone may call refund once the window is over)", to: agreement, refund,
                                      signer: .account(factory.admin))
        guard try order(agreement, 2).state == 4 else { throw DemoFailure("order 2 was not refunded: \(refunded)") }

        n.section("a third order, over the machine's spending limit")
        let before = stage.narrator.steps.count
        try await wear.report([9, 91])
        try await stage.waitUntil("the machine's third order to be refused", timeout: 60) {
            stage.narrator.steps[before...].contains { $0["actor"]?.stringValue == machine.name && $0["agent"]?.stringValue == "action-failed" }
        }
        guard let reason = stage.narrator.steps[before...].last(where: { $0["agent"]?.stringValue == "action-failed" })?["refused"]?.stringValue,
              reason.contains("policy allows") else { throw DemoFailure("the third order was refused for another reason than the spending limit") }
        guard try stage.word(agreement, "orderCount()") == 2 else { throw DemoFailure("a third order was placed") }
    }

    struct Order { let state: UInt256; let acceptedAt: UInt64 }

    /// `orders(id)`: machine, item, price, placedAt, acceptedAt, asset, state.
    private func order(_ agreement: Address, _ id: UInt64) throws -> Order {
        let out = try stage.read(agreement, "orders(uint256)", [.uint(UInt256(id))])
        guard out.count >= 7 * 32 else { throw DemoFailure("orders(\(id)) answered \(out.count) bytes") }
        return Order(state: try UInt256(bigEndianBytes: out[192..<224]), acceptedAt: UInt64(try UInt256(bigEndianBytes: out[128..<160]).low64))
    }
}

/// The machine's wear sensor: the demo writes its values to the file the machine's agent reads
/// (as a sensor process would), one after another once the agent has signed the previous one.
struct WearSensor {
    let file: URL
    let stage: DemoStage
    let machine: DemoDevice

    func report(_ values: [Int]) async throws {
        for value in values {
            let before = stage.narrator.steps.count
            try "\(value)\n".write(to: file, atomically: true, encoding: .utf8)
            try await stage.waitUntil("the machine to submit its wear reading \(value)", timeout: 30) {
                stage.narrator.steps[before...].contains { $0["actor"]?.stringValue == machine.name && $0["agent"]?.stringValue == "submitted"
                    && $0["value"]?.stringValue == String(value) }
            }
        }
    }
}
