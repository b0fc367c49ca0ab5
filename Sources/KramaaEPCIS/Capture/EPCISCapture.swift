import KramaaJSON

/// `GS1-Capture-Error-Behaviour`: what a capture does when some events are invalid.
public enum CaptureErrorBehaviour: String, Sendable, Equatable, CaseIterable {
    /// All or nothing (the default, as in EPCIS 1.2): the first invalid event rejects the document.
    case rollback
    /// Greedy: the valid events are captured, the invalid ones reported.
    case proceed

    /// The header's value; absent means `rollback`.
    public init(header: String?) throws(CaptureRejection) {
        guard let header else { self = .rollback; return }
        guard let behaviour = CaptureErrorBehaviour(rawValue: header.filter { !$0.isWhitespace }.lowercased()) else {
            throw .invalidHeader(name: "GS1-Capture-Error-Behaviour", value: header, expected: "rollback or proceed")
        }
        self = behaviour
    }
}

/// An RFC 7807 problem, as the EPCIS REST binding reports errors (`RFC7807ProblemResponseBody`).
public struct EPCISProblem: Sendable, Equatable {
    /// `epcisException:ValidationException`, `epcisException:CaptureLimitExceededException`, ...
    public var type: String
    public var title: String
    public var status: Int?
    public var detail: String?
    /// The instance the problem is about (the event's `eventID` when it has one).
    public var instance: String?

    public init(type: String, title: String, status: Int? = nil, detail: String? = nil, instance: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
    }

    /// The problem body (members in the order the OpenAPI lists them; absent ones omitted).
    public var json: JSON {
        var object: JSONObject = ["type": .string(type), "title": .string(title)]
        if let status { object["status"] = .number(JSONNumber(status)) }
        if let detail { object["detail"] = .string(detail) }
        if let instance { object["instance"] = .string(instance) }
        return .object(object)
    }

    public static let validationException = "epcisException:ValidationException"
    public static let captureLimitExceededException = "epcisException:CaptureLimitExceededException"
}

/// Why a capture request is refused before any capture job starts (HTTP 400 or 413).
public enum CaptureRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not JSON.
    case malformedJSON(JSONParseError)
    /// The body is not an EPCISDocument / EPCISQueryDocument, or its header breaks the schema.
    case invalidDocument([JSONSchemaViolation])
    /// More events than the server's `GS1-EPCIS-Capture-Limit`.
    case tooManyEvents(count: Int, limit: Int)
    /// A request header with a value the binding does not define.
    case invalidHeader(name: String, value: String, expected: String)

    /// The HTTP status the REST binding gives this rejection.
    public var status: Int {
        if case .tooManyEvents = self { return 413 }
        return 400
    }

    public var problem: EPCISProblem {
        switch self {
        case .tooManyEvents:
            EPCISProblem(type: EPCISProblem.captureLimitExceededException, title: "Capture limit exceeded", status: status, detail: description)
        default:
            EPCISProblem(type: EPCISProblem.validationException, title: "Invalid capture request", status: status, detail: description)
        }
    }

    public var description: String {
        switch self {
        case .malformedJSON(let error): "the body is not valid JSON: \(error)"
        case .invalidDocument(let violations):
            "the body is not a valid EPCIS document: " + violations.map(\.description).joined(separator: "; ")
        case .tooManyEvents(let count, let limit):
            "the document holds \(count) events; this server captures at most \(limit) per request, so split it"
        case .invalidHeader(let name, let value, let expected): "header \(name): \(value) is invalid; expected \(expected)"
        }
    }
}

/// A capture job as `GET /capture/{captureID}` reports it (OpenAPI schema `CaptureJob`).
public struct CaptureJob: Sendable, Equatable {
    public var captureID: String
    public var createdAt: EPCISTimestamp?
    public var finishedAt: EPCISTimestamp?
    public var running: Bool
    /// False when at least one error occurred.
    public var success: Bool
    public var captureErrorBehaviour: CaptureErrorBehaviour
    /// One problem per rejected event (empty on success).
    public var errors: [EPCISProblem]

    public init(captureID: String, createdAt: EPCISTimestamp? = nil, finishedAt: EPCISTimestamp? = nil, running: Bool,
                success: Bool, captureErrorBehaviour: CaptureErrorBehaviour, errors: [EPCISProblem] = []) {
        self.captureID = captureID
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.running = running
        self.success = success
        self.captureErrorBehaviour = captureErrorBehaviour
        self.errors = errors
    }

    /// The job as JSON, in the OpenAPI's member order.
    public var json: JSON {
        var object: JSONObject = ["captureID": .string(captureID)]
        if let createdAt { object["createdAt"] = .string(createdAt.description) }
        if let finishedAt { object["finishedAt"] = .string(finishedAt.description) }
        object["running"] = .bool(running)
        object["success"] = .bool(success)
        object["captureErrorBehaviour"] = .string(captureErrorBehaviour.rawValue)
        object["errors"] = .array(errors.map(\.json))
        return .object(object)
    }
}

