import Foundation
import KramaaAPI
import KramaaChain
import KramaaEPCIS
@_spi(Benchmark) import KramaaEPCISIndex
import KramaaJSON
import KramaaNode
import KramaaPrimitives
import KramaaPlatform
import KramaaRPC
import KramaaTestSupport

/// Operations (docs/OPERATIONS.md): the EPCIS index at a million events (load rate, typical
/// queries' p50/p99 against the same query scanning every event, resident memory, reopening),
/// the metrics scrape while the node takes transactions and seals blocks, and state sync's
/// snapshot export and join time at a million accounts.
enum OpsBench {
    static func run(quick: Bool) -> Section {
        var section = Section(title: "Operations (EPCIS index at scale, metrics scrape, state sync)", command: "scripts/bench.sh ops")
        epcisIndex(events: quick ? 20_000 : 1_000_000, into: &section)
        metricsScrape(quick: quick, into: &section)
        SnapshotBench.run(accounts: quick ? 20_000 : 1_000_000, into: &section)
        return section
    }

    // MARK: EPCIS index

    static let locations = 500

    static func event(_ i: Int, epcs: Int) -> EPCISEvent {
        let base: Int64 = 1_764_000_000  // 2025-11-24
        let seconds = base + Int64(i)
        let time = EPCISTimestamp(secondsSinceEpoch: seconds).description
        let location = "urn:epc:id:sgln:0614141.\(String(format: "%05d", i % locations)).0"
        let epc = "urn:epc:id:sgtin:0614141.107346.\(i % epcs)"
        var object: JSONObject = ["type": "ObjectEvent", "eventTime": .string(time), "recordTime": .string(time), "eventTimeZoneOffset": "+00:00",
                                  "epcList": [.string(epc)], "action": "OBSERVE", "bizStep": "https://ref.gs1.org/cbv/BizStep-inspecting",
                                  "readPoint": ["id": .string(location)], "bizLocation": ["id": .string(location)]]
        if i % 10 == 0 {
            object["type"] = "AggregationEvent"
            object["epcList"] = nil
            object["parentID"] = .string("urn:epc:id:sscc:0614141.\(String(format: "%010d", i / 10))")
            object["childEPCs"] = [.string(epc)]
            object["action"] = "ADD"
        }
        return try! EPCISEvent(json: .object(object), documentContext: ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"])
    }

    static func residentMegabytes() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) / 1024
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

