import KramaaJSON

/// Why JSON could not be read as an EPCIS document or event. Validation against the schema
/// (``EPCISValidator``) gives the full list of problems; this names the first one the model needs.
public enum EPCISModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The value at `pointer` is not a JSON object.
    case notAnObject(pointer: String)
    /// A required member is missing.
    case missingField(String, pointer: String)
    /// A member has the wrong kind of value (`expected` says what it should be).
    case invalidField(String, pointer: String, expected: String)
    /// `type` names neither an EPCISDocument nor an EPCISQueryDocument.
    case notADocument(type: String?)

    public var description: String {
        switch self {
        case .notAnObject(let pointer): "\(pointer.isEmpty ? "/" : pointer): expected a JSON object"
        case .missingField(let name, let pointer): "\(pointer.isEmpty ? "/" : pointer): missing required property \"\(name)\""
        case .invalidField(let name, let pointer, let expected): "\(pointer)/\(name): expected \(expected)"
        case .notADocument(let type):
            "expected \"type\": \"EPCISDocument\" or \"EPCISQueryDocument\", found \(type.map { "\"\($0)\"" } ?? "no type")"
        }
    }
}

/// The five EPCIS 2.0 event types, or an extension type (named by its URI).
public enum EPCISEventType: Sendable, Hashable, CustomStringConvertible {
    case object, aggregation, transaction, transformation, association
    case extensionType(String)

    public init(name: String) {
        switch name {
        case "ObjectEvent": self = .object
        case "AggregationEvent": self = .aggregation
        case "TransactionEvent": self = .transaction
        case "TransformationEvent": self = .transformation
        case "AssociationEvent": self = .association
        default: self = .extensionType(name)
        }
    }

    /// `ObjectEvent`, ... or the extension type as written.
    public var name: String {
        switch self {
        case .object: "ObjectEvent"
        case .aggregation: "AggregationEvent"
        case .transaction: "TransactionEvent"
        case .transformation: "TransformationEvent"
        case .association: "AssociationEvent"
        case .extensionType(let name): name
        }
    }

    public var description: String { name }
}

/// `action`: how the event relates to the objects' lifecycle.
public enum EPCISAction: String, Sendable, Hashable, CaseIterable {
    case add = "ADD"
    case observe = "OBSERVE"
    case delete = "DELETE"
}

/// One element of a quantity list: an EPC class and an optional amount.
public struct EPCISQuantity: Sendable, Equatable {
    public var epcClass: String
    public var quantity: JSONNumber?
    public var uom: String?

    public init(epcClass: String, quantity: JSONNumber? = nil, uom: String? = nil) {
        self.epcClass = epcClass
        self.quantity = quantity
        self.uom = uom
    }
}

/// A typed reference such as a business transaction, source or destination.
public struct EPCISTypedReference: Sendable, Equatable {
    /// The canonical CBV type (Web URI), or nil when the element has none.
    public var type: String?
    /// The referenced identifier (transaction id, party or location).
    public var value: String

    public init(type: String?, value: String) {
        self.type = type
        self.value = value
    }
}

/// An error declaration: the event is declared wrong (EPCIS 2.0 section 7.4.1.4).
public struct EPCISErrorDeclaration: Sendable, Equatable {
    public var declarationTime: EPCISTimestamp
    /// The canonical reason (Web URI), if one is given.
    public var reason: String?
    public var correctiveEventIDs: [String]
    /// The declaration as written.
    public var json: JSONObject
}

/// One sensor report of a sensor element.
public struct EPCISSensorReport: Sendable, Equatable {
    /// The canonical measurement type (`https://gs1.org/voc/Temperature`), if given.
    public var type: String?
    /// The canonical alert type (`exception`), if given.
    public var exception: String?
    /// The canonical coordinate component, if given.
    public var component: String?
    /// The report as written (values, uom, device, time, ...).
    public var json: JSONObject

    /// A numeric member (`value`, `minValue`, `percRank`, ...).
    public func number(_ field: String) -> Double? { json[field]?.numberValue?.double }
    /// A string member (`uom`, `deviceID`, `stringValue`, ...).
    public func string(_ field: String) -> String? { json[field]?.stringValue }
}

