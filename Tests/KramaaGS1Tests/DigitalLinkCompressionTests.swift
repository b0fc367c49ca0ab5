import Foundation
@testable import KramaaGS1
import KramaaTestSupport
import Testing

/// GS1 Digital Link compression: every entry of `digitallink/compression.json`, the upstream digital-link.js
/// expectations not in that file, round trips through every value layout and encoding, and typed errors.
@Suite struct DigitalLinkCompressionTests {
    static let book = "https://dlnkd.tn.gg/01/9780345418913/21/43786?foo=bar"

    @Test func compressionVectors() throws {
        let vectors = try DigitalLinkVectorTests.entries("digitallink", "compression.json")
        var counts: [String: Int] = [:]
        for entry in vectors {
            let id = entry["id"] as? String ?? "?"
            let input = try #require(entry["input"] as? String, "\(id) has no input")
            let flags = entry["options"] as? [String: Bool] ?? [:]
            let op = entry["op"] as? String ?? "?"
            counts[op, default: 0] += 1
            switch op {
            case "compress":
                let options = DigitalLinkCompression.Options(
                    useOptimisations: flags["use_optimisations"] ?? true,
                    compressOtherKeyValuePairs: flags["compress_other_key_value_pairs"] ?? true)
                #expect(try DigitalLinkCompression.compress(input, options: options) == entry["expected"] as? String, "\(id)")
            case "decompress":
                let result = try DigitalLinkCompression.decompress(input, shortNames: flags["use_short_names"] ?? false)
                #expect(result == entry["expected"] as? String, "\(id)")
            case "is_compressed":
                #expect(DigitalLinkCompression.isCompressed(input) == entry["expected"] as? Bool, "\(id)")
            default:
                Issue.record("\(id): unknown op \(op)")
            }
        }
        print("compression: \(vectors.count) entries \(counts.sorted { $0.key < $1.key })")
    }

    // MARK: - Upstream digital-link.js expectations (tests/index.js) not in the vector file

    @Test func optimisationsAndOtherPairsAreUsedByDefault() throws {
        #expect(try DigitalLinkCompression.compress(Self.book) == "https://dlnkd.tn.gg/DBHKVAdpQgqrCvBv0UMG21W")
        let canonical = "https://id.gs1.org/01/9780345418913/21/43786?foo=bar"
        #expect(try DigitalLinkCompression.compress(canonical) == "https://id.gs1.org/DBHKVAdpQgqrCvBv0UMG21W")
    }

