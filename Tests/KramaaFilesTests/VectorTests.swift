import Foundation
import KramaaFiles
import KramaaTestSupport
import XCTest

/// Every case of `$KRAMAA_VECTORS/cid`: UnixFS files and directories, codec fixtures, negative
/// fixtures, multihash rows and CID parsing samples. Cases are read at run time, so cases
/// appended later run too.
final class VectorTests: XCTestCase {
    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = text.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!)
        }
        return out
    }

    static func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func object(_ file: String) throws -> [String: Any] {
        try XCTUnwrap(Vectors.json(try Vectors.folder("cid").appendingPathComponent(file)) as? [String: Any])
    }

    /// The named inputs of unixfs_vectors.json, checked against their stated length and sha256.
    func inputs() throws -> [String: [UInt8]] {
        let vectors = try object("unixfs_vectors.json")
        var out: [String: [UInt8]] = [:]
        for (name, value) in try XCTUnwrap(vectors["inputs"] as? [String: Any]) {
            let input = try XCTUnwrap(value as? [String: Any])
            var bytes: [UInt8]
            if let external = input["external_file"] as? String {
                let data = try object(external)
                bytes = Array(try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(data["data_base64"] as? String))))
            } else {
                bytes = Self.hex(try XCTUnwrap(input["hex"] as? String))
            }
            if let length = input["length"] { XCTAssertEqual("\(length)", "\(bytes.count)", name) }
            if let sha = input["sha256"] as? String { XCTAssertEqual(Multihash.sha256(bytes).digest, Self.hex(sha), name) }
            out[name] = bytes
        }
        return out
    }

    static func profile(_ params: [String: Any]) throws -> ImportProfile {
        var p = ImportProfile.kuboV1
        p.name = "vector"
        p.cidVersion = (params["cid_version"] as? Int) ?? 1
        p.rawLeaves = (params["raw_leaves"] as? Bool) ?? true
        if let chunker = params["chunker"] as? String, chunker.hasPrefix("size-") { p.chunkSize = Int(chunker.dropFirst(5))! }
        if let links = params["max_links"] as? Int { p.maxLinks = links }
        switch params["hash"] as? String ?? "sha2-256" {
        case "sha2-256": p.hash = Multihash.sha2_256
        case "sha2-512": p.hash = Multihash.sha2_512
        case let other: throw FilesError.unsupportedHash(other)
        }
        XCTAssertEqual(params["layout"] as? String ?? "balanced", "balanced")
        return p
    }

    static func importFile(_ bytes: [UInt8], profile: ImportProfile, into sink: inout MemoryBlocks) throws -> ImportedNode {
        var builder = FileBuilder(profile: profile, sink: sink)
        // Fed in uneven pieces, as a reader would.
        var offset = 0, step = 1000
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            try builder.append(Array(bytes[offset..<end]))
            offset = end
            step = step * 3 + 7
        }
        let root = try builder.finish()
        sink = builder.sink
        return root
    }

    func testUnixFSFileVectors() throws {
        let inputs = try inputs()
        let vectors = try XCTUnwrap(try object("unixfs_vectors.json")["file_vectors"] as? [[String: Any]])
        XCTAssertFalse(vectors.isEmpty)
        for vector in vectors {
            let id = vector["id"] as? String ?? "?"
            let profile = try Self.profile(try XCTUnwrap(vector["params"] as? [String: Any]))
            var blocks = MemoryBlocks()
            let root = try Self.importFile(try XCTUnwrap(inputs[vector["input"] as! String]), profile: profile, into: &blocks)
            let expected = try CID(try XCTUnwrap(vector["cid"] as? String))
            XCTAssertEqual(root.cid, expected, id)
            // Read back through the exporter: the same bytes.
            var out: [UInt8] = []
            try UnixFSReader(source: blocks).read(root.cid) { out += $0 }
            XCTAssertEqual(out, inputs[vector["input"] as! String]!, id)
            try checkDetails(vector["cid_details"] as? [String: Any], id: id)
        }
    }

    func checkDetails(_ details: [String: Any]?, id: String) throws {
        guard let details else { return }
        let cid = try CID(try XCTUnwrap(details["cid"] as? String))
        XCTAssertEqual(cid.version, details["version"] as? Int, id)
        XCTAssertEqual(cid.codec, UInt64(details["codec_code"] as! Int), id)
        if let name = details["codec"] as? String { XCTAssertEqual(cid.codecName, name, id) }
        XCTAssertEqual(cid.multihash.code, UInt64(details["multihash_code"] as! Int), id)
        if let name = details["multihash_name"] as? String { XCTAssertEqual(cid.multihash.name, name, id) }
        if let hex = details["digest_hex"] as? String { XCTAssertEqual(cid.multihash.digest, Self.hex(hex), id) }
        if let hex = details["cid_bytes_hex"] as? String { XCTAssertEqual(cid.bytes, Self.hex(hex), id) }
        if let v1 = details["as_cidv1_base32"] as? String { XCTAssertEqual(cid.v1.string, v1, id) }
        for (key, base) in [("base32", Multibase.base32), ("base58btc", .base58btc), ("base16", .base16)] {
            if let text = details[key] as? String {
                XCTAssertEqual(cid.string(base), text, "\(id) \(key)")
                XCTAssertEqual(try CID(text), cid, "\(id) \(key)")
            }
        }
    }

    static func importTree(_ tree: [String: Any], inputs: [String: [UInt8]], profile: ImportProfile, into sink: inout MemoryBlocks) throws -> ImportedNode {
        var entries: [DirectoryBuilder.Entry] = []
        for (key, value) in tree {
            if key.hasSuffix("/") {
                let sub = try importTree(value as! [String: Any], inputs: inputs, profile: profile, into: &sink)
                entries.append(.init(name: String(key.dropLast()), node: sub))
            } else {
                entries.append(.init(name: key, node: try importFile(inputs[value as! String]!, profile: profile, into: &sink)))
            }
        }
        return try DirectoryBuilder.build(entries, profile: profile, sink: &sink)
    }

    func testUnixFSDirectoryVectors() throws {
        let inputs = try inputs()
        let vectors = try XCTUnwrap(try object("unixfs_vectors.json")["directory_vectors"] as? [[String: Any]])
        XCTAssertFalse(vectors.isEmpty)
        for vector in vectors {
            let id = vector["id"] as? String ?? "?"
            let profile = try Self.profile(try XCTUnwrap(vector["params"] as? [String: Any]))
            var blocks = MemoryBlocks()
            let root = try Self.importTree(try XCTUnwrap(vector["tree"] as? [String: Any]), inputs: inputs, profile: profile, into: &blocks)
            XCTAssertEqual(root.cid.string, vector["cid"] as? String, id)
            try checkDetails(vector["cid_details"] as? [String: Any], id: id)
            // Every block is reachable and in a CAR that reads back verified.
            var car = CAR.header(roots: [root.cid])
            var seen = Set<CID>()
            try DAGWalker(source: blocks).walk(root.cid, skipping: &seen) { car += CAR.section($0, $1) }
            XCTAssertEqual(seen.count, blocks.blocks.count, id)
            var reader = CARReader()
            reader.feed(car)
            var count = 0
            while try reader.next() != nil { count += 1 }
            try reader.finish()
            XCTAssertEqual(count, seen.count, id)
            XCTAssertEqual(reader.roots, [root.cid])
        }
    }

    func testCodecFixtures() throws {
        let fixtures = try XCTUnwrap(try object("ipld_codec_fixtures.json")["fixtures"] as? [[String: Any]])
        XCTAssertFalse(fixtures.isEmpty)
        var byFixture: [String: [(codec: String, cid: CID, value: IPLD)]] = [:]
        for fixture in fixtures {
            let name = fixture["fixture"] as? String ?? "?"
            let codec = try XCTUnwrap(fixture["codec"] as? String)
            let bytes = Self.hex(try XCTUnwrap(fixture["bytes_hex"] as? String))
            let cid = try CID(try XCTUnwrap(fixture["cid"] as? String))
            if let length = fixture["byte_length"] as? Int { XCTAssertEqual(bytes.count, length, name) }
            XCTAssertNoThrow(try cid.verify(bytes), "\(name) \(codec)")
            let value: IPLD
            let reencoded: [UInt8]
            switch codec {
            case "dag-cbor":
                XCTAssertEqual(cid.codec, CID.dagCBOR)
                value = try DagCBOR.decode(bytes)
                reencoded = try DagCBOR.encode(value)
            case "dag-json":
                XCTAssertEqual(cid.codec, CID.dagJSON)
                value = try DagJSON.decode(bytes)
                reencoded = try DagJSON.encode(value)
            case "dag-pb":
                XCTAssertEqual(cid.codec, CID.dagPB)
                let node = try PBNode(decoding: bytes)
                value = node.ipld
                reencoded = try PBNode(ipld: value).encoded()
            default:
                XCTFail("\(name): codec \(codec) has no decoder here")
                continue
            }
            XCTAssertEqual(reencoded, bytes, "\(name) \(codec) does not round-trip")
            byFixture[name, default: []].append((codec, cid, value))
        }
        // The same data model value, encoded in each other codec of its fixture, gives that codec's CID.
        for (name, forms) in byFixture {
            for source in forms {
                for target in forms where target.codec != source.codec {
                    let bytes: [UInt8]
                    switch target.codec {
                    case "dag-cbor": bytes = try DagCBOR.encode(source.value)
                    case "dag-json": bytes = try DagJSON.encode(source.value)
                    default: bytes = try PBNode(ipld: source.value).encoded()
                    }
                    XCTAssertEqual(CID.v1(target.cid.codec, hashing: bytes), target.cid, "\(name): \(source.codec) → \(target.codec)")
                }
            }
        }
    }

    func testNegativeCodecFixtures() throws {
        let files = try Vectors.files(in: "cid/ipld_codec_negative_fixtures")
        for file in files {
            let parts = file.deletingPathExtension().lastPathComponent.components(separatedBy: "__")
            XCTAssertEqual(parts.count, 3, "\(file.lastPathComponent): expected <codec>__<encode|decode>__<name>.json")
            let (codec, direction) = (parts[0], parts[1])
            guard case .list(let cases) = try DagJSON.decode(Array(try Data(contentsOf: file))) else { XCTFail("\(file) is not a list"); continue }
            XCTAssertFalse(cases.isEmpty)
            for testCase in cases {
                let name = "\(file.lastPathComponent): \(testCase["name"].map { "\($0)" } ?? "?")"
                if direction == "decode" {
                    guard case .string(let hex)? = testCase["hex"] else { XCTFail("\(name): no hex"); continue }
                    let bytes = Self.hex(hex)
                    XCTAssertThrowsError(try Self.decode(bytes, codec: codec), name)
                } else {
                    guard let value = testCase["dag-json"] else { XCTFail("\(name): no dag-json value"); continue }
                    XCTAssertThrowsError(try Self.encode(value, codec: codec), name)
                }
            }
        }
    }

    static func decode(_ bytes: [UInt8], codec: String) throws {
        switch codec {
        case "dag-cbor": _ = try DagCBOR.decode(bytes)
        case "dag-json": _ = try DagJSON.decode(bytes)
        case "dag-pb": _ = try PBNode(decoding: bytes)
        default: XCTFail("no decoder for \(codec)")
        }
    }

    static func encode(_ value: IPLD, codec: String) throws {
        switch codec {
        case "dag-cbor": _ = try DagCBOR.encode(value)
        case "dag-json": _ = try DagJSON.encode(value)
        case "dag-pb": _ = try PBNode(ipld: value).encoded()
        default: XCTFail("no encoder for \(codec)")
        }
    }

    func testMultihashCases() throws {
        let text = try String(contentsOf: try Vectors.folder("cid").appendingPathComponent("multihash_test_cases.csv"), encoding: .utf8)
        var rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.removeFirst(), ["algorithm", "bits", "input", "multihash"])
        XCTAssertFalse(rows.isEmpty)
        var computed = 0
        for row in rows {
            // The input column is the text hashed (its UTF-8 bytes), though it looks like hex.
            let (algorithm, bits, input, expected) = (row[0], Int(row[1])!, Array(row[2].utf8), Self.hex(row[3]))
            let parsed = try Multihash(bytes: expected)
            XCTAssertEqual(parsed.bytes, expected, row.joined(separator: ","))
            XCTAssertEqual(parsed.digest.count * 8, bits, row.joined(separator: ","))
            // The file names every SHA-3 row "sha3"; the multihash code says which one.
            if algorithm == "sha3" { XCTAssertTrue(parsed.name.hasPrefix("sha3-"), row.joined(separator: ",")) } else { XCTAssertEqual(parsed.name, algorithm) }
            if Self.computable(parsed.code) {
                XCTAssertTrue(try parsed.verifies(input), row.joined(separator: ","))
                let full = try Multihash(hashing: input, code: parsed.code)
                XCTAssertEqual(Array(full.digest.prefix(bits / 8)), parsed.digest)
                computed += 1
            } else {
                XCTAssertTrue(parsed.name.hasPrefix("sha3"), "\(algorithm) should be computed")
                let refused = Result { try parsed.verifies(input) }
                guard case .failure(let error) = refused, "\(error)".contains("unsupported hash function") else {
                    XCTFail("\(algorithm): expected a clear unsupported-hash error"); continue
                }
            }
        }
        XCTAssertGreaterThan(computed, 0)
    }

    static func computable(_ code: UInt64) -> Bool {
        [Multihash.sha1, Multihash.sha2_256, Multihash.sha2_512, Multihash.identity].contains(code)
    }

    func testCIDBasicVectors() throws {
        let vectors = try object("cid_basic_vectors.json")
        let inputs = try inputs()
        let raws = try XCTUnwrap(vectors["raw_codec_cids"] as? [[String: Any]])
        XCTAssertFalse(raws.isEmpty)
        for raw in raws {
            let bytes = try XCTUnwrap(inputs[raw["input"] as! String])
            XCTAssertEqual(raw["hash"] as? String, "sha2-256")
            let cid = CID.v1(CID.raw, hashing: bytes)
            XCTAssertEqual(cid.string, raw["cid_base32"] as? String)
            XCTAssertEqual(cid.string(.base58btc), raw["cid_base58btc"] as? String)
            XCTAssertEqual(cid.string(.base16), raw["cid_base16"] as? String)
            for key in ["cid_base32", "cid_base58btc", "cid_base16"] { XCTAssertEqual(try CID(raw[key] as! String), cid) }
        }
        let samples = try XCTUnwrap(vectors["cid_parsing"] as? [[String: Any]])
        XCTAssertFalse(samples.isEmpty)
        for sample in samples { try checkDetails(sample, id: sample["cid"] as? String ?? "?") }
    }
}
