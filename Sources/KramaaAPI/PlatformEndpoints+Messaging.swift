import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/organizations/{id}/messaging/{peer}`: the MQTT rights an organisation grants another's
/// devices on its devices' and its own topics (docs/MESSAGING.md, "Topics and rights").
extension PlatformEndpoints {
    func topicAccess(_ org: UInt64, _ peer: UInt64) throws -> JSON {
        let rights = try MessagingPolicyClient(calls.reader).rights(of: peer, on: org)
        return ["organization": .int(org), "peer": .int(peer), "rights": .array(rights.names.map(JSON.string))]
    }

    /// `PUT … {rights: ["publish", "subscribe"]}` (admins of the organisation; `[]` revokes).
    func setTopicAccess(_ org: UInt64, _ peer: UInt64, _ body: JSONObject, from: Address) async throws -> HTTPResponse {
        guard let names = body["rights"]?.arrayValue else { throw HTTPProblem.badRequest("\"rights\" must be a list: publish, subscribe") }
        var rights = MessagingPolicy.Rights()
        for name in names {
            guard let right = MessagingPolicy.Rights.named.first(where: { $0.0 == name.stringValue })?.1 else {
                throw HTTPProblem.badRequest("unknown right \(name); rights are publish and subscribe")
            }
            rights.insert(right)
        }
        let sent = try await calls.write(from: from, MessagingPolicy.address, MessagingPolicy.Method.set.callData(
            [.uint(UInt256(org)), .uint(UInt256(peer)), .uint(UInt256(UInt64(rights.rawValue)))]))
        return .json(try topicAccess(org, peer).merging(sent))
    }
}
