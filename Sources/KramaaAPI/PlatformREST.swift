import KramaaJSON
import KramaaAuth
import Foundation
import KramaaChain
import KramaaEPCISIndex
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC

extension HTTPProblem {
    /// The contract refused the call (its revert reason): nothing changed.
    static func refused(_ detail: String) -> HTTPProblem { HTTPProblem(status: 422, title: "Refused by the chain", detail: detail) }
}

extension ContractCallError: HTTPProblemConvertible {
    /// 404 for the contracts' "no …" reasons, 422 for other refusals, 504 when a transaction
    /// was not included, 400 otherwise.
    public var problem: HTTPProblem {
        switch self {
        case .reverted(let reason):
            let text = reason ?? "the call reverted"
            return text.hasPrefix("no ") ? .notFound(text) : .refused(text)
        case .notIncluded: return HTTPProblem(status: 504, title: "Not included", detail: description)
        case .malformedResult, .unavailable: return .badRequest(description)
        }
    }
}

extension EPCISIndexError: HTTPProblemConvertible {
    /// A stopped index answers 500 with its reason.
    public var problem: HTTPProblem { HTTPProblem(status: 500, title: "EPCIS index stopped", detail: description) }
}

extension Bytes32: RouteParameter {
    public init?(routeParameter text: String) { try? self.init(hex: text) }
    public static var routeParameterDescription: String { "a 32-byte hash (0x and 64 hex digits)" }
}

extension Address: RouteParameter {
    public init?(routeParameter text: String) { try? self.init(hex: text) }
    public static var routeParameterDescription: String { "an address (0x and 40 hex digits)" }
}

/// The plumbing the platform's REST handlers share: JSON bodies, contract reads through
/// `eth_call` semantics, and writes as transactions from an account the node holds, answered
/// once the transaction is in a block.
struct PlatformCalls: Sendable {
    let api: EthAPI
    /// How long a write waits for its transaction to be included.
    var inclusionTimeout: Duration = .seconds(30)

    var node: Node { api.node }
    var chain: any ChainProvider { api.chain }

    /// The caller of a write, checked by the node's access policy for `role` before anything
    /// of the request is read; its `actingAccount(_:)` then gives the account the write acts as.
    func caller(_ request: HTTPRequest, for role: AccessRole) throws(AccessError) -> Caller {
        try api.access.authorize(request.credentials, for: role)
    }

    /// Read-only calls on the node's head, for the typed contract clients.
    var reader: NodeContractReader { NodeContractReader(node: node) }

    /// Runs `data` to `contract` from `from` on the head state without sending it: throws the
    /// contract's refusal (422) when the write would revert.
    func simulate(from: Address, _ contract: Address, _ data: [UInt8]) throws {
        let probe = Transaction(type: .dynamicFee, chainId: node.chainId, nonce: 0, maxFeePerGas: .zero, gasLimit: min(node.latest.gasLimit, 30_000_000), to: contract, data: data)
        let result: TransactionReceiptData
        do { result = try node.call(probe, from: from, at: node.latest.number) } catch { throw HTTPProblem.badRequest("\(error)") }
        guard result.success else { throw HTTPProblem.refused(Opcodes.revertReason(result.output) ?? "the call reverted") }
    }