/// What to store from a captured document: the outcome of validating it event by event under
/// a capture error behaviour. Pure: the HTTP layer stores `acceptedEvents` and reports ``job(captureID:createdAt:finishedAt:)``.
public struct CapturePlan: Sendable, Equatable {
    public var behaviour: CaptureErrorBehaviour
    /// The events to store, in document order (none when a rollback happened).
    public var acceptedEvents: [EPCISEvent]
    /// The invalid events by index, each with what is wrong. Under `rollback` only the first.
    public var rejectedEvents: [(index: Int, problem: EPCISProblem)]

    public var success: Bool { rejectedEvents.isEmpty }

    public static func == (lhs: CapturePlan, rhs: CapturePlan) -> Bool {
        lhs.behaviour == rhs.behaviour && lhs.acceptedEvents == rhs.acceptedEvents
            && lhs.rejectedEvents.map(\.index) == rhs.rejectedEvents.map(\.index)
            && lhs.rejectedEvents.map(\.problem) == rhs.rejectedEvents.map(\.problem)
    }

    /// The finished job for this plan.
    public func job(captureID: String, createdAt: EPCISTimestamp? = nil, finishedAt: EPCISTimestamp? = nil) -> CaptureJob {
        CaptureJob(captureID: captureID, createdAt: createdAt, finishedAt: finishedAt, running: false, success: success,
                   captureErrorBehaviour: behaviour, errors: rejectedEvents.map(\.problem))
    }
}

/// The EPCIS 2.0 capture interface's checks, without I/O.
public enum EPCISCapture {
    /// Parses and validates a capture body. Throws when the request as a whole is refused
    /// (malformed JSON, not a document, invalid header, over `captureLimit`); otherwise returns
    /// which events to store under `behaviour`.
    public static func plan(body: some Collection<UInt8>, validator: EPCISValidator, behaviour: CaptureErrorBehaviour,
                            captureLimit: Int? = nil) throws(CaptureRejection) -> CapturePlan {
        let json: JSON
        do { json = try JSON.parse(body) } catch { throw .malformedJSON(error) }
        return try plan(json: json, validator: validator, behaviour: behaviour, captureLimit: captureLimit)
    }

    /// As ``plan(body:validator:behaviour:captureLimit:)`` for parsed JSON.
    public static func plan(json: JSON, validator: EPCISValidator, behaviour: CaptureErrorBehaviour,
                            captureLimit: Int? = nil) throws(CaptureRejection) -> CapturePlan {
        guard EPCISDocumentKind.eventListPointer(of: json) != nil else {
            let violation = JSONSchemaViolation(instanceLocation: JSONPointer(tokens: ["type"]), keyword: "type", schemaLocation: "#/properties/type",
                                                message: "must be \"EPCISDocument\" or \"EPCISQueryDocument\" for a capture")
            throw .invalidDocument([violation])
        }
        let validation = validator.validateByEvent(json)
        guard validation.documentViolations.isEmpty else { throw .invalidDocument(validation.documentViolations) }
        if let captureLimit, validation.eventCount > captureLimit {
            throw .tooManyEvents(count: validation.eventCount, limit: captureLimit)
        }
        let listPointer = EPCISDocumentKind.eventListPointer(of: json)!
        let events = listPointer.resolve(in: json)?.arrayValue ?? []
        let context = json["@context"]
        var accepted: [EPCISEvent] = []
        var rejected: [(index: Int, problem: EPCISProblem)] = []
        for (index, eventJSON) in events.enumerated() {
            let detail: String
            if let violations = validation.eventViolations[index] {
                detail = violations.map(\.description).joined(separator: "; ")
            } else {
                do {
                    let event = try EPCISEvent(json: eventJSON, documentContext: context, pointer: listPointer.appending(index))
                    if let problem = EPCISEventHash.eventIDProblem(event, digest: EPCISEventHash.digest(of: event)) {
                        detail = problem
                    } else {
                        accepted.append(event)
                        continue
                    }
                } catch {
                    detail = error.description
                }
            }
            rejected.append((index, EPCISProblem(type: EPCISProblem.validationException, title: "Invalid event at index \(index)",
                                                 status: 400, detail: detail, instance: eventJSON["eventID"]?.stringValue)))
            if behaviour == .rollback { break }
        }
        if behaviour == .rollback && !rejected.isEmpty { accepted = [] }
        return CapturePlan(behaviour: behaviour, acceptedEvents: accepted, rejectedEvents: rejected)
    }
}
