import Foundation
import KramaaChain
import KramaaPlatform
import KramaaPrimitives

/// EPCIS events captured and finalised on four validators (the same network as the validator
/// benchmark): P-256 devices of one organisation each send device transactions (type 0x4b)
/// whose `captureEvents` carries one ObjectEvent; an event counts when validator 0 stores the
/// block. Every validator verifies each device signature, parses the document and computes the
/// CBV 2.0 event hash. Reference: P-256 signature verifications per second on the machine's cores.
enum EPCISBench {
    static func run(quick: Bool) -> Section {
        var section = Section(title: "EPCIS capture (4 validators, P-256 devices)", command: "scripts/bench.sh epcis")
        let admin = BenchTransactions.senders(1)[0]
        let devices = (0..<100).map { i in SigningKey.p256(try! Secp256r1.PrivateKey(rawRepresentation: Keccak256.hash(Array("bench device \(i)".utf8)).bytes)) }
        let network = try! ValidatorBench.Network(validators: 4, senders: [admin], funded: devices.map(\.publicKey.address))
        defer { network.stop() }
        let ports = network.servers.map(\.port)

        // Setup (not timed): the organisation and its 100 devices, registered by the admin.
        var setup = [BenchTransactions.signed(admin, nonce: 0, to: OrganizationRegistry.address,
                                              data: OrganizationRegistry.Method.register.callData([.string("Bench Brand")]), gas: 500_000)]
        for (i, device) in devices.enumerated() {
            setup.append(BenchTransactions.signed(admin, nonce: UInt64(i + 1), to: DeviceRegistry.address, data: ABI.call(
                "registerDevice(uint256,uint8,bytes,string,bytes32)",
                [.uint(.one), .uint(UInt256(UInt64(KeyType.p256.code))), .bytes(device.publicKey.bytes), .string("bench"), .fixedBytes(.zero)]),
                gas: 1_000_000))
        }
        _ = ValidatorBench.send(setup, hashes: setup.map { Keccak256.hash($0) }, to: [ports[0]], batch: 101, pace: nil)
        guard network.finality.waitFor(setup.count) else {
            section.notes.append("setup transactions were not finalised within 120 s")
            return section
        }

        let probeKey = devices[0].publicKey, probeMessage = Array(repeating: UInt8(7), count: 32)
        let probeSignature = devices[0].signature(for: probeMessage)
        let verifyOne = Harness.rate(batch: 1, seconds: quick ? 0.3 : 1) { blackHole(probeKey.isValidSignature(probeSignature, for: probeMessage)) }
        let cores = ProcessInfo.processInfo.activeProcessorCount

        // The same events either way: one per device transaction (the workload as first measured),
        // then ten per transaction (a capture document carries up to 100), with nonces following on.
        // Then a sustained run of ten times as many, ten per transaction: what the short runs
        // (a handful of blocks) do not show, the chain database growing under the load.
        let perDevice = quick ? 5 : 20
        var nonce: UInt64 = 0
        for (eventsPerTransaction, eventsPerDevice) in [(1, perDevice), (10, perDevice), (10, perDevice * 10)] {
            let transactions = max(1, eventsPerDevice / eventsPerTransaction)
            let (events, seconds, blocks, failed, finished, fill) = capture(network: network, devices: devices, ports: ports, firstNonce: nonce,
                                                                      transactionsPerDevice: transactions, eventsPerTransaction: eventsPerTransaction)
            nonce += UInt64(transactions)
            let shape = eventsPerTransaction == 1 ? "one per P-256 device transaction" : "\(eventsPerTransaction) per P-256 device transaction"
            section.rows.append(Row(name: "EPCIS events captured and finalised (\(events) events, \(shape), \(blocks) blocks\(finished ? "" : ", TIMED OUT"))",
                                    ours: Double(events) / seconds, unit: "events/s", reference: verifyOne * Double(cores),
                                    referenceName: "P-256 verify on \(cores) cores", goal: "≥ 5,000"))
            section.notes.append("\(events) events, \(shape): failed (reverted) captures among them: \(failed); \(fill).")
        }
        section.notes.append("The network is the validator benchmark's: four validators in one process with their own SQLite folders, TLS peers on loopback and JSON-RPC servers; the transactions are signed before timing and sent as JSON-RPC batches of 50 to the four servers in turn. Each capture: device signature check (P-256), JSON-LD parse, CBV 2.0 event hash of every event, the records and their logs. A validator building or importing a block parses and hashes its captures' documents on all cores first (SystemContract.prepare, since 2026-12-06), then runs the transactions in order. Each block's state changes are stored as one record and folded into the flat state tables every 16 blocks (docs/DATA.md, since 2026-12-06), so the sustained run's blocks include their folds. A validator writes a committed block while consensus decides the next height, and signs nothing there before the write (since 2026-12-07). Each event's record is two storage slots (three until 2026-12-07: 83,903 gas per event then).")
        return section
    }

