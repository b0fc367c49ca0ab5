/// The GS1 Application Identifier table (GS1 General Specifications, as described by the GS1 Barcode
/// Syntax Dictionary): formats, checks, exclusive pairs and Digital Link roles.
///
/// Each row is `AI [*] components | attributes | title` (`-` for no attributes): `*` marks a predefined-length AI (no FNC1
/// separator); components are `N`/`X`/`Y`/`Z` + length (`N13`, `X..20`), optional ones in brackets, each with
/// `,check` names; attributes are `dlpkey[=q1,q2|alt]` (Digital Link primary key and its ordered key
/// qualifiers), `ex=…` (exclusive AIs), `alpha=…` (Digital Link short name) and `noattr` (not a Digital Link
/// data attribute). Requisite-AI associations ("req") are not applied by this module.
enum ApplicationIdentifierTable {
    static let rows: [String] = [
        "00 * N18,csum,key | dlpkey alpha=sscc | SSCC",
        "01 * N14,csum,key | ex=02,255,37 dlpkey=22,10,21|235 alpha=gtin | GTIN",
        "02 * N14,csum,key | - | CONTENT",
        "10 X..20 | alpha=lot | BATCH/LOT",
        "11 * N6,yymmd0 | - | PROD DATE",
        "12 * N6,yymmd0 | - | DUE DATE",
        "13 * N6,yymmd0 | - | PACK DATE",
        "15 * N6,yymmd0 | - | BEST BEFORE or BEST BY",
        "16 * N6,yymmd0 | - | SELL BY",
        "17 * N6,yymmd0 | - | USE BY or EXPIRY",
        "20 * N2 | - | VARIANT",
        "21 X..20 | ex=235 alpha=ser | SERIAL",
        "22 X..20 | ex=235 alpha=cpv | CPV",
        "235 X..28 | - | TPX",
        "240 X..30 | - | ADDITIONAL ID",
        "241 X..30 | - | CUST. PART No.",
        "242 N..6 | - | MTO VARIANT",
        "243 X..20 | - | PCN",
        "250 X..30 | - | SECONDARY SERIAL",
        "251 X..30 | - | REF. TO SOURCE",
        "253 N13,csum,key [X..17] | dlpkey alpha=gdti | GDTI",
        "254 X..20 | alpha=glnx | GLN EXTENSION COMPONENT",
        "255 N13,csum,key [N..12] | dlpkey ex=01,02,415,8006,8020,8026 alpha=gcn | GCN",
        "30 N..8 | - | VAR. COUNT",
        "37 N..8 | - | COUNT",
        "400 X..30 | - | ORDER NUMBER",
        "401 X..30,key | dlpkey alpha=ginc | GINC",
        "402 N17,csum,key | dlpkey alpha=gsin | GSIN",
        "403 X..30 | - | ROUTE",
        "410 * N13,csum,key | - | SHIP TO LOC",
        "411 * N13,csum,key | - | BILL TO",
        "412 * N13,csum,key | - | PURCHASE FROM",
        "413 * N13,csum,key | - | SHIP FOR LOC",
        "414 * N13,csum,key | dlpkey=254|7040 alpha=gln | LOC No.",
        "415 * N13,csum,key | dlpkey=8020 | PAY TO",
        "416 * N13,csum,key | - | PROD/SERV LOC",
        "417 * N13,csum,key | dlpkey=7040 alpha=party | PARTY",
        "420 X..20 | ex=421 | SHIP TO POST",
        "421 N3 X..9 | ex=4307 | SHIP TO POST",
        "422 N3 | ex=426 | ORIGIN",
        "423 N..15 | ex=426 | COUNTRY - INITIAL PROCESS",
        "424 N3 | ex=426 | COUNTRY - PROCESS",
        "425 N..15 | ex=426 | COUNTRY - DISASSEMBLY",
        "426 N3 | - | COUNTRY - FULL PROCESS",
        "427 X..3 | - | ORIGIN SUBDIVISION",
        "4300 X..35 | - | SHIP TO COMP", "4301 X..35 | - | SHIP TO NAME", "4302 X..70 | - | SHIP TO ADD1",
        "4303 X..70 | - | SHIP TO ADD2", "4304 X..70 | - | SHIP TO SUB", "4305 X..70 | - | SHIP TO LOC",
        "4306 X..70 | - | SHIP TO REG", "4307 X2 | - | SHIP TO COUNTRY", "4308 X..30 | - | SHIP TO PHONE",
        "4309 N10 N10 | - | SHIP TO GEO",
        "4310 X..35 | - | RTN TO COMP", "4311 X..35 | - | RTN TO NAME", "4312 X..70 | - | RTN TO ADD1",
        "4313 X..70 | - | RTN TO ADD2", "4314 X..70 | - | RTN TO SUB", "4315 X..70 | - | RTN TO LOC",
        "4316 X..70 | - | RTN TO REG", "4317 X2 | - | RTN TO COUNTRY", "4318 X..20 | - | RTN TO POST",
        "4319 X..30 | - | RTN TO PHONE", "4320 X..35 | - | SRV DESCRIPTION",
        "4321 N1,yesno | - | DANGEROUS GOODS", "4322 N1,yesno | - | AUTH TO LEAVE", "4323 N1,yesno | - | SIG REQUIRED",
        "4324 N6,yymmd0 N4,hhmm | - | NOT BEF DEL DT", "4325 N6,yymmd0 N4,hhmm | - | NOT AFT DEL DT",
        "4326 N6,yymmdd | - | REL DATE",
        "4330 N6 [X1] | ex=4331 | MAX TEMP F.", "4331 N6 [X1] | ex=4330 | MAX TEMP C.",
        "4332 N6 [X1] | ex=4333 | MIN TEMP F.", "4333 N6 [X1] | ex=4332 | MIN TEMP C.",
        "7001 N13 | - | NSN", "7002 X..30 | - | MEAT CUT", "7003 N6,yymmdd N4,hhmm | - | EXPIRY TIME",
        "7004 N..4 | - | ACTIVE POTENCY", "7005 X..12 | - | CATCH AREA", "7006 N6,yymmdd | - | FIRST FREEZE DATE",
        "7007 N6,yymmdd [N6],yymmdd | - | HARVEST DATE", "7008 X..3 | - | AQUATIC SPECIES",
        "7009 X..10 | - | FISHING GEAR TYPE", "7010 X..2 | - | PROD METHOD",
        "7011 N6,yymmdd [N4],hhmm | - | TEST BY DATE",
        "7020 X..20 | - | REFURB LOT", "7021 X..20 | - | FUNC STAT", "7022 X..20 | - | REV STAT",
        "7023 X..30,key | - | GIAI - ASSEMBLY",
        "7030 N3 X..27 | - | PROCESSOR # 0", "7031 N3 X..27 | - | PROCESSOR # 1", "7032 N3 X..27 | - | PROCESSOR # 2",
        "7033 N3 X..27 | - | PROCESSOR # 3", "7034 N3 X..27 | - | PROCESSOR # 4", "7035 N3 X..27 | - | PROCESSOR # 5",
        "7036 N3 X..27 | - | PROCESSOR # 6", "7037 N3 X..27 | - | PROCESSOR # 7", "7038 N3 X..27 | - | PROCESSOR # 8",
        "7039 N3 X..27 | - | PROCESSOR # 9",
        "7040 N1 X1 X1 X1 | - | UIC+EXT", "7041 X..4 | - | UFRGT",
        "710 X..20 | - | NHRN PZN", "711 X..20 | - | NHRN CIP", "712 X..20 | - | NHRN CN", "713 X..20 | - | NHRN DRN",
        "714 X..20 | - | NHRN AIM", "715 X..20 | - | NHRN NDC", "716 X..20 | - | NHRN AIC",
        "7230 X2 X..28 | - | CERT # 1", "7231 X2 X..28 | - | CERT # 2", "7232 X2 X..28 | - | CERT # 3",
        "7233 X2 X..28 | - | CERT # 4", "7234 X2 X..28 | - | CERT # 5", "7235 X2 X..28 | - | CERT # 6",
        "7236 X2 X..28 | - | CERT # 7", "7237 X2 X..28 | - | CERT # 8", "7238 X2 X..28 | - | CERT # 9",
        "7239 X2 X..28 | - | CERT # 10",
        "7240 X..20 | - | PROTOCOL", "7241 N2 | - | AIDC MEDIA TYPE", "7242 X..25 | - | VCN",
        "7250 N8 | - | DOB", "7251 N12 | - | DOB TIME", "7252 N1 | - | BIO SEX", "7253 X..40 | - | FAMILY NAME",
        "7254 X..40 | - | GIVEN NAME", "7255 X..10 | - | SUFFIX", "7256 X..90 | - | FULL NAME",
        "7257 X..70 | - | PERSON ADDR", "7258 N1 X1 N1 | - | BIRTH SEQUENCE", "7259 X..40 | - | BABY",
        "8001 N4,nonzero N5,nonzero N3,nonzero N1 N1 | - | DIMENSIONS",
        "8002 X..20 | - | CMT No.",
        "8003 N1,zero N13,csum,key [X..16] | dlpkey alpha=grai | GRAI",
        "8004 X..30,key | dlpkey=7040 alpha=giai | GIAI",
        "8005 N6 | - | PRICE PER UNIT",
        "8006 N14,csum N4,pieceoftotal | ex=01,37 dlpkey=22,10,21 alpha=itip | ITIP",
        "8007 X..34 | - | IBAN",
        "8008 N8 [N..4] | - | PROD TIME",
        "8009 X..50 | - | OPTSEN",
        "8010 Y..30,key | dlpkey=8011 alpha=cpid | CPID",
        "8011 N..12,nozeroprefix | alpha=cpsn | CPID SERIAL",
        "8012 X..20 | - | VERSION",
        "8013 X..25,csumalpha,key | dlpkey alpha=gmn | GMN",
        "8014 X..25,csumalpha,key | dlpkey | MUDI",
        "8017 N18,csum,key | ex=8018 dlpkey=8019 alpha=gsrnp | GSRN - PROVIDER",
        "8018 N18,csum,key | ex=8017 dlpkey=8019 alpha=gsrn | GSRN - RECIPIENT",
        "8019 N..10 | alpha=srin | SRIN",
        "8020 X..25 | alpha=refno | REF No.",
        "8026 N14,csum N4,pieceoftotal | ex=02,8006 | ITIP CONTENT",
        "8030 Z..90 | - | DIGSIG",
        "8110 X..70 | - | COUPON CODE",
        "8111 N4 | - | POINTS",
        "8112 X..70 | - | COUPON OFFER",
        "8200 X..70 | noattr | PRODUCT URL",
        "90 X..30 | - | INTERNAL",
    ] + internalRows + measureRows + amountRows

