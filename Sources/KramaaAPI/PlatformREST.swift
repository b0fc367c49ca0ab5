import KramaaAuth
import Foundation
import KramaaChain
import KramaaEPCISIndex
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// What a REST handler answers with when a request cannot be served: an HTTP status and an
/// RFC 7807 problem body saying what was wrong.
struct RESTProblem: Error {
    let status: Int
    let title: String
    let detail: String

    static func badRequest(_ detail: String) -> RESTProblem { RESTProblem(status: 400, title: "Bad request", detail: detail) }
    static func notFound(_ detail: String) -> RESTProblem { RESTProblem(status: 404, title: "Not found", detail: detail) }
    /// The contract refused the call (its revert reason): nothing changed.
    static func refused(_ detail: String) -> RESTProblem { RESTProblem(status: 422, title: "Refused by the chain", detail: detail) }

    var response: HTTPResponse { .problem(status: status, title: title, detail: detail) }

    /// Runs `body`; a stopped EPCIS index answers 500 with its reason.
    static func indexed<T>(_ body: () throws(EPCISIndexError) -> T) throws(RESTProblem) -> T {
        do { return try body() } catch { throw RESTProblem(status: 500, title: "EPCIS index stopped", detail: error.description) }
    }
}

extension RESTProblem {
    /// What a contract call's failure answers: 404 for the contracts' "no …" reasons, 422 for
    /// other refusals, 504 when a transaction was not included, 400 otherwise.
    init(_ error: ContractCallError) {
        switch error {
        case .reverted(let reason):
            let text = reason ?? "the call reverted"
            self = text.hasPrefix("no ") ? .notFound(text) : .refused(text)
        case .notIncluded: self = RESTProblem(status: 504, title: "Not included", detail: error.description)
        case .malformedResult, .unavailable: self = .badRequest(error.description)
        }
    }
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

    /// Runs a typed client's read; a revert becomes a 404 (reasons "no …") or a 422 with the reason.
    func read<T>(_ body: (NodeContractReader) throws(ContractCallError) -> T) throws(RESTProblem) -> T {
        do { return try body(reader) } catch { throw RESTProblem(error) }
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
            if case .reverted(let output) = error { throw RESTProblem.refused(Opcodes.revertReason(output) ?? "the call reverted") }
            throw RESTProblem.badRequest("\(error)")
        } catch let error as RPCError {
            throw error.message == "unknown account" ? RESTProblem.badRequest("the node holds no key for \(from)") : RESTProblem.badRequest(error.message)
        } catch {
            throw RESTProblem.badRequest("\(error)")
        }
        // Answered once the block is the node's head too, so reads that follow see the write;
        // woken by each new block, not by polling.
        let clock = api.clock
        let deadline = clock.uptime + inclusionTimeout
        while true {
            let head = chain.latest.number
            if let (number, index, receipt) = try? chain.includedReceipt(hash) {
                guard receipt.success else {
                    let output = (try? chain.receipts(number: number))??.outcomes[index].output ?? []
                    throw RESTProblem.refused(Opcodes.revertReason(output) ?? "transaction \(hash) failed")
                }
                return (hash, number, (try? chain.receipts(number: number))??.outcomes[index].output ?? [])
            }
            let remaining = deadline - clock.uptime
            guard remaining > .zero else { break }
            await chain.waitForHead(after: head, timeout: remaining, clock: clock)
        }
        throw RESTProblem(status: 504, title: "Not included", detail: "transaction \(hash) was not included within \(inclusionTimeout)")
    }
}

/// Reading request bodies and path parameters.
extension HTTPRequest {
    /// The body as a JSON object.
    func jsonBody() throws(RESTProblem) -> JSONObject {
        guard let value = try? JSON.parse(body), let object = value.objectValue else {
            throw .badRequest("the body must be a JSON object")
        }
        return object
    }
}

extension JSONObject {
    func string(_ name: String) throws(RESTProblem) -> String {
        guard let value = self[name]?.stringValue else { throw .badRequest("\"\(name)\" is required and must be a string") }
        return value
    }

    /// The address in `name`, nil when the field is absent or null.
    func optionalAddress(_ name: String) throws(RESTProblem) -> Address? {
        guard let value = self[name], !value.isNull else { return nil }
        return try address(name)
    }

    func address(_ name: String) throws(RESTProblem) -> Address {
        let text = try string(name)
        do { return try Address(hex: text) } catch { throw .badRequest("\"\(name)\": \(error)") }
    }

    func uint64(_ name: String) throws(RESTProblem) -> UInt64 {
        if let n = self[name]?.numberValue?.uint64 { return n }
        if let s = self[name]?.stringValue, let n = UInt64(s) { return n }
        throw .badRequest("\"\(name)\" is required and must be a non-negative integer")
    }

    func bytes(_ name: String) throws(RESTProblem) -> [UInt8] {
        let text = try string(name)
        do { return try Hex.decode(text) } catch { throw .badRequest("\"\(name)\": \(error)") }
    }

    func bytes32(_ name: String, default fallback: Bytes32? = nil) throws(RESTProblem) -> Bytes32 {
        if self[name] == nil, let fallback { return fallback }
        let raw = try bytes(name)
        guard raw.count == 32 else { throw .badRequest("\"\(name)\" must be 32 bytes of hex") }
        return try! Bytes32(raw)
    }
}

/// Path matching: `/api/v1/assets/{id}/custody` against a pattern's segments.
struct PathMatch {
    let segments: [Substring]

    init(_ path: String, under prefix: String) {
        segments = path.dropFirst(prefix.count).split(separator: "/")
    }

    /// The parameters where `pattern` has `*`, when every other segment matches.
    func match(_ pattern: String) -> [String]? {
        let parts = pattern.split(separator: "/")
        guard parts.count == segments.count else { return nil }
        var parameters: [String] = []
        for (part, segment) in zip(parts, segments) {
            if part == "*" { parameters.append(String(HTTPRequest.formDecode(segment))) } else if part != segment { return nil }
        }
        return parameters
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
