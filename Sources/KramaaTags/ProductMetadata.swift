import Foundation
import KramaaJSON

/// What a verification page can say about the product from an asset's token URI without
/// fetching anything: the `name` of ERC-721 metadata carried in a `data:application/json`
/// URI (plain, percent-encoded or base64). Other URIs name no product here (the node fetches
/// nothing at verification time).
public enum ProductMetadata {
    static func name(fromTokenURI uri: String) -> String? {
        guard let name = object(fromTokenURI: uri)?["name"]?.stringValue, !name.isEmpty else { return nil }
        return String(name.prefix(200))
    }

    /// The JSON object a `data:application/json` token URI carries, nil for any other URI.
    public static func object(fromTokenURI uri: String) -> JSON? {
        guard uri.hasPrefix("data:"), let comma = uri.firstIndex(of: ",") else { return nil }
        let header = uri[uri.index(uri.startIndex, offsetBy: 5)..<comma].lowercased()
        guard header.hasPrefix("application/json") else { return nil }
        let payload = uri[uri.index(after: comma)...]
        let bytes: [UInt8]
        if header.hasSuffix(";base64") {
            guard let data = Data(base64Encoded: String(payload)) else { return nil }
            bytes = Array(data)
        } else {
            guard let text = String(payload).removingPercentEncoding else { return nil }
            bytes = Array(text.utf8)
        }
        guard let object = try? JSON.parse(bytes), case .object = object else { return nil }
        return object
    }

    /// The limits a brand sets on its product's sensor readings (`sensorLimits` in the metadata:
    /// `{"Temperature": {"min": 2, "max": 8}}`, by measurement type's last word), for the charts
    /// that mark breaches.
    public static func sensorLimits(_ metadata: JSON?) -> [String: (low: Double?, high: Double?)] {
        guard case .object(let limits)? = metadata?["sensorLimits"] else { return [:] }
        var out: [String: (low: Double?, high: Double?)] = [:]
        for (type, value) in limits {
            out[type] = (value["min"]?.numberValue?.double, value["max"]?.numberValue?.double)
        }
        return out
    }
}
