import KramaaJSON
import Foundation
import KramaaChain
import KramaaPrimitives

/// Calls contracts (system contracts included) through a node's JSON-RPC: reads with
/// `eth_call`, writes as EIP-1559 transactions signed with the caller's key, waiting for the
/// receipt. A call that would revert is refused before it is sent, with the contract's reason.
public struct ContractClient: Sendable {
    public let node: NodeClient

    public init(node: NodeClient) { self.node = node }

    /// The ABI-encoded result of a read-only call.
    public func read(_ contract: Address, _ data: [UInt8], from: Address? = nil) throws -> [UInt8] {
        var call: JSONObject = ["to": .string(contract.checksummed), "data": .data(data)]
        if let from { call["from"] = .string(from.checksummed) }
        let result = try node.call("eth_call", [.object(call), "latest"])
        return try RPCHex.decodeData(result.stringValue ?? "")
    }

    /// Who signs a transaction the CLI sends.
    public enum Signer: Sendable {
        /// An ordinary account (secp256k1): an EIP-1559 transaction.
        case account(Secp256k1.PrivateKey)
        /// A device's P-256 or Ed25519 key: a device transaction (type 0x4b), its gas paid by
        /// the sponsor when one is given, else by the device's own account.
        case device(SigningKey, sponsor: Secp256k1.PrivateKey?)

        /// The signer of a key file: a device transaction for P-256/Ed25519 keys.
        public init(_ key: SigningKey, sponsor: Secp256k1.PrivateKey? = nil) throws {
            switch key {
            case .secp256k1(let k):
                guard sponsor == nil else { throw ClientError("--sponsor-key applies to device keys (P-256, Ed25519) only") }
                self = .account(k)
            default: self = .device(key, sponsor: sponsor)
            }
        }

        public var sender: Address {
            switch self {
            case .account(let k): k.publicKey.address
            case .device(let k, _): k.publicKey.address
            }
        }
    }

    /// Deploys `initCode` (constructor arguments appended) from `key`'s account; returns the
    /// receipt (its `contractAddress` is the new contract's).
    public func deploy(_ initCode: [UInt8], key: Secp256k1.PrivateKey, value: UInt256 = .zero) throws -> JSON {
        try send(nil, initCode, signer: .account(key), value: value)
    }

    /// Sends `data` to `contract` signed with `key`, waits for it to be included, and returns
    /// the receipt; throws with the revert reason when the call would fail.
    public func send(_ contract: Address, _ data: [UInt8], key: Secp256k1.PrivateKey, value: UInt256 = .zero,
              wait: TimeInterval = 30) throws -> JSON {
        try send(contract, data, signer: .account(key), value: value, wait: wait)
    }

    /// Sends `data` to `contract` as `signer` (an account's transaction or a device's), waits
    /// for it to be included, and returns the receipt; a call that would revert is refused
    /// before it is sent, with the contract's reason.
    public func send(_ contract: Address?, _ data: [UInt8], signer: Signer, value: UInt256 = .zero, wait: TimeInterval = 30) throws -> JSON {
        let sender = signer.sender
        var call: JSONObject = ["from": .string(sender.checksummed), "data": .data(data)]
        if let contract { call["to"] = .string(contract.checksummed) }
        if value != .zero { call["value"] = .string(value.hexQuantity) }
        let estimate = try RPCHex.decodeQuantity(try node.call("eth_estimateGas", [.object(call), "pending"]).stringValue ?? "")
        let chainId = try RPCHex.decodeQuantity(try node.call("eth_chainId").stringValue ?? "")
        let nonce = try RPCHex.decodeQuantity(try node.call("eth_getTransactionCount", [.string(sender.checksummed), "pending"]).stringValue ?? "")
        let latest = try node.call("eth_getBlockByNumber", ["latest", false])
        let gas = estimate + estimate / 5 + 10_000
        let tx: Transaction
        // EIP-1559 when the chain has a base fee; a legacy (EIP-155) transaction at eth_gasPrice otherwise.
        guard let baseFeeText = latest["baseFeePerGas"]?.stringValue else {
            guard case .account(let key) = signer else { throw ClientError("this chain has no base fee (no EIP-1559): device transactions cannot be sent to it") }
            let price = try UInt256(hex: try node.call("eth_gasPrice").stringValue ?? "0x0")
            return try submit(Transaction(type: .legacy, chainId: chainId, nonce: nonce, maxFeePerGas: price, gasLimit: gas, to: contract, value: value, data: data)
                .signed(with: key), wait: wait)
        }
        let baseFee = try UInt256(hex: baseFeeText)
        let tip = try UInt256(hex: try node.call("eth_maxPriorityFeePerGas").stringValue ?? "0x0")
        switch signer {
        case .account(let key):
            tx = Transaction(type: .dynamicFee, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: tip,
                             maxFeePerGas: baseFee &* UInt256(2) &+ tip, gasLimit: gas, to: contract, value: value, data: data).signed(with: key)
        case .device(let key, let sponsor):
            var unsigned = try Transaction.device(publicKey: key.publicKey, chainId: chainId, nonce: nonce, maxPriorityFeePerGas: tip,
                                                  maxFeePerGas: baseFee &* UInt256(2) &+ tip, gasLimit: gas,
                                                  to: contract, value: value, data: data, sponsor: sponsor?.publicKey.address)
            // The estimate was a plain call: add what verifying the device's (and sponsor's) signature costs.
            unsigned.gasLimit += unsigned.device?.verificationGas ?? 0
            try unsigned.signAsDevice(with: key)
            if let sponsor { try unsigned.addSponsorSignature(with: sponsor) }
            tx = unsigned
        }
        return try submit(tx, wait: wait)
    }

    /// Sends a signed transaction and waits up to `wait` seconds for its successful receipt.
    func submit(_ tx: Transaction, wait: TimeInterval) throws -> JSON {
        let hash = try node.call("eth_sendRawTransaction", [.data(tx.encoded)])
        let deadline = Date().addingTimeInterval(wait)
        while Date() < deadline {
            let receipt = try node.call("eth_getTransactionReceipt", [hash])
            if !receipt.isNull {
                guard receipt["status"]?.stringValue == "0x1" else {
                    throw ClientError("transaction \(hash.stringValue ?? "") was included but failed (status \(receipt["status"]?.stringValue ?? "?"))")
                }
                return receipt
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TransactionNotIncluded(hash: hash.stringValue ?? "", seconds: Int(wait))
    }
}

/// A transaction sent but not in a block within the wait (still pending, or dropped by a reorganisation).
public struct TransactionNotIncluded: Error, CustomStringConvertible {
    public let hash: String
    public let seconds: Int
    public var description: String { "transaction \(hash) was not included within \(seconds) s" }
}
