import Foundation
import KramaaPrimitives
import KramaaRPC
import KramaaTags

/// The consumer page's words in the reader's language: `?lang=` or the first supported tag of
/// `Accept-Language` (English, German, French), English otherwise. Every sentence is one entry
/// here, so a translation adds a column, not code.
struct ConsumerText {
    enum Language: String { case en, de, fr }

    let language: String
    private let l: Language

    init(_ request: HTTPRequest) {
        var chosen = Language.en
        let asked = [request.queryValue("lang")].compactMap { $0 }
            + (request.header("accept-language") ?? "").split(separator: ",").map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
        for tag in asked {
            if let found = Language(rawValue: String(tag.lowercased().prefix(2))) { chosen = found; break }
        }
        l = chosen
        language = chosen.rawValue
    }

    private func pick(_ en: String, _ de: String, _ fr: String) -> String {
        switch l { case .en: en; case .de: de; case .fr: fr }
    }

    var product: String { pick("Product", "Produkt", "Produit") }
    var brand: String { pick("Brand", "Marke", "Marque") }
    var item: String { pick("Item", "Artikel", "Article") }
    var status: String { pick("Status", "Status", "Statut") }
    var journey: String { pick("Journey", "Weg", "Parcours") }
    var checkTap: String { pick("Check this tap of the tag (genuine, tampered or replayed)", "Diesen Tag-Scan prüfen (echt, manipuliert oder wiederholt)",
                                "Vérifier cette lecture de l'étiquette (authentique, falsifiée ou rejouée)") }
    var links: String { pick("All links for this item", "Alle Links zu diesem Artikel", "Tous les liens de cet article") }
    var verifyYourself: String { pick("Verify it yourself", "Selbst prüfen", "Vérifiez vous-même") }
    var anchorReceipt: String {
        pick("Download the anchor receipt of its latest step (check it with kramaa anchor verify against the public chain)",
             "Den Anker-Beleg des letzten Schritts herunterladen (mit kramaa anchor verify gegen die öffentliche Kette prüfen)",
             "Télécharger le reçu d'ancrage de sa dernière étape (à vérifier avec kramaa anchor verify sur la chaîne publique)")
    }
    var verifyYourselfDetail: String {
        pick("Every step above is recorded on a shared ledger and finalised by several independent operators; each block is anchored on public chains. The links below check the tag and list the item's services.",
             "Jeder Schritt oben ist in einem gemeinsamen Register erfasst und von mehreren unabhängigen Betreibern bestätigt; jeder Block ist in öffentlichen Ketten verankert. Die Links unten prüfen den Tag und nennen die Dienste zum Artikel.",
             "Chaque étape ci-dessus est inscrite dans un registre partagé et validée par plusieurs opérateurs indépendants ; chaque bloc est ancré sur des chaînes publiques. Les liens ci-dessous vérifient l'étiquette et listent les services de l'article.")
    }
    var notAProductTitle: String { pick("This link does not name a product", "Dieser Link nennt kein Produkt", "Ce lien ne désigne aucun produit") }
    func notAProduct(_ path: String, _ why: String) -> String {
        pick("\(path) is not a GS1 Digital Link of a serialised item (/01/{GTIN}/21/{serial}): \(why)",
             "\(path) ist kein GS1 Digital Link eines serialisierten Artikels (/01/{GTIN}/21/{Seriennummer}): \(why)",
             "\(path) n'est pas un GS1 Digital Link d'un article sérialisé (/01/{GTIN}/21/{numéro de série}) : \(why)")
    }
    var unknownTitle: String { pick("Unknown item", "Unbekannter Artikel", "Article inconnu") }
    var unknownDetail: String {
        pick("No item with this identifier is registered by any brand on this network. Do not trust a product that claims to be it.",
             "Kein Artikel mit dieser Kennung ist von einer Marke in diesem Netz registriert. Trauen Sie keinem Produkt, das sich als dieser ausgibt.",
             "Aucun article portant cet identifiant n'est enregistré par une marque sur ce réseau. Ne faites pas confiance à un produit qui prétend l'être.")
    }
    func organisation(_ id: UInt64) -> String { pick("organisation \(id)", "Organisation \(id)", "organisation \(id)") }

    func statusName(_ status: String) -> String {
        switch status {
        case "recalled": pick("recalled", "zurückgerufen", "rappelé")
        case "destroyed": pick("destroyed", "vernichtet", "détruit")
        case "consumed": pick("consumed", "verbraucht", "consommé")
        case "active": pick("in circulation", "im Umlauf", "en circulation")
        default: status
        }
    }

