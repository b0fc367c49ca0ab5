import KramaaGS1
import KramaaJSON
import KramaaNFC
import KramaaPrimitives

/// The JSON shapes of the tag endpoints.
enum TagJSON {
    /// `{"verdict", "uid", "readCounter", "lastReadCounter"?, "tag"?, "asset", "qr"?}`.
    static func verification(_ v: Verification) -> JSON {
        var object: JSONObject = ["verdict": .string(v.verdict.rawValue)]
        if v.qr == nil {
            object["uid"] = v.uid.map { .string($0.description) } ?? .null
            object["readCounter"] = v.readCounter.map { .number(JSONNumber(UInt64($0))) } ?? .null
        }
        if let last = v.lastReadCounter { object["lastReadCounter"] = .number(JSONNumber(UInt64(last))) }
        if let tag = v.tag { object["tag"] = record(tag) }
        if let qr = v.qr {
            object["qr"] = ["item": .string(qr.item), "issuedAt": .number(JSONNumber(qr.issuedAt)), "nonce": .data(qr.nonce),
                            "signer": ["type": .string(qr.signer.type.rawValue), "publicKey": .data(qr.signer.bytes),
                                       "address": .string(qr.signer.address.checksummed)]]
        }
        object["asset"] = v.asset.map(asset) ?? .null
        return .object(object)
    }

    /// A registration without keys.
    static func record(_ r: TagRecord) -> JSON {
        ["uid": .string(r.uid.description), "mode": .string(r.mode.rawValue.lowercased()),
         "macInputStart": .string(MACInputStartName.name(r.macInputStart)),
         "organisation": .number(JSONNumber(r.organisation)), "encryptedPICCData": .bool(r.encryptedPICCData),
         "lastReadCounter": r.lastReadCounter.map { .number(JSONNumber(UInt64($0))) } ?? .null,
         "registeredAt": .number(JSONNumber(r.registeredAt))]
    }

    static func asset(_ a: AssetSummary) -> JSON {
        var object: JSONObject = [
            "tokenId": .string(Hex.encode(a.tokenId.bigEndianBytes)), "epc": .string(a.epc),
            "organisation": .number(JSONNumber(a.organisation)), "owner": .string(a.owner.checksummed),
            "custodian": .string(a.custodian.checksummed), "status": .string(a.status),
            "metadataHash": .string(Hex.encode(a.metadataHash.bytes)), "mintedAt": .number(JSONNumber(a.mintedAt)),
        ]
        if let link = try? EPCURI.parse(a.epc).digitalLinkURI() { object["digitalLink"] = .string(link) }
        return .object(object)
    }
}

/// The verification page a browser gets: self-contained HTML, no scripts or external resources.
enum TagPage {
    static func html(_ v: Verification) -> String {
        let (headline, colour, explanation) = switch v.verdict {
        case .genuine: ("Genuine", "#1b7f3b", v.qr == nil ? "This tag is authentic and this tap is new." : "This code was signed by the item's manufacturer.")
        case .tampered: ("Tampered", "#b3261e", v.qr == nil ? "The tag's message does not verify: the link was altered or forged." : "The code's signature does not verify: it was altered or forged.")
        case .replayed: ("Replayed", "#b3261e", "This link was used before: it is a copy of an earlier tap, not the tag itself. Tap the tag again.")
        case .unknown: ("Unknown", "#8a6d00", v.qr == nil ? "This tag is not registered on this node." : "No asset with this identifier is registered.")
        case .unknownSigner: ("Unknown signer", "#b3261e", "The code is signed, but not by a manufacturer of the item's organisation.")
        }
        var rows: [(String, String)] = []
        if let uid = v.uid { rows.append(("Tag UID", uid.description)) }
        if let counter = v.readCounter { rows.append(("Read counter", String(counter))) }
        if let last = v.lastReadCounter { rows.append(("Last accepted counter", String(last))) }
        if let qr = v.qr {
            rows.append(("Item", qr.item))
            rows.append(("Signed by", qr.signer.address.checksummed))
        }
        if let a = v.asset {
            rows += [("Asset (EPC)", a.epc), ("Token id", Hex.encode(a.tokenId.bigEndianBytes)), ("Organisation", String(a.organisation)),
                     ("Owner", a.owner.checksummed), ("Custodian", a.custodian.checksummed), ("Status", a.status),
                     ("Minted in block", String(a.mintedAt))]
        }
        let table = rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(headline) – Kramaa verification</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}
            .verdict{color:#fff;background:\(colour);padding:1rem 1.25rem;border-radius:.5rem;font-size:1.5rem;font-weight:600}
            table{border-collapse:collapse;width:100%;margin-top:1rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;word-break:break-all}
            th{width:40%;color:#555;font-weight:500}</style></head>
            <body><div class="verdict" data-verdict="\(v.verdict.rawValue)">\(headline)</div>
            <p>\(escape(explanation))</p>
            <table>
            \(table)
            </table></body></html>
            """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
