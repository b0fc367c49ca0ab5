import KramaaJSON
import Foundation
import KramaaAPI
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// A node in a temporary directory with a funded key and a small contract, and its API.
final class APIFixture: @unchecked Sendable {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7])
    static let contract = try! Address(hex: "0x00000000000000000000000000000000000c0de0")
    static let topic = UInt256(0xfeed).bytes32

    /// Runtime code: with no call data, reverts with Error("nope"); otherwise stores the first
    /// word in slot 0, logs it (LOG1, topic 0xfeed) and returns it.
    static let code: [UInt8] = {
        func push32(_ word: [UInt8]) -> [UInt8] { [0x7f] + word + [UInt8](repeating: 0, count: 32 - word.count) }
        let store: [UInt8] = [0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x52]
            + push32(topic.bytes) + [0x60, 0x20, 0x60, 0x00, 0xa1, 0x60, 0x20, 0x60, 0x00, 0xf3]
        let revert: [UInt8] = [0x5b] + push32([0x08, 0xc3, 0x79, 0xa0]) + [0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x04, 0x52,
            0x60, 0x04, 0x60, 0x24, 0x52] + push32(Array("nope".utf8)) + [0x60, 0x44, 0x52, 0x60, 0x64, 0x60, 0x00, 0xfd]
        let head: [UInt8] = [0x36, 0x15, 0x60, UInt8(5 + store.count), 0x57]
        return head + store + revert
    }()

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-api-\(UUID().uuidString)")
    let node: Node
    let api: EthAPI
    let router: RPCRouter
    var sender: Address { Self.key.publicKey.address }

    init(devAccounts: DevAccounts = DevAccounts.derived(count: 2)) throws {
        let alloc = ([Self.key.publicKey.address] + devAccounts.addresses).map { "\"\($0)\": {\"balance\": \"0x3635c9adc5dea00000\"}" }
        let genesis = """
            {"config": {"chainId": 99, "kramaa": {"blockPeriodSeconds": 0}}, "gasLimit": "0x1c9c380",
             "alloc": {\(alloc.joined(separator: ",")),
                       "\(Self.contract)": {"code": "\(Hex.encode(Self.code))", "storage": {"0x0": "0x5"}}}}
            """
        try Node.initialize(dataDirectory: directory, genesisDocument: Data(genesis.utf8))
        node = try Node(dataDirectory: directory)
        api = EthAPI(node: node, devAccounts: devAccounts)
        router = api.router()
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Calls `method` and returns its result, or throws the RPCError it answered with.
    func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await router.handle(RPCRequest(method: method, params: RPCParams(params)), context: .inProcess())
    }

    /// The error a call answers with (fails the test through `nil` when it succeeds).
    func error(_ method: String, _ params: [JSON] = []) async -> RPCError? {
        do {
            _ = try await call(method, params)
            return nil
        } catch let e as RPCError {
            return e
        } catch let e as RPCErrorConvertible {
            return e.rpcError
        } catch {
            return RPCError.server("\(error)")
        }
    }

    /// A signed EIP-1559 transaction from the funded key.
    func signed(nonce: UInt64, to: Address?, value: UInt64 = 0, data: [UInt8] = [], gas: UInt64 = 100_000) -> Transaction {
        Transaction(type: .dynamicFee, chainId: 99, nonce: nonce, maxPriorityFeePerGas: UInt256(2), maxFeePerGas: UInt256(10_000_000_000),
                    gasLimit: gas, to: to, value: UInt256(value), data: data).signed(with: Self.key)
    }

    func send(_ tx: Transaction) async throws -> JSON {
        try await call("eth_sendRawTransaction", [.data(tx.encoded)])
    }

    @discardableResult
    func seal(_ timestamp: UInt64 = 0) throws -> ExecutedBlock? {
        try node.produceBlock(timestamp: timestamp, allowEmpty: true)
    }
}

extension JSON {
    var quantity: UInt64? { stringValue.flatMap { try? RPCHex.decodeQuantity($0) } }
}