    /// The verdict from the item's registry status alone (no tap: the record, not the item in hand).
    func registry(status: String, brand: String) -> (tone: String, headline: String, detail: String) {
        switch status {
        case "recalled": ("bad", pick("Recalled — do not use this item", "Zurückgerufen – Artikel nicht verwenden", "Rappelé — n'utilisez pas cet article"),
                          pick("\(brand) has recalled this item. Contact the seller or the brand.", "\(brand) hat diesen Artikel zurückgerufen. Wenden Sie sich an den Verkäufer oder die Marke.",
                               "\(brand) a rappelé cet article. Contactez le vendeur ou la marque."))
        case "destroyed": ("bad", pick("Reported destroyed", "Als vernichtet gemeldet", "Déclaré détruit"),
                           pick("This item was reported destroyed and should not be in circulation: its tag or code may have been reused.",
                                "Dieser Artikel wurde als vernichtet gemeldet und sollte nicht im Umlauf sein: sein Tag oder Code wurde womöglich wiederverwendet.",
                                "Cet article a été déclaré détruit et ne devrait pas circuler : son étiquette ou son code a peut-être été réutilisé."))
        case "consumed": ("warn", pick("Already consumed", "Bereits verbraucht", "Déjà consommé"),
                          pick("This item was recorded as used up or sold to its final user before.", "Dieser Artikel wurde bereits als verbraucht oder an den Endkunden verkauft erfasst.",
                               "Cet article a déjà été enregistré comme consommé ou vendu à son utilisateur final."))
        default: ("good", pick("Registered by \(brand)", "Registriert von \(brand)", "Enregistré par \(brand)"),
                  pick("This item is registered on the network and in circulation. Tap its tag to check that the item in your hand is the original.",
                       "Dieser Artikel ist im Netz registriert und im Umlauf. Scannen Sie seinen Tag, um zu prüfen, dass Sie das Original in der Hand halten.",
                       "Cet article est enregistré sur le réseau et en circulation. Touchez son étiquette pour vérifier que l'article en main est l'original."))
        }
    }

    /// The verdict of a tap of the item's tag, judged by `/verify`'s verifier (the tap is counted).
    func tap(_ v: Verification, item: UInt256) -> (tone: String, headline: String, detail: String) {
        if v.verdict == .genuine, let asset = v.asset, asset.tokenId != item {
            return ("bad", pick("This tag belongs to another item", "Dieser Tag gehört zu einem anderen Artikel", "Cette étiquette appartient à un autre article"),
                    pick("The tag is genuine but bound to \(asset.epc), not to this item: the label may have been moved.",
                         "Der Tag ist echt, aber an \(asset.epc) gebunden, nicht an diesen Artikel: das Etikett wurde womöglich versetzt.",
                         "L'étiquette est authentique mais liée à \(asset.epc), pas à cet article : elle a peut-être été déplacée."))
        }
        switch v.verdict {
        case .genuine: return ("good", pick("Genuine", "Echt", "Authentique"),
                               pick("This tap was made by the item's own tag, just now: the item in your hand is the original.",
                                    "Dieser Scan stammt gerade eben vom Tag des Artikels: Sie halten das Original in der Hand.",
                                    "Cette lecture vient à l'instant de l'étiquette de l'article : l'article en main est l'original."))
        case .tampered: return ("bad", pick("Tampered — not genuine", "Manipuliert – nicht echt", "Falsifié — non authentique"),
                                pick("The tag's message does not verify: the link was altered or forged.", "Die Nachricht des Tags ist nicht gültig: der Link wurde verändert oder gefälscht.",
                                     "Le message de l'étiquette n'est pas valide : le lien a été modifié ou falsifié."))
        case .replayed: return ("warn", pick("Replayed — tap the tag again", "Wiederholt – Tag erneut scannen", "Rejoué — touchez à nouveau l'étiquette"),
                                pick("This link was used before (a copy of an earlier tap). Tap the tag itself to get a fresh one.",
                                     "Dieser Link wurde schon benutzt (Kopie eines früheren Scans). Scannen Sie den Tag selbst für einen neuen.",
                                     "Ce lien a déjà servi (copie d'une lecture précédente). Touchez l'étiquette elle-même pour en obtenir un nouveau."))
        case .unknown, .unknownSigner: return ("warn", pick("Unknown tag", "Unbekannter Tag", "Étiquette inconnue"),
                                               pick("No brand on this network registered the tag that made this link.", "Keine Marke in diesem Netz hat den Tag dieses Links registriert.",
                                                    "Aucune marque de ce réseau n'a enregistré l'étiquette à l'origine de ce lien."))
        }
    }
}
