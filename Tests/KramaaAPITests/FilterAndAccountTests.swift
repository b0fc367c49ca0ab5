import KramaaJSON
import Foundation
import KramaaAPI
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import Testing

@Suite struct FilterAndAccountTests {
    @Test func filtersCollectWhatHappenedSinceTheLastPoll() async throws {
        let f = try APIFixture()
        let contract = JSON.address(APIFixture.contract)
        let blocks = try await f.call("eth_newBlockFilter")
        let pending = try await f.call("eth_newPendingTransactionFilter")
        let logs = try await f.call("eth_newFilter", [["address": contract, "topics": [.hash(APIFixture.topic)]]])
        let otherTopic = try await f.call("eth_newFilter", [["topics": [.hash(UInt256(1).bytes32)]]])
        let hash = try await f.send(f.signed(nonce: 0, to: APIFixture.contract, data: UInt256(3).bigEndianBytes))
        #expect(try await f.call("eth_getFilterChanges", [pending]) == [hash])
        #expect(try await f.call("eth_getFilterChanges", [pending]) == [], "a poll empties the filter")
        let built = try #require(try f.seal(3))
        #expect(try await f.call("eth_getFilterChanges", [blocks]) == [.hash(built.block.hash)])
        let changes = try await f.call("eth_getFilterChanges", [logs])
        #expect(changes.arrayValue?.count == 1)
        #expect(changes[0]?["data"] == .data(UInt256(3).bigEndianBytes) && changes[0]?["transactionHash"] == hash)
        #expect(changes[0]?["blockNumber"] == "0x1" && changes[0]?["logIndex"] == "0x0" && changes[0]?["removed"] == false)
        #expect(try await f.call("eth_getFilterChanges", [otherTopic]) == [])
        #expect(try await f.call("eth_getFilterLogs", [logs]) == changes)
        // eth_getLogs by range, by block hash, by topic alternatives.
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x0", "toBlock": "latest", "address": contract]]) == changes)
        #expect(try await f.call("eth_getLogs", [["blockHash": .hash(built.block.hash)]]) == changes)
        #expect(try await f.call("eth_getLogs", [["topics": [[.hash(UInt256(1).bytes32), .hash(APIFixture.topic)]]]]) == changes)
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x0", "toBlock": "0x0"]]) == [])
        #expect(await f.error("eth_getLogs", [["fromBlock": "0x1", "toBlock": "0x0"]])?.message == "invalid block range params")
        #expect(try await f.call("eth_uninstallFilter", [logs]) == true)
        #expect(try await f.call("eth_uninstallFilter", [logs]) == false)
        #expect(await f.error("eth_getFilterChanges", [logs])?.message == "filter not found")
        #expect(await f.error("eth_subscribe", ["newHeads"])?.message == "notifications not supported")
    }

