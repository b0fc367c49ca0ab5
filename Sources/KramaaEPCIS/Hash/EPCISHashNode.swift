/// One element of an event as the EPCIS event hash sees it: a name, a text value and children.
///
/// Both syntaxes are read into this one shape before hashing, so that an event gives the same
/// pre-hash whether it was written in JSON-LD or XML: JSON members and XML elements or attributes
/// become named nodes, extension names become `{namespace}local`, list members are named after
/// their list (`epcList` → `epc`, `quantityList` → `quantityElement`), and each business
/// transaction, source or destination becomes a ``typedReference`` pair (its type, then its value).
public struct EPCISHashNode: Sendable, Equatable {
    /// The element name: a standard field (`eventTime`), a list member (`epc`) or `{namespace}local`.
    public var name: String
    /// The text value as written (surrounding white space is ignored by the hash).
    public var text: String
    public var children: [EPCISHashNode]
    /// For a business transaction, source or destination: its type (nil when it has none). Such a
    /// node is written `type=<type><name>=<text>` and never matches a field of the property order.
    public var referenceType: String?
    public var isTypedReference: Bool

    public init(name: String, text: String = "", children: [EPCISHashNode] = []) {
        self.name = name
        self.text = text
        self.children = children
        self.referenceType = nil
        self.isTypedReference = false
    }

    /// A business transaction, source or destination (`name` is `bizTransaction`, `source` or `destination`).
    public static func typedReference(_ name: String, type: String?, value: String) -> EPCISHashNode {
        var node = EPCISHashNode(name: name, text: value)
        node.referenceType = type
        node.isTypedReference = true
        return node
    }

    /// The names of the typed-reference members, named after their lists.
    static let typedReferenceNames: Set<String> = ["bizTransaction", "source", "destination"]
}

/// A field of the CBV 2.0 canonical property order, with the order of its own children.
struct EPCISPropertyOrder: Sendable {
    let name: String
    /// nil: the field's children are not ordered (they stay for the generic part); empty: they are
    /// looked at (extensions gathered) but no child is a standard one.
    let children: [EPCISPropertyOrder]?

    init(_ name: String, _ children: [EPCISPropertyOrder]? = nil) {
        self.name = name
        self.children = children
    }

    private static let quantityElement = [EPCISPropertyOrder("quantityElement", [.init("epcClass"), .init("quantity"), .init("uom")])]
    private static let epc = [EPCISPropertyOrder("epc")]

    private static let sensorMetadata = [
        "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
    ].map { EPCISPropertyOrder($0) }

    private static let sensorReport = [
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
        "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue",
        "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
    ].map { EPCISPropertyOrder($0) }

    /// The event's fields in the order the pre-hash lists them (CBV 2.0, as the reference
    /// implementation orders them; `certificationInfo` follows the time-zone offset).
    static let event: [EPCISPropertyOrder] = [
        .init("eventTime"),
        .init("eventTimeZoneOffset"),
        .init("certificationInfo"),
        .init("epcList", epc),
        .init("parentID"),
        .init("inputEPCList", epc),
        .init("childEPCs", epc),
        .init("quantityList", quantityElement),
        .init("childQuantityList", quantityElement),
        .init("inputQuantityList", quantityElement),
        .init("outputEPCList", epc),
        .init("outputQuantityList", quantityElement),
        .init("action"),
        .init("transformationID"),
        .init("bizStep"),
        .init("disposition"),
        .init("persistentDisposition", [.init("set"), .init("unset")]),
        .init("readPoint", [.init("id")]),
        .init("bizLocation", [.init("id")]),
        .init("bizTransactionList", []),
        .init("sourceList", []),
        .init("destinationList", []),
        .init("sensorElementList", [.init("sensorElement", [.init("sensorMetadata", sensorMetadata), .init("sensorReport", sensorReport)])]),
    ]
}
