import KramaaJSON
import KramaaPlatform
import KramaaPrimitives
import KramaaRPC

/// `/devices/{device}/policy`: what a device may do with its own account, enforced by the
/// protocol (docs/DEVICE-POLICIES.md). PUT replaces the whole policy in one transaction.
extension PlatformEndpoints {
    func devicePolicyRoutes(_ r: inout HTTPRouter) {
        r.get("devices/{device}/policy") { q in .json(try devicePolicy(try q.path("device"))) }
        r.put("devices/{device}/policy") { q in
            let device: Address = try q.path("device")
            return try await write(q) { body, from in
                let sent = try await calls.write(from: from, DevicePolicies.address, try Self.policy(body).putCallData(device: device))
                return .json(try devicePolicy(device).merging(sent))
            }
        }
        r.post("devices/{device}/policy/revoke") { q in
            let device: Address = try q.path("device")
            return try await write(q) { _, from in
                let sent = try await calls.write(from: from, DevicePolicies.address, DevicePolicies.Method.revoke.callData([.address(device)]))
                return .json(try devicePolicy(device).merging(sent))
            }
        }
    }

    func devicePolicy(_ device: Address) throws -> JSON {
        guard let policy = try DevicePolicyClient(calls.reader).policy(of: device) else { return ["device": .account(device), "policy": .null] }
        let calls: [JSON] = policy.calls.map { ["target": .account($0.target), "selector": .string(Self.selectorName($0.selector))] }
        let tokens: [JSON] = policy.tokens.map {
            ["token": .account($0.token), "perPeriod": .string($0.perPeriod.description), "spent": .string($0.spent.description),
             "remaining": .string($0.remaining.description)]
        }
        return ["device": .account(device), "policy": [
            "revoked": .bool(policy.revoked), "feesSponsored": .bool(policy.feesSponsored),
            "nativePerPeriod": .string(policy.nativePerPeriod.description), "period": .int(policy.period), "validUntil": .int(policy.validUntil),
            "nativeSpent": .string(policy.nativeSpent.description), "nativeRemaining": .string(policy.nativeRemaining.description),
            "calls": .array(calls), "tokens": .array(tokens),
        ]]
    }

    /// A policy from a PUT body: `nativePerPeriod` (wei), `period` and `validUntil` (seconds,
    /// default 0), `feesSponsored` (default false), `calls` [{target, selector}], `tokens`
    /// [{token, perPeriod}].
    static func policy(_ body: JSONObject) throws -> DevicePolicyRecord {
        var policy = DevicePolicyRecord()
        policy.nativePerPeriod = try body.uint256("nativePerPeriod")
        policy.period = body["period"] == nil ? 0 : try body.uint64("period")
        policy.validUntil = body["validUntil"] == nil ? 0 : try body.uint64("validUntil")
        guard body["feesSponsored"] == nil || body["feesSponsored"]?.boolValue != nil else { throw HTTPProblem.badRequest("\"feesSponsored\" must be true or false") }
        policy.feesSponsored = body["feesSponsored"]?.boolValue ?? false
        for item in try list(body, "calls") {
            policy.calls.append(.init(target: try item.address("target"), selector: try selector(try item.string("selector"))))
        }
        for item in try list(body, "tokens") {
            policy.tokens.append(.init(token: try item.address("token"), perPeriod: try item.uint256("perPeriod")))
        }
        return policy
    }

    private static func list(_ body: JSONObject, _ name: String) throws -> [JSONObject] {
        guard let value = body[name] else { return [] }
        guard let items = value.arrayValue, let objects = Optional(items.compactMap(\.objectValue)), objects.count == items.count else {
            throw HTTPProblem.badRequest("\"\(name)\" must be a list of objects")
        }
        return objects
    }

    /// `*` (every function), `transfer` (plain transfers, no call data), `0x` and 8 hex digits, or
    /// a function signature such as `water(uint256)`.
    static func selector(_ text: String) throws -> [UInt8] {
        switch text {
        case "*": return DevicePolicies.anyFunction
        case "transfer": return DevicePolicies.plainTransfer
        case _ where text.hasPrefix("0x"):
            guard let bytes = try? Hex.decode(text), bytes.count == 4 else { throw HTTPProblem.badRequest("selector \(text) must be 4 bytes of hex") }
            return bytes
        case _ where text.contains("(") && text.hasSuffix(")") && !text.contains(" "):
            return ABI.selector(text)
        default:
            throw HTTPProblem.badRequest("selector \(text) is not *, transfer, 0x and 8 hex digits, or a function signature like water(uint256)")
        }
    }

    static func selectorName(_ selector: [UInt8]) -> String {
        switch selector {
        case DevicePolicies.anyFunction: "*"
        case DevicePolicies.plainTransfer: "transfer"
        default: Hex.encode(selector)
        }
    }
}