/// One element of `sensorElementList`: metadata and the reports it qualifies.
public struct EPCISSensorElement: Sendable, Equatable {
    public var metadata: JSONObject?
    public var reports: [EPCISSensorReport]
}

/// An EPCIS 2.0 event: the JSON exactly as captured (what the chain stores and the event hash
/// reads) plus the typed fields that indexing and queries use, with CBV values canonical.
public struct EPCISEvent: Sendable, Equatable {
    /// The event as written, member order kept (`recordTime` aside: see ``recorded(at:)``).
    public private(set) var json: JSON
    /// The `@context` that applies to the event: the document's, followed by the event's own.
    public let contextJSON: JSON?
    /// The prefixes of that context, used to expand CURIEs.
    public let context: JSONLDContext

    public var type: EPCISEventType
    public var eventTime: EPCISTimestamp
    public var eventTimeZoneOffset: String?
    /// When the repository recorded the event (set by ``recorded(at:)``; a captured value is not kept).
    public var recordTime: EPCISTimestamp?
    public var eventID: String?
    public var certificationInfo: [String]
    public var errorDeclaration: EPCISErrorDeclaration?
    public var action: EPCISAction?
    /// Canonical Web URIs (see ``CBVVocabulary``).
    public var bizStep: String?
    public var disposition: String?
    public var persistentDispositionSet: [String]
    public var persistentDispositionUnset: [String]
    public var readPoint: String?
    public var bizLocation: String?
    public var epcList: [String]
    public var childEPCs: [String]
    public var parentID: String?
    public var inputEPCList: [String]
    public var outputEPCList: [String]
    public var quantityList: [EPCISQuantity]
    public var childQuantityList: [EPCISQuantity]
    public var inputQuantityList: [EPCISQuantity]
    public var outputQuantityList: [EPCISQuantity]
    public var transformationID: String?
    public var bizTransactionList: [EPCISTypedReference]
    public var sourceList: [EPCISTypedReference]
    public var destinationList: [EPCISTypedReference]
    public var sensorElementList: [EPCISSensorElement]
    public var ilmd: JSONObject?
    /// Members that are not EPCIS fields (user extensions), keyed by their expanded URI.
    public var extensions: [(name: String, iri: String, value: JSON)]

    /// The standard members of an event (everything else is an extension).
    public static let standardFields: Set<String> = [
        "@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "certificationInfo",
        "errorDeclaration", "action", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
        "epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList", "quantityList", "childQuantityList",
        "inputQuantityList", "outputQuantityList", "transformationID", "bizTransactionList", "sourceList",
        "destinationList", "sensorElementList", "ilmd",
    ]

