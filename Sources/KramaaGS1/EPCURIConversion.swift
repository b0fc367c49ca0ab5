extension EPCURI {
    /// The AIs this URI stands for, with check digits computed and every value checked against its AI.
    /// An SGLN extension of "0" means "no extension" and gives no AI (254).
    public func elementString() throws(GS1Error) -> GS1ElementString {
        let cp = companyPrefix
        func key(_ digits: String) -> String { GS1CheckDigit.appending(to: digits) ?? digits }
        func gtin(_ itemReference: String) -> String {
            key(String(itemReference.prefix(1)) + cp + String(itemReference.dropFirst()))
        }
        var values: [AIValue]
        let c = components
        switch scheme {
        case .sgtin: values = [AIValue("01", gtin(c[0]))] + (c.count > 1 ? [AIValue("21", c[1])] : [])
        case .lgtin: values = [AIValue("01", gtin(c[0])), AIValue("10", c[1])]
        case .upui: values = [AIValue("01", gtin(c[0]))] + (c.count > 1 ? [AIValue("235", c[1])] : [])
        case .itip:
            values = [AIValue("8006", gtin(c[0]) + c[1] + c[2])] + (c.count > 3 ? [AIValue("21", c[3])] : [])
        case .sscc: values = [AIValue("00", key(String(c[0].prefix(1)) + cp + String(c[0].dropFirst())))]
        case .sgln: values = [AIValue("414", key(cp + c[0]))] + (c[1] == "0" ? [] : [AIValue("254", c[1])])
        case .grai: values = [AIValue("8003", "0" + key(cp + c[0]) + (c.count > 1 ? c[1] : ""))]
        case .gdti: values = [AIValue("253", key(cp + c[0]) + (c.count > 1 ? c[1] : ""))]
        case .sgcn: values = [AIValue("255", key(cp + c[0]) + (c.count > 1 ? c[1] : ""))]
        case .pgln: values = [AIValue("417", key(cp + c[0]))]
        case .gsrn: values = [AIValue("8018", key(cp + c[0]))]
        case .gsrnp: values = [AIValue("8017", key(cp + c[0]))]
        case .gsin: values = [AIValue("402", key(cp + c[0]))]
        case .giai: values = [AIValue("8004", cp + c[0])]
        case .ginc: values = [AIValue("401", cp + c[0])]
        case .cpi: values = [AIValue("8010", cp + c[0])] + (c.count > 1 ? [AIValue("8011", c[1])] : [])
        }
        let result = GS1ElementString(values)
        try result.validate()
        return result
    }

    /// The Digital Link for this URI under `stem`, values percent-encoded in the GS1 canonical way.
    public func digitalLink(stem: String = DigitalLink.canonicalStem) throws(GS1Error) -> DigitalLink {
        try DigitalLink(elementString: elementString(), stem: stem)
    }

    /// The Digital Link URI string for this URI under `stem`.
    public func digitalLinkURI(stem: String = DigitalLink.canonicalStem) throws(GS1Error) -> String {
        try digitalLink(stem: stem).uri()
    }

    /// The EPC URI for a Digital Link, given the length of the GS1 Company Prefix inside its key (a Digital
    /// Link does not carry it). Serialised links give pure identity URIs; links without a serial give
    /// the LGTIN class URI (GTIN + lot) or a pattern URI (`….*`). Check digits must be right.
    public init(digitalLink link: DigitalLink, companyPrefixLength length: Int) throws(GS1Error) {
        try link.elementString.validate()
        guard (6...12).contains(length) else {
            throw .invalidCompanyPrefixLength(length, reason: "it must be within 6...12")
        }
        let key = link.primaryKey.value
        let qualifiers = Dictionary(link.keyQualifiers.map { ($0.ai, $0.value) }, uniquingKeysWith: { first, _ in first })
        func prefix(of digits: String, from offset: Int) throws(GS1Error) -> String {
            let start = digits.index(digits.startIndex, offsetBy: offset)
            guard digits.distance(from: start, to: digits.endIndex) >= length else {
                throw .invalidCompanyPrefixLength(length, reason: "the key '\(digits)' is too short for it")
            }
            let cp = String(digits[start...].prefix(length))
            guard cp.isAllDigits else {
                throw .invalidCompanyPrefixLength(length, reason: "the first \(length) characters of '\(digits)' are not all digits")
            }
            return cp
        }
        /// Company prefix and "indicator + item reference" of a GTIN-14 (or the GTIN part of an ITIP).
        func split(gtin: String) throws(GS1Error) -> (String, String) {
            let cp = try prefix(of: gtin, from: 1)
            guard length <= 12 else { throw .invalidCompanyPrefixLength(length, reason: "too long for a GTIN") }
            let itemReference = String(gtin.prefix(1)) + String(gtin.dropFirst(1 + length).prefix(12 - length))
            return (cp, itemReference)
        }
        /// Company prefix and reference of a 12-digit key body (GLN, GRAI, GDTI, GCN without check digit).
        func split(body: String, digits: Int) throws(GS1Error) -> (String, String) {
            let cp = try prefix(of: body, from: 0)
            return (cp, String(body.dropFirst(length).prefix(digits - length)))
        }
        let scheme: Scheme, form: Form, cp: String, components: [String]
        switch link.primaryKey.ai {
        case "01":
            let (p, item) = try split(gtin: key)
            cp = p
            if let serial = qualifiers["21"] {
                (scheme, form, components) = (.sgtin, .id, [item, serial])
            } else if let tpx = qualifiers["235"] {
                (scheme, form, components) = (.upui, .id, [item, tpx])
            } else if let lot = qualifiers["10"] {
                (scheme, form, components) = (.lgtin, .class, [item, lot])
            } else {
                (scheme, form, components) = (.sgtin, .idpat, [item])
            }
        case "8006":
            let (p, item) = try split(gtin: String(key.prefix(14)))
            cp = p
            let piece = String(key.dropFirst(14).prefix(2)), total = String(key.suffix(2))
            if let serial = qualifiers["21"] {
                (scheme, form, components) = (.itip, .id, [item, piece, total, serial])
            } else {
                (scheme, form, components) = (.itip, .idpat, [item, piece, total])
            }
        case "00":
            cp = try prefix(of: key, from: 1)
            (scheme, form) = (.sscc, .id)
            components = [String(key.prefix(1)) + String(key.dropFirst(1 + length).prefix(16 - length))]
        case "414":
            let (p, reference) = try split(body: key, digits: 12)
            (cp, scheme, form, components) = (p, .sgln, .id, [reference, qualifiers["254"] ?? "0"])
        case "417":
            let (p, reference) = try split(body: key, digits: 12)
            (cp, scheme, form, components) = (p, .pgln, .id, [reference])
        case "8003":
            let (p, reference) = try split(body: String(key.dropFirst()), digits: 12)
            let serial = String(key.dropFirst(14))
            (cp, scheme) = (p, .grai)
            (form, components) = serial.isEmpty ? (.idpat, [reference]) : (.id, [reference, serial])
        case "253", "255":
            let (p, reference) = try split(body: key, digits: 12)
            let serial = String(key.dropFirst(13))
            (cp, scheme) = (p, link.primaryKey.ai == "253" ? .gdti : .sgcn)
            (form, components) = serial.isEmpty ? (.idpat, [reference]) : (.id, [reference, serial])
        case "8017", "8018", "402":
            let digits = link.primaryKey.ai == "402" ? 16 : 17
            let (p, reference) = try split(body: key, digits: digits)
            let schemes: [String: Scheme] = ["8017": .gsrnp, "8018": .gsrn, "402": .gsin]
            (cp, scheme, form, components) = (p, schemes[link.primaryKey.ai]!, .id, [reference])
        case "8004", "401":
            cp = try prefix(of: key, from: 0)
            guard key.count > length else {
                throw .invalidCompanyPrefixLength(length, reason: "nothing of '\(key)' is left after the company prefix")
            }
            (scheme, form, components) = (link.primaryKey.ai == "8004" ? .giai : .ginc, .id, [String(key.dropFirst(length))])
        case "8010":
            cp = try prefix(of: key, from: 0)
            let reference = String(key.dropFirst(length))
            if let serial = qualifiers["8011"] {
                (scheme, form, components) = (.cpi, .id, [reference, serial])
            } else {
                (scheme, form, components) = (.cpi, .idpat, [reference])
            }
        default:
            throw .noEPCScheme(primaryKey: link.primaryKey.ai)
        }
        self.init(scheme: scheme, form: form, companyPrefix: cp, components: components)
    }
}