    static func epcisIndex(events count: Int, into section: inout Section) {
        let directory = NSTemporaryDirectory() + "kramaa-ops-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/epcis-index.sqlite"
        let chain = ContractChain(contracts: .platform).provider
        let epcs = max(count / 10, 1)
        let rssBefore = residentMegabytes()
        var index = try! EPCISIndex(chain: chain, path: path)
        let batch = 10_000
        var loadSeconds = 0.0
        for start in stride(from: 0, to: count, by: batch) {
            let entries = (start..<min(start + batch, count)).map { i -> EPCISIndex.Entry in
                let e = event(i, epcs: epcs)
                return EPCISIndex.Entry(event: e, hash: Keccak256.hash(Array("event \(i)".utf8)), organization: 1, recorder: .zero, device: .zero,
                                        blockNumber: UInt64(i / 100 + 1), blockHash: .zero, transactionHash: .zero, transactionIndex: 0, keys: [])
            }
            // Through block 0: the chain in front of the index holds only its genesis.
            loadSeconds += Harness.time { try! index.load(entries, through: 0) }
        }
        let rssLoaded = residentMegabytes()
        // Reopened as a restarted node would: its start cost and memory do not grow with the events.
        var reopenSeconds = 0.0
        let rssBeforeReopen = residentMegabytes()
        reopenSeconds = Harness.time { index = try! EPCISIndex(chain: chain, path: path); _ = try! index.count() }
        let rssReopened = residentMegabytes()
        let fileMegabytes = Double(((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0) / 1_048_576

        var rng = SplitMix64(seed: 42)
        let runs = count >= 1_000_000 ? 300 : 100
        let kinds: [(String, () -> [(String, String?)])] = [
            ("by EPC (MATCH_epc)", { [("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.\(Int(rng.next() % UInt64(epcs)))")] }),
            ("by bizLocation and a 1-hour eventTime window", {
                let start = 1_764_000_000 + Int64(rng.next() % UInt64(max(count - 3600, 1)))
                return [("EQ_bizLocation", "urn:epc:id:sgln:0614141.\(String(format: "%05d", Int(rng.next() % UInt64(locations)))).0"),
                        ("GE_eventTime", EPCISTimestamp(secondsSinceEpoch: start).description),
                        ("LT_eventTime", EPCISTimestamp(secondsSinceEpoch: start + 3600).description)]
            }),
            ("by parent (MATCH_parentID)", { [("MATCH_parentID", "urn:epc:id:sscc:0614141.\(String(format: "%010d", Int(rng.next() % UInt64(max(count / 10, 1)))))")] }),
        ]
        for (name, make) in kinds {
            var times: [Double] = [], found = 0
            for _ in 0..<runs {
                let query = try! EPCISQuery(queryItems: make())
                times.append(Harness.time { found += (try! index.query(query)).events.count })
            }
            times.sort()
            let sample = try! EPCISQuery(queryItems: make())
            let scan = Harness.time { blackHole(try! index.fullScanCount(sample)) }
            section.rows.append(Row(name: "EPCIS query \(name) at \(count) events: p50 (p99 \(String(format: "%.2f", percentile(times, 0.99) * 1000)) ms, \(String(format: "%.1f", Double(found) / Double(runs))) events each)",
                                    ours: percentile(times, 0.5) * 1000, unit: "ms", reference: scan * 1000,
                                    referenceName: "the same query scanning every event", goal: "p99 < 100 ms"))
        }
        section.rows.append(Row(name: "EPCIS index load through its write path (\(count) events, batches of \(batch))", ours: Double(count) / loadSeconds,
                                unit: "events/s", reference: nil, referenceName: "—"))
        section.rows.append(Row(name: "EPCIS index reopened at \(count) events (a node's start)", ours: reopenSeconds * 1000, unit: "ms",
                                reference: nil, referenceName: "—", goal: "independent of the count"))
        section.notes.append(String(format: "Resident memory: %.0f MiB before loading, %.0f MiB after loading %d events, %.0f MiB → %.0f MiB across the reopen (the index is on disk: %.0f MiB file). Events are synthetic (one in ten an aggregation under its own SSCC; %d locations; one event per second), loaded through the index's own write path (the one new blocks take), without the chain in front of it.",
                                     rssBefore, rssLoaded, count, rssBeforeReopen, rssReopened, fileMegabytes, locations))
    }

    // MARK: Metrics

    static func metricsScrape(quick: Bool, into section: inout Section) {
        let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [9])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-ops-node-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let genesis = """
            {"config": {"chainId": 99, "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x1c9c380",
             "alloc": {"\(key.publicKey.address)": {"balance": "0x3635c9adc5dea00000"}}}
            """
        try! Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
        let node = try! Node(dataDirectory: directory)
        defer { node.close() }
        let metrics = NodeMetrics(node: node)
        metrics.start()
        defer { metrics.stop() }
        let router = EthAPI(node: node).router()
        // Load: transfers accepted and sealed into blocks on another thread while scraping.
        let load = BlockLoad(node: node, key: key, chainId: 99)
        Thread.sleep(forTimeInterval: 0.3)
        var times: [Double] = []
        let runs = quick ? 100 : 1_000
        for _ in 0..<runs {
            times.append(Harness.time { blackHole(runBlocking { await metrics.scrape() }) })
        }
        let reference = Harness.rate(batch: 1, seconds: 0.5) {
            blackHole(runBlocking { try? await router.handle(RPCRequest(method: "eth_blockNumber"), context: .inProcess()) })
        }
        let blocks = load.stop()
        times.sort()
        section.rows.append(Row(name: "/metrics scrape while 20 transfers per block are sealed (\(blocks) blocks meanwhile): p50 (p99 \(String(format: "%.2f", percentile(times, 0.99) * 1000)) ms)",
                                ours: percentile(times, 0.5) * 1000, unit: "ms", reference: 1000 / reference,
                                referenceName: "an in-process eth_blockNumber", goal: "< 10 ms"))
    }

    /// Runs async work to completion from synchronous benchmark code.
    static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = BlockingBox<T>(), done = DispatchSemaphore(value: 0)
        Task { box.value = await body(); done.signal() }
        done.wait()
        return box.value!
    }
}

final class BlockingBox<T>: @unchecked Sendable { var value: T? }