    /// Reads an event. `documentContext` is the enclosing document's `@context` (nil for a
    /// standalone event); `pointer` is where the event sits, for error messages.
    public init(json: JSON, documentContext: JSON? = nil, pointer: JSONPointer = JSONPointer()) throws(EPCISModelError) {
        guard case .object(let object) = json else { throw .notAnObject(pointer: pointer.description) }
        let reader = FieldReader(object: object, pointer: pointer.description)
        self.json = json
        let ownContext = object["@context"]
        switch (documentContext, ownContext) {
        case (nil, let own): contextJSON = own
        case (let document?, nil): contextJSON = document
        case (let document?, let own?): contextJSON = .array((document.arrayValue ?? [document]) + (own.arrayValue ?? [own]))
        }
        context = JSONLDContext.epcis.merging(contextJSON)
        let context = context

        type = EPCISEventType(name: try reader.requiredString("type"))
        let eventTimeText = try reader.requiredString("eventTime")
        guard let eventTime = EPCISTimestamp(rfc3339: eventTimeText) else {
            throw .invalidField("eventTime", pointer: pointer.description, expected: "an RFC 3339 date-time")
        }
        self.eventTime = eventTime
        eventTimeZoneOffset = try reader.string("eventTimeZoneOffset")
        recordTime = try reader.timestamp("recordTime")
        eventID = try reader.string("eventID")
        if case .string(let single)? = object["certificationInfo"] {
            certificationInfo = [single]
        } else {
            certificationInfo = try reader.strings("certificationInfo")
        }
        if let declaration = try reader.object("errorDeclaration") {
            let inner = FieldReader(object: declaration, pointer: pointer.appending("errorDeclaration").description)
            guard let time = try inner.timestamp("declarationTime") else {
                throw .missingField("declarationTime", pointer: inner.pointer)
            }
            errorDeclaration = EPCISErrorDeclaration(
                declarationTime: time, reason: try inner.string("reason").map { CBVVocabulary.errorReason.canonical($0, context: context) },
                correctiveEventIDs: try inner.strings("correctiveEventIDs"), json: declaration)
        } else {
            errorDeclaration = nil
        }
        if let action = try reader.string("action") {
            guard let parsed = EPCISAction(rawValue: action) else {
                throw .invalidField("action", pointer: pointer.description, expected: "ADD, OBSERVE or DELETE")
            }
            self.action = parsed
        } else {
            action = nil
        }
        bizStep = try reader.string("bizStep").map { CBVVocabulary.bizStep.canonical($0, context: context) }
        disposition = try reader.string("disposition").map { CBVVocabulary.disposition.canonical($0, context: context) }
        if let persistent = try reader.object("persistentDisposition") {
            let inner = FieldReader(object: persistent, pointer: pointer.appending("persistentDisposition").description)
            persistentDispositionSet = try inner.strings("set").map { CBVVocabulary.disposition.canonical($0, context: context) }
            persistentDispositionUnset = try inner.strings("unset").map { CBVVocabulary.disposition.canonical($0, context: context) }
        } else {
            persistentDispositionSet = []
            persistentDispositionUnset = []
        }
        readPoint = try reader.idObject("readPoint")
        bizLocation = try reader.idObject("bizLocation")
        epcList = try reader.strings("epcList")
        childEPCs = try reader.strings("childEPCs")
        parentID = try reader.string("parentID")
        inputEPCList = try reader.strings("inputEPCList")
        outputEPCList = try reader.strings("outputEPCList")
        quantityList = try reader.quantities("quantityList")
        childQuantityList = try reader.quantities("childQuantityList")
        inputQuantityList = try reader.quantities("inputQuantityList")
        outputQuantityList = try reader.quantities("outputQuantityList")
        transformationID = try reader.string("transformationID")
        bizTransactionList = try reader.typedReferences("bizTransactionList", valueKey: "bizTransaction", vocabulary: .bizTransactionType, context: context)
        sourceList = try reader.typedReferences("sourceList", valueKey: "source", vocabulary: .sourceDestinationType, context: context)
        destinationList = try reader.typedReferences("destinationList", valueKey: "destination", vocabulary: .sourceDestinationType, context: context)
        sensorElementList = try reader.objects("sensorElementList").map { element throws(EPCISModelError) in
            let reports = element["sensorReport"]?.arrayValue ?? []
            return EPCISSensorElement(
                metadata: element["sensorMetadata"]?.objectValue,
                reports: reports.compactMap(\.objectValue).map { report in
                    EPCISSensorReport(
                        type: report["type"]?.stringValue.map { CBVVocabulary.measurementType.canonical($0, context: context) },
                        exception: report["exception"]?.stringValue.map { CBVVocabulary.sensorAlertType.canonical($0, context: context) },
                        component: report["component"]?.stringValue.map { CBVVocabulary.sensorComponent.canonical($0, context: context) },
                        json: report)
                })
        }
        ilmd = try reader.object("ilmd")
        extensions = object.filter { !Self.standardFields.contains($0.key) }.map { (name: $0.key, iri: context.expand($0.key), value: $0.value) }
    }

    public static func == (lhs: EPCISEvent, rhs: EPCISEvent) -> Bool {
        lhs.json == rhs.json && lhs.contextJSON == rhs.contextJSON
    }

    /// The extension member whose name is `name` as written or whose expanded URI is `name`'s expansion.
    public func extensionValue(_ name: String) -> JSON? {
        let iri = context.expand(name)
        return extensions.first { $0.name == name || $0.iri == iri }?.value
    }

