import Foundation
import KramaaJSON

/// What a verification page can say about the product from an asset's token URI without
/// fetching anything: the `name` of ERC-721 metadata carried in a `data:application/json`
/// URI (plain, percent-encoded or base64). Other URIs name no product here (the node fetches
/// nothing at verification time).
enum ProductMetadata {
    static func name(fromTokenURI uri: String) -> String? {
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
        guard let name = (try? JSON.parse(bytes))?["name"]?.stringValue, !name.isEmpty else { return nil }
        return String(name.prefix(200))
    }
}
