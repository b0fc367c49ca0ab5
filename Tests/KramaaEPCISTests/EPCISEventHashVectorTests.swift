import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaTestSupport
import Testing

/// The EPCIS event hash vectors under `$KRAMAA_VECTORS/epcis-hash` (manifest cases and the example
/// files with their `.hashes` / `.prehashes`), read at run time.
enum EPCISHashVectors {
    struct Case: Sendable, CustomStringConvertible {
        var id: String
        var kind: String
        var documents: [String]
        var hashes: [String]
        var preHashes: [String]
        var notes: [String]
        var description: String { id }
    }

    /// Cases whose documents use the reference implementation's own `ignoreFields` extension are
    /// run too (the XML reader implements it); none is excepted.
    static func manifestCases() throws -> [Case] {
        let folder = try Vectors.folder("epcis-hash")
        guard let manifest = try Vectors.json(folder.appendingPathComponent("manifest.json")) as? [String: Any],
              let cases = manifest["cases"] as? [[String: Any]], !cases.isEmpty
        else { throw VectorsError.unreadable("epcis-hash/manifest.json", underlying: "no cases") }
        return cases.map { entry in
            Case(
                id: entry["id"] as? String ?? "?", kind: entry["kind"] as? String ?? "?",
                documents: (entry["files"] as? [String: Any])?["documents"] as? [String] ?? [],
                hashes: entry["hashes"] as? [String] ?? [], preHashes: entry["prehashes"] as? [String] ?? [],
                notes: entry["notes"] as? [String] ?? [])
        }
    }

    /// `examples/<name>.<jsonld|xml>` with `<name>.hashes` and `<name>.prehashes`, every document found.
    static func exampleCases() throws -> [Case] {
        let documents = try Vectors.files(in: "epcis-hash/examples", ext: "jsonld") + Vectors.files(in: "epcis-hash/examples", ext: "xml")
        return try documents.map { url in
            let base = url.deletingPathExtension()
            return Case(
                id: Vectors.name(url), kind: "example", documents: ["examples/" + url.lastPathComponent],
                hashes: try lines(base.appendingPathExtension("hashes")), preHashes: try lines(base.appendingPathExtension("prehashes")),
                notes: [])
        }
    }

    static func lines(_ url: URL) throws -> [String] {
        do {
            let text = try String(contentsOf: url, encoding: .utf8)
            return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        } catch {
            throw VectorsError.unreadable(url.path, underlying: "\(error)")
        }
    }

    /// The pre-hash strings and hash IDs of a vector document (JSON-LD or XML), in document order.
    static func hash(document relative: String) throws -> (preHashes: [String], hashes: [String]) {
        let url = try Vectors.folder("epcis-hash").appendingPathComponent(relative)
        let data = try Data(contentsOf: url)
        if url.pathExtension == "xml" {
            let document = try EPCISXMLDocument(bytes: Array(data))
            return (document.eventPreHashes, document.eventHashIDs)
        }
        let document = try EPCISDocument(bytes: Array(data))
        return (document.eventPreHashes, document.eventHashIDs)
    }
}

/// Where the reference implementation departs from the CBV 2.0 rule that a number's canonical
/// form is its value: it reads numbers through binary doubles, so the 24-digit value
/// `111100001111000011110000` becomes `111100001111000003641344` (and would collide with every
/// number rounding to the same double). Kramaa keeps the exact digits (`EPCISHashNumber`): the
/// expected pre-hashes are corrected by these replacements, and their hash IDs recomputed.
enum ReferenceDoubleRounding {
    static let replacements = [("=111100001111000003641344", "=111100001111000011110000")]

    /// The vector's pre-hashes and hash IDs with the reference's double rounding undone.
    static func corrected(preHashes: [String], hashes: [String]) -> ([String], [String]) {
        var outPreHashes: [String] = [], outHashes: [String] = []
        for (index, preHash) in preHashes.enumerated() {
            var fixed = preHash
            for (reference, exact) in replacements { fixed = fixed.replacingOccurrences(of: reference, with: exact) }
            outPreHashes.append(fixed)
            let hash = index < hashes.count ? hashes[index] : ""
            outHashes.append(fixed == preHash ? hash : EPCISEventHash.hashID(digest: EPCISEventHash.digest(ofPreHash: fixed)))
        }
        return (outPreHashes, outHashes)
    }
}

@Suite("EPCIS event hash vectors")
struct EPCISEventHashVectorTests {
    @Test("every manifest case: each document gives the listed pre-hashes and hash IDs", arguments: try EPCISHashVectors.manifestCases())
    func manifestCase(_ vector: EPCISHashVectors.Case) throws {
        #expect(!vector.documents.isEmpty)
        #expect(vector.hashes.count == vector.preHashes.count)
        if vector.kind == "all_events_equal" { #expect(Set(vector.hashes).count == 1, "\(vector.id): the case must list one hash") }
        let (wantPreHashes, wantHashes) = ReferenceDoubleRounding.corrected(preHashes: vector.preHashes, hashes: vector.hashes)
        for document in vector.documents {
            let (preHashes, hashes) = try EPCISHashVectors.hash(document: document)
            #expect(preHashes.count == vector.preHashes.count, "\(document): event count")
            for (index, (got, want)) in zip(preHashes, wantPreHashes).enumerated() {
                #expect(got == want, "\(document) event \(index): pre-hash")
            }
            #expect(hashes == wantHashes, "\(document): hash IDs")
        }
    }

    @Test("every example document: its .prehashes and .hashes files", arguments: try EPCISHashVectors.exampleCases())
    func example(_ vector: EPCISHashVectors.Case) throws {
        let (preHashes, hashes) = try EPCISHashVectors.hash(document: vector.documents[0])
        let (wantPreHashes, wantHashes) = ReferenceDoubleRounding.corrected(preHashes: vector.preHashes, hashes: vector.hashes)
        #expect(preHashes.count == vector.preHashes.count, "event count")
        for (index, (got, want)) in zip(preHashes, wantPreHashes).enumerated() {
            #expect(got == want, "event \(index): pre-hash")
        }
        #expect(hashes == wantHashes)
    }

    @Test("the vector files are all found: manifest cases and example documents")
    func inventory() throws {
        #expect(try EPCISHashVectors.manifestCases().count >= 30)
        #expect(try EPCISHashVectors.exampleCases().count >= 20)
    }
}