    /// Every EPC the event names: epcList, childEPCs, parentID, inputEPCList, outputEPCList.
    public var allEPCs: [String] {
        epcList + childEPCs + (parentID.map { [$0] } ?? []) + inputEPCList + outputEPCList
    }

    /// Every quantity element: quantityList, childQuantityList, inputQuantityList, outputQuantityList.
    public var allQuantities: [EPCISQuantity] {
        quantityList + childQuantityList + inputQuantityList + outputQuantityList
    }
}

/// Reads typed members of one JSON object, naming the member and place when one has the wrong type.
struct FieldReader {
    let object: JSONObject
    let pointer: String

    func invalid(_ name: String, _ expected: String) -> EPCISModelError {
        .invalidField(name, pointer: pointer, expected: expected)
    }

    func requiredString(_ name: String) throws(EPCISModelError) -> String {
        guard let value = try string(name) else { throw .missingField(name, pointer: pointer) }
        return value
    }

    func string(_ name: String) throws(EPCISModelError) -> String? {
        guard let value = object[name] else { return nil }
        guard case .string(let text) = value else { throw invalid(name, "a string") }
        return text
    }

    func timestamp(_ name: String) throws(EPCISModelError) -> EPCISTimestamp? {
        guard let text = try string(name) else { return nil }
        guard let time = EPCISTimestamp(rfc3339: text) else { throw invalid(name, "an RFC 3339 date-time") }
        return time
    }

    func strings(_ name: String) throws(EPCISModelError) -> [String] {
        guard let value = object[name] else { return [] }
        guard case .array(let items) = value else { throw invalid(name, "an array of strings") }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { throw invalid(name, "an array of strings") }
            result.append(text)
        }
        return result
    }

    func object(_ name: String) throws(EPCISModelError) -> JSONObject? {
        guard let value = object[name] else { return nil }
        guard case .object(let inner) = value else { throw invalid(name, "an object") }
        return inner
    }

    func objects(_ name: String) throws(EPCISModelError) -> [JSONObject] {
        guard let value = object[name] else { return [] }
        guard case .array(let items) = value, items.allSatisfy({ $0.objectValue != nil }) else {
            throw invalid(name, "an array of objects")
        }
        return items.compactMap(\.objectValue)
    }

    /// `{"id": "..."}` members such as readPoint and bizLocation.
    func idObject(_ name: String) throws(EPCISModelError) -> String? {
        guard let inner = try object(name) else { return nil }
        guard case .string(let id)? = inner["id"] else { throw invalid(name, "an object with a string \"id\"") }
        return id
    }

    func quantities(_ name: String) throws(EPCISModelError) -> [EPCISQuantity] {
        try objects(name).map { element throws(EPCISModelError) in
            guard case .string(let epcClass)? = element["epcClass"] else { throw invalid(name, "elements with a string \"epcClass\"") }
            return EPCISQuantity(epcClass: epcClass, quantity: element["quantity"]?.numberValue, uom: element["uom"]?.stringValue)
        }
    }

    func typedReferences(_ name: String, valueKey: String, vocabulary: CBVVocabulary, context: JSONLDContext) throws(EPCISModelError) -> [EPCISTypedReference] {
        try objects(name).map { element throws(EPCISModelError) in
            guard case .string(let value)? = element[valueKey] else { throw invalid(name, "elements with a string \"\(valueKey)\"") }
            return EPCISTypedReference(type: element["type"]?.stringValue.map { vocabulary.canonical($0, context: context) }, value: value)
        }
    }
}

extension EPCISEvent {
    /// The event as the repository holds it: `recordTime` is the time it was recorded, whatever
    /// the capture said (EPCIS 2.0 §7.4.1: the repository sets it, a captured value is ignored).
    public func recorded(at time: EPCISTimestamp) -> EPCISEvent {
        var copy = self
        copy.recordTime = time
        if case .object(var object) = json {
            object["recordTime"] = .string(time.description)
            copy.json = .object(object)
        }
        return copy
    }
}