    /// Sends `data` to `contract` from `from` (an account whose key the node holds), waits for
    /// inclusion and returns the transaction hash and block number. Refused calls (the estimate
    /// reverts) are answered 422 with the contract's reason before anything is sent.
    func write(from: Address, _ contract: Address, _ data: [UInt8]) async throws -> (hash: Bytes32, block: UInt64, output: [UInt8]) {
        let hash: Bytes32
        do {
            let args = try TransactionArgs(rpcParam: ["from": .address(from), "to": .address(contract), "data": .data(data)])
            let accepted = try api.sendFromHeldAccount(args, gasHeadroom: 25)
            try await api.node.waitUntilDurable(accepted.ticket)
            hash = accepted.hash
        } catch let error as NodeError {
            if case .reverted(let output) = error { throw HTTPProblem.refused(Opcodes.revertReason(output) ?? "the call reverted") }
            throw HTTPProblem.badRequest("\(error)")
        } catch let error as RPCError {
            throw error.message == "unknown account" ? HTTPProblem.badRequest("the node holds no key for \(from)") : HTTPProblem.badRequest(error.message)
        } catch {
            throw HTTPProblem.badRequest("\(error)")
        }
        // Answered once the block is the node's head too, so reads that follow see the write;
        // woken by each new block, not by polling.
        guard let (number, _, receipt, outcome) = await chain.waitForReceipt(hash, timeout: inclusionTimeout, clock: api.clock) else {
            throw HTTPProblem(status: 504, title: "Not included", detail: "transaction \(hash) was not included within \(inclusionTimeout)")
        }
        guard receipt.success else { throw HTTPProblem.refused(Opcodes.revertReason(outcome.output) ?? "transaction \(hash) failed") }
        return (hash, number, outcome.output)
    }
}

/// Reading request bodies and path parameters.
extension HTTPRequest {
    /// The body as a JSON object.
    func jsonBody() throws(HTTPProblem) -> JSONObject {
        guard let value = try? JSON.parse(body), let object = value.objectValue else {
            throw .badRequest("the body must be a JSON object")
        }
        return object
    }
}

extension JSONObject {
    func string(_ name: String) throws(HTTPProblem) -> String {
        guard let value = self[name]?.stringValue else { throw .badRequest("\"\(name)\" is required and must be a string") }
        return value
    }

    /// The address in `name`, nil when the field is absent or null.
    func optionalAddress(_ name: String) throws(HTTPProblem) -> Address? {
        guard let value = self[name], !value.isNull else { return nil }
        return try address(name)
    }

    func address(_ name: String) throws(HTTPProblem) -> Address {
        let text = try string(name)
        do { return try Address(hex: text) } catch { throw .badRequest("\"\(name)\": \(error)") }
    }

    func uint64(_ name: String) throws(HTTPProblem) -> UInt64 {
        if let n = self[name]?.numberValue?.uint64 { return n }
        if let s = self[name]?.stringValue, let n = UInt64(s) { return n }
        throw .badRequest("\"\(name)\" is required and must be a non-negative integer")
    }

    /// An amount (wei, token units): a JSON integer, or a decimal or 0x-hex string for values
    /// beyond what JSON numbers carry exactly.
    func uint256(_ name: String) throws(HTTPProblem) -> UInt256 {
        if let n = self[name]?.numberValue?.uint64 { return UInt256(n) }
        if let s = self[name]?.stringValue, let n = try? UInt256(parsing: s) { return n }
        throw .badRequest("\"\(name)\" is required: a non-negative integer, as a number or a decimal string")
    }

    func bytes(_ name: String) throws(HTTPProblem) -> [UInt8] {
        let text = try string(name)
        do { return try Hex.decode(text) } catch { throw .badRequest("\"\(name)\": \(error)") }
    }

    func bytes32(_ name: String, default fallback: Bytes32? = nil) throws(HTTPProblem) -> Bytes32 {
        if self[name] == nil, let fallback { return fallback }
        let raw = try bytes(name)
        guard raw.count == 32 else { throw .badRequest("\"\(name)\" must be 32 bytes of hex") }
        return try! Bytes32(raw)
    }
}

extension JSON {
    /// An account in the REST answers: EIP-55 mixed case (JSON-RPC keeps geth's lower case).
    static func account(_ value: Address) -> JSON { .string(value.checksummed) }

    /// A plain JSON number (REST answers; JSON-RPC writes quantities as hex instead).
    static func int(_ value: Int) -> JSON { .number(JSONNumber(value)) }
    static func int(_ value: UInt64) -> JSON { .number(JSONNumber(value)) }
    static func int(_ value: UInt256) -> JSON { value.uint64Value.map { .number(JSONNumber($0)) } ?? .string(value.description) }
}
