import Foundation
import KramaaEPCIS
import KramaaJSON
import KramaaPlatform
import KramaaRPC

/// The EPCIS 2.0 REST binding's discovery and the single-event capture: `GET /epcis` lists the
/// top-level resources; `OPTIONS` on any resource answers 204 with the methods it allows, the
/// EPCIS and CBV versions and, for capture, its limits; `POST /events` records one event
/// synchronously (201 with its location).
extension EPCISEndpoints {
    /// Versions and limits every discovery answer states.
    static var discoveryHeaders: [(name: String, value: String)] {
        versionHeaders + [("gs1-epcis-min", "2.0.0"), ("gs1-epcis-max", "2.0.0"), ("gs1-cbv-min", "2.0.0"), ("gs1-cbv-max", "2.0.0"),
                          ("gs1-vendor-version", "kramaa"), ("gs1-epcis-capture-limit", String(ProvenanceRegistry.maxEventsPerCapture)),
                          ("gs1-epcis-capture-file-size-limit", String(captureFileSizeLimit)), ("gs1-extensions", "")]
    }

    /// The largest capture body: the HTTP server's body limit (its default).
    static let captureFileSizeLimit = RPCServer.Configuration().maxBodyBytes

    func addDiscoveryRoutes(to r: inout HTTPRouter) {
        r.get("") { _ in
            .json(["@context": Self.context, "type": "Collection",
                   "member": ["capture", "events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "queries"]],
                  headers: Self.versionHeaders)
        }
        r.post("events") { [unowned self] q in try await captureOne(q.request) }
    }

    /// `OPTIONS path`: 204 with `Allow` (what the path's routes accept), or the router's 404.
    func discovery(_ request: HTTPRequest) async -> HTTPResponse {
        var probe = request
        probe.method = "KRAMAA-PROBE"
        let answer = await router.respond(to: probe)
        guard answer.status == 405, let allow = answer.headers.first(where: { $0.name.lowercased() == "allow" })?.value else {
            return await router.respond(to: request)
        }
        return HTTPResponse(status: 204, headers: [("allow", allow + ", OPTIONS")] + Self.discoveryHeaders)
    }

    /// `POST /events` with one event: recorded as a capture of that event, answered when it is in
    /// a block: 201 with `Location: /epcis/events/{eventID}`, or the refusal with its status.
    private func captureOne(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard case .object(let event) = try JSON.parse(request.body) else { throw HTTPProblem.badRequest("the body must be one EPCIS event (a JSON object)") }
        var inner = event
        let context = inner.removeValue("@context") ?? ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
        let document: JSON = ["@context": context, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": .string(now().description),
                              "epcisBody": ["eventList": [.object(inner)]]]
        let (job, accepted) = try await runCapture(request, body: document.serialized())
        guard job.success, let recorded = accepted.first else {
            var problem = job.errors.first ?? EPCISProblem(type: "epcisException:CaptureRefused", title: "Capture refused", status: 400, detail: nil)
            problem.status = Self.singleCaptureStatus(problem)
            return .json(problem.json, status: problem.status ?? 400, headers: [("content-type", "application/problem+json")] + Self.versionHeaders)
        }
        let id = recorded.eventID ?? EPCISEventHash.hashID(of: recorded)
        return HTTPResponse(status: 201, headers: [("location", "\(Self.prefix)/events/\(Self.escape(id))"),
                                                   ("gs1-capture-id", job.captureID)] + Self.versionHeaders)
    }
}

extension EPCISEndpoints {
    /// The binding's statuses for a refused single-event capture: 409 for an event recorded
    /// before, 403 for a caller the organisation does not know, 400 for any other refusal.
    static func singleCaptureStatus(_ problem: EPCISProblem) -> Int {
        guard problem.status == 422 else { return problem.status ?? 400 }
        let detail = problem.detail ?? ""
        if detail.contains("recorded already") || detail.contains("recorded before") { return 409 }
        if detail.contains("is not a member") || detail.contains("is not the current key") { return 403 }
        return 400
    }
}

extension JSONObject {
    /// Removes and returns the member `key`.
    fileprivate mutating func removeValue(_ key: String) -> JSON? {
        let value = self[key]
        self[key] = nil
        return value
    }
}