    /// AIs 91-99, company internal information.
    private static let internalRows: [String] = (91...99).map { "\($0) X..90 | - | INTERNAL" }

    /// The trade measures 31nn-36nn (six digits, decimal point position in the fourth AI digit).
    private static let measureRows: [String] = {
        let families: [(Int, String)] = [
            (310, "NET WEIGHT (kg)"), (311, "LENGTH (m)"), (312, "WIDTH (m)"),
            (313, "HEIGHT (m)"), (314, "AREA (m2)"), (315, "NET VOLUME (l)"),
            (316, "NET VOLUME (m3)"), (320, "NET WEIGHT (lb)"), (321, "LENGTH (in)"),
            (322, "LENGTH (ft)"), (323, "LENGTH (yd)"), (324, "WIDTH (in)"),
            (325, "WIDTH (ft)"), (326, "WIDTH (yd)"), (327, "HEIGHT (in)"),
            (328, "HEIGHT (ft)"), (329, "HEIGHT (yd)"), (330, "GROSS WEIGHT (kg)"),
            (331, "LENGTH (m), log"), (332, "WIDTH (m), log"), (333, "HEIGHT (m), log"),
            (334, "AREA (m2), log"), (335, "VOLUME (l), log"), (336, "VOLUME (m3), log"),
            (337, "KG PER m2"), (340, "GROSS WEIGHT (lb)"), (341, "LENGTH (in), log"),
            (342, "LENGTH (ft), log"), (343, "LENGTH (yd), log"), (344, "WIDTH (in), log"),
            (345, "WIDTH (ft), log"), (346, "WIDTH (yd), log"), (347, "HEIGHT (in), log"),
            (348, "HEIGHT (ft), log"), (349, "HEIGHT (yd), log"), (350, "AREA (in2)"),
            (351, "AREA (ft2)"), (352, "AREA (yd2)"), (353, "AREA (in2), log"),
            (354, "AREA (ft2), log"), (355, "AREA (yd2), log"), (356, "NET WEIGHT (t oz)"),
            (357, "NET VOLUME (oz)"), (360, "NET VOLUME (qt)"), (361, "NET VOLUME (gal.)"),
            (362, "VOLUME (qt), log"), (363, "VOLUME (gal.), log"), (364, "VOLUME (in3)"),
            (365, "VOLUME (ft3)"), (366, "VOLUME (yd3)"), (367, "VOLUME (in3), log"),
            (368, "VOLUME (ft3), log"), (369, "VOLUME (yd3), log"),
        ]
        return families.flatMap { family, title in
            (0...5).map { "\(family)\($0) * N6 | ex=\(family)n | \(title)" }
        }
    }()

