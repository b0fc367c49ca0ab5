import Foundation
import KramaaJSON
import KramaaAuth
import KramaaChain
import KramaaEVM
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import KramaaState

/// A transaction as eth_call, eth_estimateGas and eth_sendTransaction take it (geth's
/// TransactionArgs): every field optional, filled in by the method.
struct TransactionArgs: RPCParamDecodable {
    var from: Address?
    var to: Address?
    var gas: UInt64?
    var gasPrice: UInt256?
    var maxFeePerGas: UInt256?
    var maxPriorityFeePerGas: UInt256?
    var value: UInt256?
    var nonce: UInt64?
    var data: [UInt8]?
    var accessList: [AccessListEntry]?
    var chainId: UInt64?
    var type: UInt64?

    init(rpcParam value: JSON) throws {
        guard let o = value.objectValue else { throw RPCParamTypeError(found: value.kindName, expected: "ethapi.TransactionArgs") }
        func field<T: RPCParamDecodable>(_ name: String, _: T.Type = T.self) throws -> T? {
            guard let v = o[name], !v.isNull else { return nil }
            return try T(rpcParam: v)
        }
        from = try field("from")
        to = try field("to")
        gas = try field("gas")
        gasPrice = try field("gasPrice")
        maxFeePerGas = try field("maxFeePerGas")
        maxPriorityFeePerGas = try field("maxPriorityFeePerGas")
        self.value = try field("value")
        nonce = try field("nonce")
        chainId = try field("chainId")
        type = try field("type")
        let input = try field("input", HexData.self)?.bytes, data = try field("data", HexData.self)?.bytes
        if let input, let data, input != data {
            throw APIError.invalidArgument(#"both "data" and "input" are set and not equal. Please use "input" to pass transaction call data"#)
        }
        self.data = input ?? data
        if let list = o["accessList"], !list.isNull {
            guard let entries = list.arrayValue else { throw RPCParamTypeError(found: list.kindName, expected: "types.AccessList") }
            accessList = try entries.map { e in
                guard let address = e["address"] else { throw APIError.invalidArgument("access list entry without address") }
                return AccessListEntry(address: try Address(rpcParam: address),
                                       storageKeys: try e["storageKeys"].map { try [Bytes32](rpcParam: $0) } ?? [])
            }
        }
        if gasPrice != nil && (maxFeePerGas != nil || maxPriorityFeePerGas != nil) {
            throw RPCError.server("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
        }
    }

    /// The unsigned transaction these arguments describe, with `gas` and `nonce` as given.
    func transaction(chainId: UInt64, gas: UInt64, nonce: UInt64) -> Transaction {
        let type: TransactionType
        if let t = self.type.flatMap({ TransactionType(rawValue: UInt8(truncatingIfNeeded: $0)) }) {
            type = t
        } else if gasPrice != nil {
            type = accessList == nil ? .legacy : .accessList
        } else {
            type = .dynamicFee
        }
        let feeCap = gasPrice ?? maxFeePerGas ?? .zero
        return Transaction(type: type, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: gasPrice ?? maxPriorityFeePerGas ?? .zero,
                           maxFeePerGas: feeCap, gasLimit: gas, to: to, value: value ?? .zero, data: data ?? [],
                           accessList: accessList ?? [])
    }
}

extension EthAPI {
    /// The call's arguments at `p[0]`, its block at `p[1]`, and overrides at `p[2]`.
    /// For the `pending` tag, the next block's time (now): calls run as the block that includes
    /// them would, as geth runs them in its pending block.
    private func pendingTimestamp(_ p: RPCParams, _ index: Int) throws -> UInt64? {
        guard try p.decodeIfPresent(index, as: BlockSelector.self) == .pending else { return nil }
        return UInt64(Date().timeIntervalSince1970)
    }

    private func callArguments(_ p: RPCParams, defaultGas: UInt64) throws -> (Transaction, Address, UInt64, [Address: AccountOverride]) {
        try p.expect(atMost: 4)
        let args = try p.decode(0, as: TransactionArgs.self)
        let number = try stateBlock(p, 1)
        let overrides = try p[2].flatMap { $0.isNull ? nil : try AccountOverride.set(json: $0) } ?? [:]
        if let blockOverrides = p[3], !blockOverrides.isNull { throw RPCError.invalidParams("block overrides are not supported") }
        let gas = min(args.gas ?? defaultGas, gasCap)
        return (args.transaction(chainId: node.chainId, gas: gas, nonce: args.nonce ?? 0), args.from ?? .zero, number, overrides)
    }

    func registerCalls(_ r: inout RPCRouter) {
        let node = self.node, chain = self.chain
        r.register("eth_call") { [self] p, _ in
            let (tx, from, number, overrides) = try callArguments(p, defaultGas: gasCap)
            let result = try node.call(tx, from: from, at: number, pendingTimestamp: try pendingTimestamp(p, 1), overrides: overrides)
            switch result.status {
            case .success: return .data(result.output)
            case .revert: throw NodeError.reverted(output: result.output)
            case .failure(let error): throw NodeError.executionFailed(error)
            }
        }
        r.register("eth_estimateGas") { [self] p, _ in
            let blockGas = try chain.header(number: stateBlock(p, 1))?.gasLimit ?? node.latest.gasLimit
            var (tx, from, number, overrides) = try callArguments(p, defaultGas: blockGas)
            // With a fee cap the sender's balance bounds the gas, as in geth.
            if !tx.maxFeePerGas.isZero {
                let balance = try chain.withState(at: number) { s, _ in s.account(from)?.balance ?? .zero }
                let available = overrides[from]?.balance ?? balance
                guard available >= tx.value else { throw RPCError.server("insufficient funds for transfer") }
                let allowance = (available &- tx.value) / tx.maxFeePerGas
                if let a = allowance.uint64Value, a < tx.gasLimit { tx.gasLimit = a }
            }
            return .quantity(try node.estimateGas(tx, from: from, at: number, pendingTimestamp: try pendingTimestamp(p, 1), overrides: overrides))
        }
        r.register("eth_sendTransaction") { [self] p, c in
            try p.expect(atMost: 1)
            let args = try p.decode(0, as: TransactionArgs.self)
            try authorizeSigning(as: args.from, c)
            let accepted = try sendFromHeldAccount(args)
            try await c.holdAnswer { try await node.waitUntilDurable(accepted.ticket) }
            return .hash(accepted.hash)
        }
        r.register("eth_sign") { [self] p, c in
            try p.expect(atMost: 2)
            let address = try p.decode(0, as: Address.self)
            try authorizeSigning(as: address, c)
            return try sign(address, p.data(1))
        }
        r.register("personal_sign") { [self] p, c in
            try p.expect(atMost: 3)
            let address = try p.decode(1, as: Address.self)
            try authorizeSigning(as: address, c)
            return try sign(address, p.data(0))
        }
    }

    /// Signing with a held key needs the `sign` role, and a token acts only as its own account.
    private func authorizeSigning(as account: Address?, _ context: RPCContext) throws(AccessError) {
        let caller = try access.authorize(context.credentials, for: .sign)
        if let account { _ = try caller.actingAccount(account) }
    }

    /// Fills in what `args` leave out (nonce, fees, gas by estimation plus `gasHeadroom` percent),
    /// signs with the held key of `args.from` and submits: eth_sendTransaction (no headroom, as
    /// geth), and the REST API's writes (whose state may move between estimate and inclusion).
    /// The transaction is pooled and queued for the journal; acknowledge it only once
    /// `Node.waitUntilDurable` returned for its ticket.
    func sendFromHeldAccount(_ args: TransactionArgs, gasHeadroom: UInt64 = 0) throws -> Node.Accepted {
        guard let from = args.from else { throw RPCError.server("from not specified") }
        guard let key = devAccounts.key(for: from) else { throw RPCError.server("unknown account") }
        var tx = args.transaction(chainId: node.chainId, gas: args.gas ?? 0, nonce: args.nonce ?? node.pendingNonce(from))
        if let chainId = args.chainId, chainId != node.chainId {
            throw RPCError.invalidParams("chainId does not match node's (have=\(chainId), want=\(node.chainId))")
        }
        if args.gasPrice == nil && args.maxFeePerGas == nil {
            let tip = args.maxPriorityFeePerGas ?? suggestedTip()
            tx.maxPriorityFeePerGas = tip
            tx.maxFeePerGas = tip &+ max(nextBaseFee(), node.latest.baseFeePerGas) &* UInt256(2)
        } else if args.gasPrice == nil && args.maxFeePerGas != nil && args.maxPriorityFeePerGas == nil {
            tx.maxPriorityFeePerGas = min(suggestedTip(), tx.maxFeePerGas)
        }
        if args.gas == nil {
            var probe = tx
            probe.gasLimit = min(node.latest.gasLimit, gasCap)
            let estimate = try node.estimateGas(probe, from: from, at: node.latest.number)
            tx.gasLimit = min(estimate + estimate * gasHeadroom / 100, probe.gasLimit)
        }
        return try node.accept(raw: tx.signed(with: key).encoded)
    }

    private func sign(_ address: Address, _ message: [UInt8]) throws -> JSON {
        guard let key = devAccounts.key(for: address) else { throw RPCError.server("unknown account") }
        return .data(DevAccounts.signMessage(message, with: key))
    }
}
