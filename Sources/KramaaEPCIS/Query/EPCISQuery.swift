import KramaaJSON

/// An EPCIS 2.0 event query (EPCIS Query Language, section 8.2.7; the REST binding's query
/// string and `/queries` bodies): a list of conditions every returned event meets, an optional
/// order and limits, and the REST paging parameters.
public struct EPCISQuery: Sendable, Equatable {
    public var conditions: [EPCISQueryCondition] = []
    public var orderBy: EPCISOrderKey?
    /// `orderDirection`; EPCIS's default is descending.
    public var orderDescending = true
    public var eventCountLimit: Int?
    public var maxEventCount: Int?
    /// REST paging: events per page (default 30) and the token of the page asked for.
    public var perPage: Int?
    public var nextPageToken: String?

    public init() {}

    public static let defaultPerPage = 30
}

/// What `orderBy` sorts on.
public enum EPCISOrderKey: Sendable, Equatable {
    case eventTime
    case recordTime
    /// A top-level extension field, by its fully qualified name (URI or CURIE).
    case field(String)
}

/// `GE_`/`GT_`/`LT_`/`LE_`/`EQ_` of one comparison.
public enum EPCISComparison: String, Sendable, Equatable {
    case greaterOrEqual = "GE"
    case greater = "GT"
    case less = "LT"
    case lessOrEqual = "LE"
    case equal = "EQ"

    func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .greaterOrEqual: lhs >= rhs
        case .greater: lhs > rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .equal: lhs == rhs
        }
    }
}

/// One condition of a query. Each matches an event or not; a query keeps events that match all.
public enum EPCISQueryCondition: Sendable, Equatable {
    /// `eventType`: one of these type names.
    case eventType(Set<String>)
    /// `GE_eventTime`, `LT_recordTime`, `GE_errorDeclarationTime`, sensor `GE_time`, ...
    case time(EPCISTimeField, EPCISComparison, EPCISTimestamp)
    /// `EQ_action`.
    case action(Set<EPCISAction>)
    /// `EQ_bizStep`, `EQ_disposition`, `EQ_persistentDisposition_set/unset`, `EQ_errorReason`:
    /// canonical CBV values (see ``CBVVocabulary``).
    case vocabulary(EPCISVocabularyField, Set<String>)
    /// `EQ_readPoint` / `EQ_bizLocation`, and with `withDescendants` their `WD_` forms.
    case location(EPCISLocationField, Set<String>, withDescendants: Bool)
    /// `EQ_eventID`, `EQ_transformationID`, `EQ_correctiveEventID`.
    case identifier(EPCISIdentifierField, Set<String>)
    /// `MATCH_epc`, `MATCH_parentID`, ..., `MATCH_anyEPCClass`.
    case match(EPCISMatchField, [EPCPattern])
    /// `EQ_quantity` (any of several values), `GT_quantity`, ...; with a unit for `GE_quantity_KGM`.
    case quantity(EPCISComparison, [Double], uom: String?)
    /// `EXISTS_errorDeclaration` (true) / `EXISTS_sensorElementList`.
    case exists(EPCISExistsField)
    /// `EQ_bizTransaction_po`, `EQ_source_owning_party`, `EQ_destination_location`: a list element
    /// of that canonical type whose value is one of these.
    case typedReference(EPCISReferenceList, type: String, values: Set<String>)
    /// `EQ_type` of sensor reports (canonical measurement types).
    case sensorType(Set<String>)
    /// `EQ_deviceID`, `EQ_dataProcessingMethod`, `EQ_microorganism`, `EQ_chemicalSubstance`,
    /// `EQ_bizRules`, `EQ_stringValue`, `EQ_hexBinaryValue`, `EQ_uriValue`: a sensor report (or
    /// its element's metadata) with this member equal to one of the values.
    case sensorString(String, Set<String>)
    /// `EQ_booleanValue`.
    case sensorBoolean(Bool)
    /// `GE_value_CEL`, `LT_maxValue_KGM`, `GE_percRank`, `EQ_value_CEL`: a sensor report whose
    /// member compares so (and whose `uom` is this one, when given).
    case sensorNumber(String, EPCISComparison, [Double], uom: String?)
    /// Extension and ILMD fields: `EQ_ext:field`, `GT_ILMD_ext:field`, `EXISTS_INNER_ext:field`, ...
    case field(EPCISFieldCondition)
}

public enum EPCISTimeField: String, Sendable, Equatable {
    case eventTime, recordTime, errorDeclarationTime
    /// Sensor metadata or report `time`, metadata `startTime`/`endTime`.
    case sensorTime = "time", sensorStartTime = "startTime", sensorEndTime = "endTime"
}

public enum EPCISVocabularyField: String, Sendable, Equatable {
    case bizStep, disposition, persistentDispositionSet = "persistentDisposition_set"
    case persistentDispositionUnset = "persistentDisposition_unset", errorReason
}

public enum EPCISLocationField: String, Sendable, Equatable { case readPoint, bizLocation }

public enum EPCISIdentifierField: String, Sendable, Equatable { case eventID, transformationID, correctiveEventID }

public enum EPCISMatchField: String, Sendable, Equatable, CaseIterable {
    case epc, parentID, inputEPC, outputEPC, anyEPC, epcClass, inputEPCClass, outputEPCClass, anyEPCClass
}

public enum EPCISExistsField: String, Sendable, Equatable { case errorDeclaration, sensorElementList }

public enum EPCISReferenceList: String, Sendable, Equatable { case bizTransaction, source, destination }

/// A condition on a user extension field (EPCIS 2.0 section 8.2.7.1: `EQ_fieldname`,
/// `EQ_ILMD_fieldname`, `EQ_INNER_fieldname`, `EQ_ERROR_DECLARATION_fieldname`,
/// `EQ_SENSORELEMENT_`/`SENSORMETADATA_`/`SENSORREPORT_fieldname`,
/// `EQ_readPoint_fieldname`, `EQ_bizLocation_fieldname`, and `GT`/`GE`/`LT`/`LE`/`EXISTS`).
public struct EPCISFieldCondition: Sendable, Equatable {
    public enum Scope: String, Sendable, Equatable, CaseIterable {
        case event = ""
        case ilmd = "ILMD_"
        case errorDeclaration = "ERROR_DECLARATION_"
        case sensorElement = "SENSORELEMENT_"
        case sensorMetadata = "SENSORMETADATA_"
        case sensorReport = "SENSORREPORT_"
        case readPoint = "readPoint_"
        case bizLocation = "bizLocation_"
    }

    public enum Test: Sendable, Equatable {
        case exists
        /// `EQ_`: equal to one of these (strings, numbers, times compared as such).
        case equals([String])
        case compare(EPCISComparison, String)
    }

    public var scope: Scope
    /// `INNER_`: the field may sit anywhere inside the scope's extension fields, not only at its top.
    public var inner: Bool
    /// The field name as given (a CURIE or URI).
    public var name: String
    public var test: Test
}
