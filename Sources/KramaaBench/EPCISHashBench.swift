import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaPrimitives

/// The EPCIS Event Hash ID (CBV 2.0) over every event of the hash vectors' JSON-LD examples.
/// Reference, same run: SHA-256 of each event's JSON bytes alone (the floor any event hash pays).
enum EPCISHashBench {
    static func run(vectors: String, quick: Bool) -> Section {
        var section = Section(title: "EPCIS event hash", command: "kramaa-bench epcis")
        let folder = URL(fileURLWithPath: vectors).appendingPathComponent("epcis-hash/examples")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".jsonld") }.sorted()
        let events = files.flatMap { name -> [EPCISEvent] in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let document = try? EPCISDocument(bytes: Array(data))
            else { return [] }
            return document.events
        }
        guard !events.isEmpty else {
            section.notes = ["no JSON-LD examples under \(folder.path): set KRAMAA_VECTORS"]
            return section
        }
        let serialized = events.map { $0.json.serialized() }
        let rounds = quick ? 20 : 200
        var hashSeconds = Double.infinity, floorSeconds = Double.infinity
        for _ in 0..<3 {
            hashSeconds = min(hashSeconds, Harness.time {
                var acc = Bytes32.zero
                for _ in 0..<rounds { for event in events { acc = EPCISEventHash.digest(of: event) } }
                blackHole(acc)
            })
            floorSeconds = min(floorSeconds, Harness.time {
                var acc = Bytes32.zero
                for _ in 0..<rounds { for bytes in serialized { acc = SHA256Digest.hash(bytes) } }
                blackHole(acc)
            })
        }
        let count = Double(rounds * events.count)
        section.rows = [
            Row(name: "Event hash ID, \(events.count) example events (pre-hash + SHA-256)", ours: count / hashSeconds, unit: "event/s",
                reference: count / floorSeconds, referenceName: "SHA-256 of the event JSON", goal: "≥ 1,000 event/s per chain"),
        ]
        section.notes = [String(format: "%.1f µs per event (mean over the example events)", hashSeconds / count * 1e6)]
        return section
    }
}