    @Test func devAccountsSignAndSend() async throws {
        let dev = DevAccounts.derived(count: 2)
        let f = try APIFixture(devAccounts: dev)
        let from = dev.addresses[0], to = dev.addresses[1]
        #expect(try await f.call("eth_accounts") == .array(dev.addresses.map { .address($0) }))
        let hash = try await f.call("eth_sendTransaction", [["from": .address(from), "to": .address(to), "value": "0x7"]])
        let pooled = try await f.call("eth_getTransactionByHash", [hash])
        #expect(pooled["gas"] == "0x5208" && pooled["from"] == .address(from) && pooled["type"] == "0x2", "\(pooled)")
        try f.seal(1)
        #expect(try await f.call("eth_getTransactionReceipt", [hash])["status"] == "0x1")
        #expect(await f.error("eth_sendTransaction", [["from": .address(f.sender), "to": .address(to)]])?.message == "unknown account")
        // eth_sign: EIP-191 over the message; recover the signer from r, s, v.
        let message = Array("hello kramaa".utf8)
        let signature = try #require(try await f.call("eth_sign", [.address(from), .data(message)]).stringValue)
        #expect(try await f.call("personal_sign", [.data(message), .address(from)]) == .string(signature))
        let bytes = try Hex.decode(signature)
        #expect(bytes.count == 65 && (bytes[64] == 27 || bytes[64] == 28))
        let digest = Keccak256.hash(Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8) + message)
        let recovered = try Secp256k1.recover(digest: digest, r: Bytes32(Array(bytes[0..<32])), s: Bytes32(Array(bytes[32..<64])),
                                              recoveryId: bytes[64] - 27)
        #expect(recovered.address == from)
    }

    /// eth_getLogs writes its answer straight to bytes: the logs must be what receipts show
    /// (built as values), and topic positions must be read and matched as geth does.
    @Test func getLogsAnswersAsReceiptsShowLogsAndMatchesTopicsAsGeth() async throws {
        let f = try APIFixture()
        var hashes: [JSON] = []
        for n in 0..<3 { hashes.append(try await f.send(f.signed(nonce: UInt64(n), to: APIFixture.contract, data: UInt256(UInt64(7 + n)).bigEndianBytes))) }
        try f.seal(1)
        var fromReceipts: [JSON] = []
        for hash in hashes { fromReceipts += try await f.call("eth_getTransactionReceipt", [hash])["logs"]?.arrayValue ?? [] }
        #expect(fromReceipts.count == 3)
        let contract = JSON.address(APIFixture.contract), topic = JSON.hash(APIFixture.topic), other = JSON.hash(UInt256(1).bytes32)
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "address": contract]]) == .array(fromReceipts))
        // The logs have one topic: a second position, even a wildcard, excludes them (geth's filterLogs).
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "topics": [topic, .null]]]) == [])
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "topics": [topic, []]]]) == [])
        // A null among the alternatives makes the position a wildcard (geth's FilterCriteria).
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "topics": [[other, .null]]]]) == .array(fromReceipts))
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "topics": [[.null, "not even hex"]]]]) == .array(fromReceipts))
        #expect(try await f.call("eth_getLogs", [["fromBlock": "0x1", "topics": [[other]]]]) == [])
        // Through the dispatcher too (the bytes the wire carries).
        let text = try #require(await RPCDispatcher(handler: f.router).respond(
            to: #"{"jsonrpc":"2.0","id":7,"method":"eth_getLogs","params":[{"fromBlock":"0x1","address":"\#(APIFixture.contract.lowercased)"}]}"#))
        #expect(try JSON.parse(text) == ["jsonrpc": "2.0", "id": 7, "result": .array(fromReceipts)])
    }

    @Test func badInputGetsGethsErrorsAndChangesNothing() async throws {
        let f = try APIFixture()
        let cases: [(String, [JSON], Int, String)] = [
            ("eth_getBalance", ["0x12"], -32602, "invalid argument 0: hex string has length 2, want 40 for common.Address"),
            ("eth_getBalance", [5], -32602, "invalid argument 0: json: cannot unmarshal non-string into Go value of type common.Address"),
            ("eth_getBalance", [.address(f.sender), "0x01"], -32602, "invalid argument 1: hex number with leading zero digits"),
            ("eth_getBalance", [.address(f.sender), "latest", "x"], -32602, "too many arguments, want at most 2"),
            ("eth_getBlockByNumber", ["latest"], -32602, "missing value for required argument 1"),
            ("eth_sendRawTransaction", ["0x"], -32000, "typed transaction too short"),
            ("eth_getStorageAt", [.address(f.sender), .string("0x" + String(repeating: "1", count: 66))], -32602,
             "invalid argument 1: hex string too long, want at most 32 bytes"),
            ("eth_nope", [], -32601, "the method eth_nope does not exist/is not available"),
        ]
        for (method, params, code, message) in cases {
            let error = await f.error(method, params)
            #expect(error?.code == code && error?.message == message, "\(method) \(params): \(String(describing: error))")
        }
        // Transactions the pool refuses, each with geth's message; nothing is pooled or sealed.
        var wrongChain = f.signed(nonce: 0, to: f.sender)
        wrongChain.chainId = 5
        wrongChain.sign(with: APIFixture.key)
        let lowFee = Transaction(type: .dynamicFee, chainId: 99, nonce: 0, maxFeePerGas: UInt256(1), gasLimit: 21_000,
                                 to: f.sender).signed(with: APIFixture.key)
        let refusals: [(Transaction, String)] = [
            (wrongChain, "invalid chain id for signer: have 5 want 99"),
            (lowFee, "transaction underpriced: max fee per gas 1 less than block base fee 1000000000"),
            (f.signed(nonce: 0, to: f.sender, gas: 20_000), "intrinsic gas too low: gas 20000, minimum needed 21000"),
        ]
        for (tx, message) in refusals {
            #expect(await f.error("eth_sendRawTransaction", [.data(tx.encoded)])?.message == message)
        }
        #expect(f.node.poolCounts == (0, 0))
        #expect(try f.node.produceBlock(timestamp: 1, allowEmpty: false) == nil)
        _ = try await f.send(f.signed(nonce: 0, to: f.sender))
        try f.seal(2)
        #expect(await f.error("eth_sendRawTransaction", [.data(f.signed(nonce: 0, to: f.sender, value: 1).encoded)])?.message
                == "nonce too low: next nonce 1, tx nonce 0")
    }

    @Test func stateOlderThanTheKeptHistoryIsRefusedClearly() async throws {
        let f = try APIFixture()
        for n in 1...(Node.historyDepth + 2) { try f.seal(n) }
        #expect(try await f.call("eth_getBalance", [.address(f.sender), .quantity(UInt64(2))]) == "0x3635c9adc5dea00000")
        let error = await f.error("eth_getBalance", [.address(f.sender), "0x1"])
        #expect(error?.code == -32000 && error?.message.hasPrefix("historical state not available: block 1") == true)
        // Blocks themselves stay available.
        #expect(try await f.call("eth_getBlockByNumber", ["0x1", false])["number"] == "0x1")
    }
}
