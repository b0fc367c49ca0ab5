import KramaaGS1
import KramaaJSON
import KramaaNFC
import KramaaPrimitives

/// The JSON shapes of the tag endpoints.
enum TagJSON {
    /// `{"verdict", "uid", "readCounter", "lastReadCounter"?, "tag"?, "asset", "qr"?}`.
    static func verification(_ v: Verification) -> JSON {
        let message = VerdictMessage(v)
        var object: JSONObject = ["verdict": .string(v.verdict.rawValue),
                                  "message": ["headline": .string(message.headline), "tone": .string(message.tone.rawValue),
                                              "explanation": .string(message.explanation)]]
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
         "urlLayout": r.urlLayout.map { .string($0.template) } ?? .null,
         "organization": .number(JSONNumber(r.organisation)), "encryptedPICCData": .bool(r.encryptedPICCData),
         "lastReadCounter": r.lastReadCounter.map { .number(JSONNumber(UInt64($0))) } ?? .null,
         "registeredAt": .string(RFC3339.string(secondsSince1970: r.registeredAt)),
         // Deprecated spelling, kept readable for one release.
         "organisation": .number(JSONNumber(r.organisation))]
    }

    static func asset(_ a: AssetSummary) -> JSON {
        var object: JSONObject = [
            "tokenId": .string(Hex.encode(a.tokenId.bigEndianBytes)), "epc": .string(a.epc),
            "organization": .number(JSONNumber(a.organisation)), "owner": .string(a.owner.checksummed),
            "custodian": .string(a.custodian.checksummed), "status": .string(a.status),
            "metadataHash": .string(Hex.encode(a.metadataHash.bytes)), "mintedAtBlock": .number(JSONNumber(a.mintedAt)),
            // Deprecated spelling, kept readable for one release.
            "organisation": .number(JSONNumber(a.organisation)),
        ]
        if let link = try? EPCURI.parse(a.epc).digitalLinkURI() { object["digitalLink"] = .string(link) }
        if let name = a.organisationName { object["organizationName"] = .string(name) }
        if let name = a.productName { object["productName"] = .string(name) }
        return .object(object)
    }
}

/// The verification page a browser gets: self-contained HTML, no scripts or external resources.
enum TagPage {
    static func html(_ v: Verification) -> String {
        let message = VerdictMessage(v)
        var rows: [(String, String)] = []
        if let a = v.asset {
            if let product = a.productName { rows.append(("Product", product)) }
            rows.append(("Brand", a.organisationName ?? "organisation \(a.organisation)"))
            rows.append(("Item", itemDescription(a.epc)))
            rows.append(("Status", a.status))
            rows.append(("Registered on chain", "block \(a.mintedAt)"))
        } else if let qr = v.qr {
            rows.append(("Item", itemDescription(qr.item)))
        }
        if let uid = v.uid { rows.append(("Tag", uid.description)) }
        if let counter = v.readCounter { rows.append(("Tap number", String(counter))) }
        if let last = v.lastReadCounter { rows.append(("Last accepted tap", String(last))) }
        if let qr = v.qr { rows.append(("Signed by", qr.signer.address.checksummed)) }
        return page(title: message.headline, tone: message.tone, attributes: #"data-verdict="\#(v.verdict.rawValue)""#,
                    explanation: message.explanation, rows: rows)
    }

    /// The page for an answer that is not a verdict (a malformed link, the node unable to
    /// answer): a browser gets a page for every answer.
    static func errorPage(status: Int, detail: String) -> String {
        let title = status >= 500 ? "Cannot verify right now" : "This link cannot be verified"
        let advice = status >= 500 ? "The verification service could not answer. Try again in a moment." : "The link is incomplete or malformed. Tap the tag again, or scan the code again."
        return page(title: title, tone: .caution, attributes: #"data-status="\#(status)""#, explanation: advice, rows: [("Detail", detail)])
    }

    /// `GTIN 10614141073464, serial 2017` for an SGTIN; the identifier itself otherwise.
    static func itemDescription(_ epc: String) -> String {
        guard let link = try? EPCURI.parse(epc).digitalLinkURI(), let parsed = try? DigitalLink.parse(link) else { return epc }
        let gtin = parsed.primaryKey.value
        let serial = parsed.keyQualifiers.first { $0.ai == "21" }?.value
        return parsed.primaryKey.ai == "01" ? "GTIN \(gtin)" + (serial.map { ", serial \($0)" } ?? "") : epc
    }

    static let colours: [VerdictMessage.Tone: String] = [.good: "#1b7f3b", .caution: "#8a6d00", .bad: "#b3261e"]

    private static func page(title: String, tone: VerdictMessage.Tone, attributes: String, explanation: String, rows: [(String, String)]) -> String {
        let table = rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) – Kramaa verification</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}
            .verdict{color:#fff;background:\(colours[tone]!);padding:1rem 1.25rem;border-radius:.5rem;font-size:1.5rem;font-weight:600}
            table{border-collapse:collapse;width:100%;margin-top:1rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;word-break:break-word}
            th{width:40%;color:#555;font-weight:500}</style></head>
            <body><div class="verdict" \(attributes) data-tone="\(tone.rawValue)">\(escape(title))</div>
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
