import KramaaJSON
import KramaaMessaging
import KramaaPrimitives
import KramaaRPC

/// `GET /api/v1/messages/{envelopeHash}/delivery`: the proofs that an envelope reached its
/// recipient through this node, with where the chain holds their roots.
public struct DeliveryEndpoints: HTTPEndpoint {
    public static let prefix = "/api/v1/messages"
    let log: DeliveryLog

    public init(log: DeliveryLog) { self.log = log }

    public func respond(to request: HTTPRequest) async -> HTTPResponse { await router.respond(to: request) }

    private var router: HTTPRouter {
        var r = HTTPRouter(prefix: Self.prefix)
        r.get("{hash}/delivery") { q in
            let text = q.path("hash")
            guard let hash = try? Bytes32(hex: text) else { throw HTTPProblem.badRequest("'\(text)' is not an envelope hash (32 bytes in hex)") }
            let proofs = log.proofs(of: hash)
            guard !proofs.isEmpty else {
                throw HTTPProblem.notFound("no delivery of envelope \(hash) is known to this node (deliveries are recorded where the recipient acknowledged them)")
            }
            return .json(.object(["envelopeHash": .string(hash.description), "deliveries": .array(proofs.map(\.json))]))
        }
        return r
    }
}

extension DeliveryProof {
    /// The proof as `kramaa msg prove` prints it and `kramaa msg verify` reads it.
    public var json: JSON {
        var o: JSONObject = [
            "chainId": .number(JSONNumber(chainId)), "envelopeHash": .string(envelopeHash.description),
            "recipient": .string(recipient.lowercased), "leaf": .string(leaf.description), "index": .number(JSONNumber(index)),
            "proof": .array(steps.map { .object(["sibling": .string($0.sibling.description), "left": .bool($0.siblingIsLeft)]) }),
            "root": .string(root.description),
        ]
        o["committed"] = committed?.json ?? .null
        return .object(o)
    }
}