    @Test func optimisationsAndOtherPairCompressionCanBeSwitchedOff() throws {
        let options = DigitalLinkCompression.Options(useOptimisations: false, compressOtherKeyValuePairs: false)
        #expect(try DigitalLinkCompression.compress(Self.book, options: options) == "https://dlnkd.tn.gg/ARHKVAdpQkIKqwo?foo=bar")
        let canonical = "https://id.gs1.org/01/9780345418913/21/43786?foo=bar"
        #expect(try DigitalLinkCompression.compress(canonical, options: options) == "https://id.gs1.org/ARHKVAdpQkIKqwo?foo=bar")
        #expect(try DigitalLinkCompression.decompress("https://dlnkd.tn.gg/ARHKVAdpQkIKqwo?foo=bar")
            == "https://dlnkd.tn.gg/01/09780345418913/21/43786?foo=bar")
        #expect(try DigitalLinkCompression.decompress("https://dlnkd.tn.gg/DBHKVAdpQgqrCvBv0UMG21W")
            == "https://dlnkd.tn.gg/01/09780345418913/21/43786?foo=bar")
    }

    @Test func theDigitalLinkJSSampleCompressesAndDecompresses() throws {
        let url = "https://gs1.evrythng.com/01/9780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh"
        let compressed = "https://gs1.evrythng.com/HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIQ"
        #expect(try DigitalLink.parse(url, options: .digitalLinkJS).compressed() == compressed)
        #expect(try DigitalLink(compressed: compressed).uri()
            == "https://gs1.evrythng.com/01/09780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh")
    }

    @Test func aBareGTINDecompresses() throws {
        #expect(try DigitalLinkCompression.decompress("https://dlnkd.tn.gg/ARHKVAdpQg") == "https://dlnkd.tn.gg/01/09780345418913")
        #expect(DigitalLinkCompression.isCompressed("https://dlnkd.tn.gg/ARHKVAdpQg"))
        #expect(try DigitalLinkCompression.compress("https://dlnkd.tn.gg/01/9780345418913") == "https://dlnkd.tn.gg/ARHKVAdpQg")
    }

    // MARK: - Layout tables

    /// The value layouts of gs1/GS1DigitalLinkCompressionPrototype `tableF` (as digital-link.js ships it),
    /// transcribed per AI or AI range; ours must give the same bits.
    static let prototypeLayouts: [(codes: [String], layout: String)] = {
        var rows: [(codes: [String], layout: String)] = [
            (["00"], "N18"), (["01", "02"], "N14"), (["10", "21", "22", "243", "254", "420", "8002", "8012"], "X..20"),
            (["11", "12", "13", "15", "16", "17", "7006", "8005"], "N6"), (["20"], "N2"),
            (["240", "241", "250", "251", "400", "401", "403", "7002", "7023", "8004", "8010", "8013", "90"], "X..30"),
            (["242"], "N..6"), (["253"], "N13 X..17"), (["255"], "N13 N..12"), (["30", "37"], "N..8"),
            (["402"], "N17"), (["410", "411", "412", "413", "414", "415", "416", "7001"], "N13"), (["421"], "N3 X..9"),
            (["422", "424", "426"], "N3"), (["423", "425"], "N3 N..12"), (["427", "7008"], "X..3"), (["7003"], "N10"),
            (["7004"], "N..4"), (["7005"], "X..12"), (["7007"], "N6 N..6"), (["7009"], "X..10"), (["7010"], "X..2"),
            (["7020", "7021", "7022", "710", "711", "712", "713", "714"], "X..20"),
            (["8001"], "N14"), (["8003"], "N14 X..16"), (["8006", "8017", "8018", "8026"], "N18"), (["8007"], "X..24"),
            (["8008"], "N8 N..4"), (["8009"], "X..50"), (["8011"], "N..12"), (["8019"], "N..10"), (["8020"], "X..25"),
            (["8110", "8112", "8200"], "X..70"), (["8111"], "N4"), ((91...99).map(String.init), "X..90"),
            ((7030...7039).map(String.init), "N3 X..27"), ((7230...7239).map(String.init), "X..30"),
            ((0...3).map { "394\($0)" }, "N4"),
        ]
        let measures = [310, 311, 312, 313, 314, 315, 316] + Array(320...329) + Array(330...337) + Array(340...349)
            + Array(350...357) + Array(360...369)
        rows.append((measures.flatMap { family in (0...5).map { "\(family)\($0)" } }, "N6"))
        rows.append(([390, 392].flatMap { family in (0...9).map { "\(family)\($0)" } }, "N..15"))
        rows.append(([391, 393].flatMap { family in (0...9).map { "\(family)\($0)" } }, "N3 N..15"))
        return rows
    }()

    /// The bits a layout part costs before its characters: fixed parts by length, variable parts by length field.
    static func signature(_ component: DigitalLinkCompressionTables.Component) -> String {
        switch component {
        case .fixedNumeric(let length): return "N\(length)"
        case .variableNumeric(let maximum): return "N~\(DigitalLinkCompressionTables.lengthBits(maximum: maximum))"
        case .fixedAlphanumeric(let length): return "X\(length)"
        case .variableAlphanumeric(let maximum): return "X~\(DigitalLinkCompressionTables.lengthBits(maximum: maximum))"
        }
    }

    static func parseLayout(_ text: String) -> [DigitalLinkCompressionTables.Component] {
        text.split(separator: " ").map { part in
            let numeric = part.first == "N"
            if part.dropFirst().hasPrefix("..") {
                let maximum = Int(part.dropFirst(3))!
                return numeric ? .variableNumeric(maximum: maximum) : .variableAlphanumeric(maximum: maximum)
            }
            let length = Int(part.dropFirst())!
            return numeric ? .fixedNumeric(length: length) : .fixedAlphanumeric(length: length)
        }
    }

    @Test func valueLayoutsMatchThePrototypeTable() throws {
        var checked = 0
        for row in Self.prototypeLayouts {
            let expected = Self.parseLayout(row.layout).map(Self.signature)
            for code in row.codes {
                let ai = try #require(ApplicationIdentifier.lookup(code), "AI \(code) missing from the AI table")
                #expect(DigitalLinkCompressionTables.format(of: ai).map(Self.signature) == expected, "AI \(code)")
                checked += 1
            }
        }
        #expect(checked > 300)
        for optimisation in DigitalLinkCompressionTables.optimisations {
            #expect(optimisation.ais.allSatisfy { ApplicationIdentifier.lookup($0) != nil }, "\(optimisation.code)")
        }
        #expect(DigitalLinkCompressionTables.optimisations.count == 52)
    }

    @Test func aiLengthsByPrefixMatchThePrototypeTable() {
        let prototype: [String: Int] = [
            "00": 2, "01": 2, "02": 2, "10": 2, "11": 2, "12": 2, "13": 2, "15": 2, "16": 2, "17": 2, "20": 2, "21": 2,
            "22": 2, "23": 3, "24": 3, "25": 3, "30": 2, "31": 4, "32": 4, "33": 4, "34": 4, "35": 4, "36": 4, "37": 2,
            "39": 4, "40": 3, "41": 3, "42": 3, "70": 4, "71": 3, "72": 4, "80": 4, "81": 4, "82": 4, "90": 2, "91": 2,
            "92": 2, "93": 2, "94": 2, "95": 2, "96": 2, "97": 2, "98": 2, "99": 2,
        ]
        for (prefix, length) in prototype {
            #expect(DigitalLinkCompressionTables.aiLengthByPrefix[prefix] == length, "prefix \(prefix)")
        }
    }

    @Test func bitCountsFollowTheTechnicalNote() {
        #expect([1, 2, 4, 8, 20, 30, 90].map(DigitalLinkCompressionTables.lengthBits) == [1, 2, 3, 4, 5, 5, 7])
        #expect([0, 1, 2, 3, 6, 13, 14, 18].map { DigitalLinkCompressionTables.valueBits(digits: $0) } == [1, 4, 7, 10, 20, 44, 47, 60])
    }
}
