import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport

/// The NTAG 424 DNA vector files (`ntag424/` under the shared vectors), grouped by their `format`.
enum NTAGVectors {
    static let folder = "ntag424"
    static let knownFormats: Set<String> = ["ntag424-sdm-sun-vectors", "lrp-an12304-vectors", "sdm-backend-kdf-vectors"]

    /// Every file of the folder with its parsed top-level object and format.
    static func files() throws -> [(name: String, object: [String: Any], format: String)] {
        try Vectors.files(in: folder).map { url in
            let object = try #require(try Vectors.json(url) as? [String: Any], "\(Vectors.name(url)) is not a JSON object")
            return (Vectors.name(url), object, object["format"] as? String ?? "")
        }
    }

    /// The files of one format; at least one must exist.
    static func files(format: String) throws -> [(name: String, object: [String: Any])] {
        let found = try files().filter { $0.format == format }.map { ($0.name, $0.object) }
        try #require(!found.isEmpty, "no \(format) file under \(folder)")
        return found
    }
}

extension Dictionary where Key == String, Value == Any {
    /// A string field, required.
    func string(_ key: String, _ label: String) throws -> String {
        try #require(self[key] as? String, "\(label): missing string '\(key)'")
    }

    /// A hex field decoded, required.
    func hex(_ key: String, _ label: String) throws -> [UInt8] {
        try Hex.decode(string(key, label))
    }

    /// A hex field decoded, if present.
    func optionalHex(_ key: String) throws -> [UInt8]? {
        try (self[key] as? String).map { try Hex.decode($0) }
    }

    /// An object field, required.
    func object(_ key: String, _ label: String) throws -> [String: Any] {
        try #require(self[key] as? [String: Any], "\(label): missing object '\(key)'")
    }
}