    /// Amounts, prices and percentages 390n-395n.
    private static let amountRows: [String] =
        (0...9).map { "390\($0) N..15 | ex=390n,391n,394n,8111 | AMOUNT" }
        + (0...9).map { "391\($0) N3 N..15 | ex=391n | AMOUNT" }
        + (0...9).map { "392\($0) N..15 | ex=392n,393n | PRICE" }
        + (0...9).map { "393\($0) N3 N..15 | ex=393n | PRICE" }
        + (0...3).map { "394\($0) N4 | ex=394n,8111 | PRCNT OFF" }
        + (0...5).map { "395\($0) N6 | ex=392n,393n,395n,8005 | PRICE/UoM" }

    static let entries: [ApplicationIdentifier] = rows.map(parse).sorted { $0.code < $1.code }
    static let byCode: [String: ApplicationIdentifier] = Dictionary(uniqueKeysWithValues: entries.map { ($0.code, $0) })
    static let byShortName: [String: ApplicationIdentifier] = Dictionary(
        uniqueKeysWithValues: entries.compactMap { entry in entry.shortName.map { ($0, entry) } })

    private static func parse(_ row: String) -> ApplicationIdentifier {
        let fields = row.split(separator: " | ").map { $0.split(separator: " ").map(String.init) }
        precondition(fields.count == 3, "malformed AI table row: \(row)")
        var format = fields[0]
        let code = format.removeFirst()
        var requiresFNC1 = true
        if format.first == "*" {
            requiresFNC1 = false
            format.removeFirst()
        }
        var sequences: [[String]]?
        var excludes: [String] = []
        var shortName: String?
        var isDataAttribute = true
        for attribute in fields[1] {
            if attribute == "dlpkey" {
                sequences = [[]]
            } else if attribute.hasPrefix("dlpkey=") {
                sequences = attribute.dropFirst(7).split(separator: "|").map { $0.split(separator: ",").map(String.init) }
            } else if attribute.hasPrefix("ex=") {
                excludes = attribute.dropFirst(3).split(separator: ",").map(String.init)
            } else if attribute.hasPrefix("alpha=") {
                shortName = String(attribute.dropFirst(6))
            } else if attribute == "noattr" {
                isDataAttribute = false
            }
        }
        return ApplicationIdentifier(
            code: code, title: fields[2].joined(separator: " "), components: format.map(component),
            requiresFNC1: requiresFNC1, keyQualifierSequences: sequences, isDataAttribute: isDataAttribute,
            excludes: excludes, shortName: shortName, isUnknown: false)
    }

    /// Parses `N13,csum`, `X..20`, `[X..17]`, `[N6],yymmdd`.
    private static func component(_ text: String) -> ApplicationIdentifier.Component {
        var parts = text.split(separator: ",").map(String.init)
        var type = parts.removeFirst()
        let optional = type.hasPrefix("[")
        type = type.filter { $0 != "[" && $0 != "]" }
        let set: GS1CharacterSet
        switch type.first {
        case "N": set = .numeric
        case "X": set = .cset82
        case "Y": set = .cset39
        default: set = .cset64
        }
        let length = type.dropFirst()
        let minimum: Int, maximum: Int
        if length.hasPrefix("..") {
            minimum = 1
            maximum = Int(length.dropFirst(2))!
        } else {
            minimum = Int(length)!
            maximum = minimum
        }
        return ApplicationIdentifier.Component(
            characterSet: set, minimumLength: minimum, maximumLength: maximum, isOptional: optional,
            checks: parts.compactMap(ApplicationIdentifier.Check.init(rawValue:)))
    }
}
