import Foundation
import KramaaEPCIS
import KramaaGS1
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
        // Identifier normalisation alone: every EPC the examples name, each worked out afresh (no memo).
        let identifiers = events.flatMap(\.allEPCs)
        var normaliseSeconds = Double.infinity, identifierFloorSeconds = Double.infinity
        for _ in 0..<3 where !identifiers.isEmpty {
            normaliseSeconds = min(normaliseSeconds, Harness.time {
                var acc = 0
                for _ in 0..<rounds { for id in identifiers { acc &+= CanonicalDigitalLink.normalise(id)?.utf8.count ?? 0 } }
                blackHole(acc)
            })
            identifierFloorSeconds = min(identifierFloorSeconds, Harness.time {
                var acc = Bytes32.zero
                for _ in 0..<rounds { for id in identifiers { acc = SHA256Digest.hash(utf8: id) } }
                blackHole(acc)
            })
        }
        let count = Double(rounds * events.count)
        section.rows = [
            Row(name: "Event hash ID, \(events.count) example events (pre-hash + SHA-256)", ours: count / hashSeconds, unit: "event/s",
                reference: count / floorSeconds, referenceName: "SHA-256 of the event JSON", goal: "≥ 1,000 event/s per chain"),
        ]
        if !identifiers.isEmpty {
            let n = Double(rounds * identifiers.count)
            section.rows.append(Row(name: "EPC URI or Digital Link → canonical Digital Link, \(identifiers.count) identifiers of the examples", ours: n / normaliseSeconds,
                                    unit: "id/s", reference: n / identifierFloorSeconds, referenceName: "SHA-256 of the identifier"))
        }
        section.notes = [String(format: "%.1f µs per event (mean over the example events)", hashSeconds / count * 1e6)]
        return section
    }
}
