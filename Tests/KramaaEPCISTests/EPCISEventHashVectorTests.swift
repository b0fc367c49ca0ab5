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
/// form is its value: it reads numbers through binary doubles, so a long integer such as
/// `111100001111000011110000` comes out as the double nearest to it, written in full
/// (`111100001111000003641344`), and would collide with every number rounding to that double.
/// Kramaa keeps the exact digits (`EPCISHashNumber`). The rule is recognised by its content, in
/// any vector: where a vector's pre-hash and ours differ only in integers, and each of the
/// vector's is the double nearest to ours written in full, the vector is corrected to ours and its
/// hash ID recomputed. Any other difference is left for the test to report.
enum ReferenceDoubleRounding {
    /// The vector's pre-hash with the reference's double rounding of integers undone, given our
    /// pre-hash of the same event; the vector's own when the two differ in any other way.
    static func corrected(vector: String, ours: String) -> String {
        let theirs = runs(vector), mine = runs(ours)
        guard theirs.count == mine.count, theirs != mine else { return vector }
        for (a, b) in zip(theirs, mine) where a != b {
            guard a.allSatisfy(\.isASCIIDigit), b.allSatisfy(\.isASCIIDigit), let exact = Double(b),
                  String(format: "%.0f", exact) == a else { return vector }
        }
        return ours
    }

    /// The vector's pre-hashes and hash IDs as corrected against ours.
    static func corrected(preHashes: [String], hashes: [String], ours: [String]) -> ([String], [String]) {
        var outPreHashes: [String] = [], outHashes: [String] = []
        for (index, preHash) in preHashes.enumerated() {
            let fixed = index < ours.count ? corrected(vector: preHash, ours: ours[index]) : preHash
            outPreHashes.append(fixed)
            let hash = index < hashes.count ? hashes[index] : ""
            outHashes.append(fixed == preHash ? hash : EPCISEventHash.hashID(digest: EPCISEventHash.digest(ofPreHash: fixed)))
        }
        return (outPreHashes, outHashes)
    }

    /// The text in alternating runs of ASCII digits and of everything else.
    static func runs(_ text: String) -> [Substring] {
        var out: [Substring] = []
        var start = text.startIndex
        for index in text.indices where index != start && text[index].isASCIIDigit != text[text.index(before: index)].isASCIIDigit {
            out.append(text[start..<index])
            start = index
        }
        if start < text.endIndex { out.append(text[start...]) }
        return out
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

@Suite("EPCIS event hash vectors")
struct EPCISEventHashVectorTests {
    @Test("every manifest case: each document gives the listed pre-hashes and hash IDs", arguments: try EPCISHashVectors.manifestCases())
    func manifestCase(_ vector: EPCISHashVectors.Case) throws {
        #expect(!vector.documents.isEmpty)
        #expect(vector.hashes.count == vector.preHashes.count)
        if vector.kind == "all_events_equal" { #expect(Set(vector.hashes).count == 1, "\(vector.id): the case must list one hash") }
        for document in vector.documents {
            let (preHashes, hashes) = try EPCISHashVectors.hash(document: document)
            let (wantPreHashes, wantHashes) = ReferenceDoubleRounding.corrected(preHashes: vector.preHashes, hashes: vector.hashes, ours: preHashes)
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
        let (wantPreHashes, wantHashes) = ReferenceDoubleRounding.corrected(preHashes: vector.preHashes, hashes: vector.hashes, ours: preHashes)
        #expect(preHashes.count == vector.preHashes.count, "event count")
        for (index, (got, want)) in zip(preHashes, wantPreHashes).enumerated() {
            #expect(got == want, "event \(index): pre-hash")
        }
        #expect(hashes == wantHashes)
    }

    @Test("the double-rounding rule accepts only integers the reference rounded through a double")
    func doubleRoundingRule() {
        let exact = "quantity=111100001111000011110000\nuom=KGM", rounded = "quantity=111100001111000003641344\nuom=KGM"
        #expect(ReferenceDoubleRounding.corrected(vector: rounded, ours: exact) == exact)
        // Any other difference stands: another integer, another field, a number a double keeps exactly.
        for other in ["quantity=111100001111000003641345\nuom=KGM", "quantity=111100001111000003641344\nuom=LTR", "quantity=12\nuom=KGM"] {
            #expect(ReferenceDoubleRounding.corrected(vector: other, ours: exact) == other)
        }
        #expect(ReferenceDoubleRounding.corrected(vector: "quantity=13", ours: "quantity=12") == "quantity=13")
    }

    @Test("the vector files are all found: manifest cases and example documents")
    func inventory() throws {
        #expect(try EPCISHashVectors.manifestCases().count >= 30)
        #expect(try EPCISHashVectors.exampleCases().count >= 20)
    }
}
