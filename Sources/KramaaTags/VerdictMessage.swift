/// What a consumer must be told about a verification, first things first: the headline, how
/// alarming it is, and one sentence of explanation. One place decides it for the page and for
/// the JSON answer (`message`), so an app shows what the page shows.
///
/// A genuine tag on an item that was recalled, destroyed or consumed is never shown as a plain
/// green "Genuine": what happened to the item comes first. A signed QR code is a "genuine
/// code", with the warning that a printed code can be copied, unlike a tag's tap.
public struct VerdictMessage: Sendable, Equatable {
    public enum Tone: String, Sendable {
        /// Authentic, nothing to worry about.
        case good
        /// Authentic, but read the explanation (a copyable code, a consumed item).
        case caution
        /// Do not trust or use the item.
        case bad
    }

    public let headline: String
    public let tone: Tone
    public let explanation: String

    public init(_ v: Verification) {
        let isCode = v.qr != nil
        switch v.verdict {
        case .genuine:
            switch v.asset?.status {
            case "recalled"?:
                (headline, tone, explanation) = (isCode ? "Genuine code — this item was recalled" : "Genuine tag — this item was recalled", .bad,
                                                 "Do not use this item: its maker has recalled it. Contact the seller or the brand.")
            case "destroyed"?:
                (headline, tone, explanation) = (isCode ? "Genuine code — this item was reported destroyed" : "Genuine tag — this item was reported destroyed",
                                                 .bad, "An item reported destroyed should not be in circulation: its tag or code may have been reused. Report where you found it.")
            case "consumed"?:
                (headline, tone, explanation) = (isCode ? "Genuine code — this item was already consumed" : "Genuine tag — this item was already consumed",
                                                 .caution, "This item was recorded as used up or sold to its final user before; a tag seen again may be on reused packaging.")
            default:
                if isCode {
                    (headline, tone, explanation) = ("Genuine code", .caution,
                                                     "This code was signed by the item's manufacturer. A printed code can be copied: unlike a tap on an NFC tag, it does not prove that this is the original item.")
                } else {
                    (headline, tone, explanation) = ("Genuine", .good, "This tag is authentic and this tap is new.")
                }
            }
        case .tampered:
            (headline, tone, explanation) = ("Tampered", .bad, isCode ? "The code's signature does not verify: it was altered or forged."
                                                                      : "The tag's message does not verify: the link was altered or forged.")
        case .replayed:
            (headline, tone, explanation) = ("Replayed", .bad, "This link was used before: it is a copy of an earlier tap, not the tag itself. Tap the tag again.")
        case .unknown:
            (headline, tone, explanation) = ("Unknown", .caution, isCode ? "No item with this identifier is registered."
                                                                         : "This tag is not registered here by the organisation of the item it is attached to.")
        case .unknownSigner:
            (headline, tone, explanation) = ("Unknown signer", .bad, "The code is signed, but not by a manufacturer of the item's organisation.")
        }
    }
}
