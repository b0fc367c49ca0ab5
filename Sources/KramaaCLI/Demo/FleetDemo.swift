import Foundation
import KramaaContracts
import KramaaJSON
import KramaaMessaging
import KramaaPlatform
import KramaaPrimitives

/// Scenario 4, fleet: a haulage company's truck reports its worn parts as signed readings. Its
/// telematics unit writes the truck's complete report, encrypted for the workshop it is heading
/// to (the file key wrapped for the workshop terminal's agreement key) and pinned to the truck's
/// asset, readable by whoever holds the truck. When the truck arrives, the workshop's gate
/// records it (EPCIS arriving) and the driver hands the truck over (custody to the workshop); the
/// truck's agent sees its own arrival on chain and places the work order under the haulier's service
/// agreement, paying into escrow; the workshop terminal's agent opens it; the workshop reads the
/// report, which no one else can. When the work is done the haulier confirms and the workshop
/// is paid.
struct FleetDemo {
    let stage: DemoStage
    static let brakeService = UInt256(UInt64(300_000_000_000_000_000))  // 0.3
    static let tyreChange = UInt256(UInt64(200_000_000_000_000_000))  // 0.2

    func run() async throws {
        let n = stage.narrator
        n.section("the haulier, the workshop, the truck")
        let haulier = try stage.organization("haulier", account: 5)
        let workshop = try stage.organization("truck workshop", account: 6)
        let truck = try stage.device("truck T-17", of: haulier, type: .p256, model: "telematics unit")
        let terminal = try stage.device("workshop terminal", of: workshop, type: .ed25519, model: "service bay terminal")
        let terminalKey = try stage.agreementKey(for: terminal)
        let truckEPC = "urn:epc:id:sgtin:4012345.022222.T17\(stage.runLabel.uppercased())"
        let truckAsset = try stage.mint(truckEPC, by: haulier, "truck T-17")
        let brake = DemoSettings.name("brake service"), tyres = DemoSettings.name("tyre change")
        let agreement = try stage.deploy(.serviceOrder, [.address(workshop.account), .address(terminal.address), .array([.fixedBytes(brake), .fixedBytes(tyres)]),
                                                         .array([.uint(Self.brakeService), .uint(Self.tyreChange)]), .uint(UInt256(120)), .uint(UInt256(3600))],
                                         by: haulier, "the service agreement with the workshop: brake service 0.3, tyre change 0.2")
        try stage.send(haulier.name, "allows truck T-17 to order work", to: agreement,
                       ABI.selector("setMachine(address,bool)") + ABI.encode([.address(truck.address), .bool(true)]), signer: .account(haulier.admin))
        try stage.fund(truck.address, UInt256(UInt64(1_000_000_000_000_000_000)), from: haulier, "funds truck T-17's account (1.0)")
        try stage.policy(truck, calls: [(agreement, "order(bytes32)"), (DeviceReadings.address, DeviceReadings.Method.submit.signature)],
                         nativePerPeriod: UInt256(UInt64(1_000_000_000_000_000_000)), period: 86_400)
        try stage.policy(terminal, calls: [(agreement, "accept(uint256,uint256)")])

        n.section("on the road: the truck reports its parts")
        // On arrival (an event of the provenance contract naming the truck), order the brake service.
        let assetEvent = "AssetEventRecorded(uint256,bytes32)"
        try await stage.startAgent(truck, [
            "readings": [["kind": "brake.pad.mm", "values": [9, 6, 3], "interval": 1, "submit": true],
                         ["kind": "tyre.tread.mm", "values": [4], "interval": 1, "submit": true]],
            "rules": [["name": "order the brake service on arrival at a workshop",
                       "when": ["event": ["contract": .string(ProvenanceRegistry.address.description), "signature": .string(assetEvent),
                                          "topics": ["1": .string(Bytes32(truckAsset).description)]]],
                       "do": [["call": ["to": .string(agreement.description), "function": "order(bytes32)", "args": [.string(brake.description)],
                                        "value": .string(Self.brakeService.description)]]]]]], sponsor: haulier)
        try await stage.startAgent(terminal, ["rules": [["name": "open the work order",
            "when": ["event": ["contract": .string(agreement.description), "signature": "OrderPlaced(uint256,address,bytes32,uint256)"]],
            "do": [["call": ["to": .string(agreement.description), "function": "accept(uint256,uint256)", "args": ["${topic1}", "0"]]]]]]],
                                   sponsor: workshop)
        try await stage.waitForAgents([truck, terminal], watching: [truck, terminal])
        try await stage.waitUntil("the truck's readings on chain", timeout: 30) {
            stage.narrator.steps.filter { $0["actor"]?.stringValue == truck.name && $0["agent"]?.stringValue == "submitted" }.count >= 4
        }
        try await stage.storageNodes(for: [haulier, workshop])
        let report = try writeReport(truck: truck, asset: truckAsset, epc: truckEPC)
        let cid = try stage.addPrivateFile(report, readers: [terminal], asset: truckAsset, by: haulier,
                                           "pins the truck's report, encrypted for the workshop terminal, to the truck's asset")
        let mayReadBefore = try stage.mayRead(cid, workshop.account)
        n.say("file registry", "may the workshop read the report before the truck arrives? \(mayReadBefore)", ["mayRead": .bool(mayReadBefore)])

        n.section("the truck arrives at the workshop")
        let gate = "urn:epc:id:sgln:4098765.00010.0"
        try stage.capture("arriving", disposition: "in_progress", epc: truckEPC, at: gate, by: workshop, "the gate records truck T-17 arriving (EPCIS arriving)")
        try await stage.waitUntil("the work order for the arriving truck", timeout: 30) { try stage.word(agreement, "orderCount()") >= 1 }
        let handover = try stage.rest("POST", "/assets/\(Hex.encode(truckAsset.bigEndianBytes))/custody",
                                      ["to": .string(workshop.account.description), "from": .string(haulier.account.description)])
        n.say(haulier.name, "hands truck T-17 over to the workshop (custody to the workshop)", receipt: handover)
        try await stage.waitUntil("the workshop terminal to open the work order", timeout: 60) {
            try stage.read(agreement, "orders(uint256)", [.uint(UInt256(1))])[192..<224].last == 2
        }
        let mayReadAfter = try stage.mayRead(cid, workshop.account)
        n.say("file registry", "may the workshop read the report now that it holds the truck? \(mayReadAfter)", ["mayRead": .bool(mayReadAfter)])
        guard !mayReadBefore, mayReadAfter else { throw DemoFailure("the report's readers did not follow the truck's custody") }
        let read = try stage.readPrivateFile(cid, key: terminalKey.file, as: "workshop terminal")
        guard read == report else { throw DemoFailure("the report the workshop read differs from the one the truck wrote") }
        n.say("workshop terminal", "decrypts the report \(cid): \(String(decoding: read, as: UTF8.self).count) bytes, brake pads at 3 mm, tyre tread at 4 mm",
              ["cid": .string(cid), "bytes": .number(JSONNumber(read.count))])

        n.section("refused on the way")
        let outsider = try stage.agreementKey(for: truck)  // a key the report was not wrapped for
        try stage.expectRefusal("truck T-17", "tries to read the report with its own agreement key", mustMention: "no file key") {
            _ = try stage.readPrivateFile(cid, key: outsider.file, as: "truck T-17")
        }

        n.section("the work is done")
        let confirmed = try stage.send(haulier.name, "confirms the brake service was done: the escrow pays the workshop", to: agreement,
                                       ABI.selector("confirmReceipt(uint256)") + ABI.encode([.uint(UInt256(1))]), signer: .account(haulier.admin))
        let paid = try stage.received(workshop.account, in: confirmed)
        n.say(workshop.name, "is paid \(paid) wei for work order 1", receipt: confirmed, ["paid": .string(paid.description)])
        guard paid == Self.brakeService else { throw DemoFailure("the workshop was paid \(paid), not the brake service's price") }
    }

    /// The truck's complete report: its parts' latest signed readings, as JSON.
    private func writeReport(truck: DemoDevice, asset: UInt256, epc: String) throws -> [UInt8] {
        var parts: [JSON] = []
        for (kind, part, limit) in [("brake.pad.mm", "brake pads", 4), ("tyre.tread.mm", "tyres", 5)] {
            let out = try stage.read(DeviceReadings.address, "latestReading(address,bytes32)", [.address(truck.address), .fixedBytes(DeviceReading.kind(named: kind))])
            let value = try UInt256(bigEndianBytes: out[0..<32]), sequence = try UInt256(bigEndianBytes: out[64..<96])
            parts.append(["part": .string(part), "reading": .string(kind), "value": .string(value.description), "limit": .number(JSONNumber(limit)),
                          "sequence": .string(sequence.description), "replace": .bool(value < UInt256(UInt64(limit)))])
        }
        let report: JSON = ["truck": .string(truck.address.checksummed), "asset": .string(asset.description), "epc": .string(epc),
                            "writtenAt": .string(ISO8601DateFormatter().string(from: Date())), "parts": .array(parts)]
        return report.serialized()
    }
}