    /// Each device sends its captures in nonce order, devices taking turns; returns the events
    /// finalised, the seconds from the first send to the last event's block, the blocks, the
    /// reverted captures, whether all were finalised in time, and how full the blocks were.
    static func capture(network: ValidatorBench.Network, devices: [SigningKey], ports: [Int], firstNonce: UInt64, transactionsPerDevice: Int,
                        eventsPerTransaction: Int) -> (events: Int, seconds: Double, blocks: Int, failed: Int, finished: Bool, fill: String) {
        var raws: [[UInt8]] = []
        for t in 0..<transactionsPerDevice {
            let nonce = firstNonce + UInt64(t)
            for (d, device) in devices.enumerated() {
                let events = (0..<eventsPerTransaction).map { e in
                    let n = Int(nonce) * 100 + e
                    return """
                        {"type": "ObjectEvent", "eventTime": "2026-11-25T10:\(String(format: "%02d", n % 60)):\(String(format: "%02d", (n / 60) % 60)).\(String(format: "%03d", d))Z",
                         "eventTimeZoneOffset": "+00:00", "epcList": ["urn:epc:id:sgtin:0614141.107346.\(d * 100_000 + n)"], "action": "OBSERVE",
                         "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
                        """
                }
                let document = """
                    {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0",
                     "creationDate": "2026-11-25T10:00:00Z", "epcisBody": {"eventList": [\(events.joined(separator: ", "))]}}
                    """
                var tx = try! Transaction.device(publicKey: device.publicKey, chainId: BenchTransactions.chainId, nonce: nonce,
                                                 maxPriorityFeePerGas: UInt256(1_000_000_000 as UInt64), maxFeePerGas: UInt256(100_000_000_000 as UInt64),
                                                 gasLimit: 600_000 * UInt64(eventsPerTransaction), to: ProvenanceRegistry.address,
                                                 data: ProvenanceRegistry.Method.capture.callData([.uint(.zero), .bytes(Array(document.utf8))]))
                try! tx.signAsDevice(with: device)
                raws.append(tx.encoded)
            }
        }
        let requests = ValidatorBench.Requests(raws, batch: 50), hashes = raws.map { Keccak256.hash($0) }
        let before = network.finality.count, blocksBefore = network.finality.blocks, headBefore = network.nodes[0].latest.number
        let phasesBefore = network.phaseSeconds(), cpuBefore = network.cpuSeconds()
        let started = DispatchTime.now().uptimeNanoseconds
        _ = ValidatorBench.send(requests, hashes: hashes, to: ports, pace: nil)
        let finished = network.finality.waitFor(before + raws.count, timeout: 300)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let events = raws.count * eventsPerTransaction
        let cpu = network.cpuSeconds() - cpuBefore
        let time = "per event, summed over the four validators: " + PhaseTotals.perTransaction(before: phasesBefore, after: network.phaseSeconds(), transactions: events)
            + String(format: "; CPU %.0f µs per event (%.2f of %d cores busy, validators and client)", cpu / Double(max(events, 1)) * 1e6, cpu / seconds,
                     ProcessInfo.processInfo.activeProcessorCount)
        var failed = 0, gasUsed: UInt64 = 0, gasLimit: UInt64 = 0, fullest: UInt64 = 0
        for n in (headBefore + 1)...max(headBefore + 1, network.nodes[0].latest.number) {
            failed += (try? network.nodes[0].receipts(number: n))?.receipts.filter { !$0.success }.count ?? 0
            if let header = try? network.nodes[0].header(number: n) {
                gasUsed += header.gasUsed
                gasLimit += header.gasLimit
                fullest = max(fullest, header.gasUsed * 100 / max(header.gasLimit, 1))
            }
        }
        let fill = "blocks \(gasUsed * 100 / max(gasLimit, 1)) % full on average (fullest \(fullest) %), \(gasUsed / UInt64(max(events, 1))) gas per event; \(time)"
        return (events, seconds, network.finality.blocks - blocksBefore, failed, finished, fill)
    }
}
