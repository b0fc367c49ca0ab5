import KramaaJSON
import Foundation
import KramaaAPI
import KramaaChain
import KramaaNode
import KramaaPrimitives
import KramaaRPC
import Testing

@Suite struct EthAPITests {
    @Test func aTransferIsReportedAsGethReportsIt() async throws {
        let f = try APIFixture()
        let to = try Address(hex: "0x00000000000000000000000000000000000000aa")
        let tx = f.signed(nonce: 0, to: to, value: 1000, gas: 21_000)
        let hash = try await f.send(tx)
        #expect(hash == .hash(tx.hash))
        // Pending: known by hash, counted by the pending nonce, not yet in a block.
        #expect(try await f.call("eth_getTransactionByHash", [hash])["blockNumber"] == .null)
        #expect(try await f.call("eth_getTransactionCount", [.address(f.sender), "pending"]).quantity == 1)
        #expect(try await f.call("eth_getTransactionCount", [.address(f.sender), "latest"]).quantity == 0)
        #expect(try await f.call("eth_getTransactionReceipt", [hash]) == .null)
        try f.seal(10)
        let receipt = try await f.call("eth_getTransactionReceipt", [hash])
        #expect(receipt["status"] == "0x1" && receipt["gasUsed"] == "0x5208" && receipt["cumulativeGasUsed"] == "0x5208")
        #expect(receipt["blockNumber"] == "0x1" && receipt["transactionIndex"] == "0x0" && receipt["contractAddress"] == .null)
        #expect(receipt["from"] == .address(f.sender) && receipt["to"] == .address(to) && receipt["type"] == "0x2")
        let block = try await f.call("eth_getBlockByNumber", ["latest", true])
        #expect(block["hash"] == receipt["blockHash"] && block["number"] == "0x1")
        #expect(block["transactions"]?[0]?["hash"] == hash && block["transactions"]?[0]?["from"] == .address(f.sender))
        let byHash = try await f.call("eth_getBlockByHash", [try #require(block["hash"]), false])
        #expect(byHash["transactions"] == [hash])
        #expect(try await f.call("eth_getBlockTransactionCountByNumber", ["0x1"]) == "0x1")
        #expect(try await f.call("eth_getTransactionByBlockNumberAndIndex", ["0x1", "0x0"])["hash"] == hash)
        #expect(try await f.call("eth_getTransactionByBlockNumberAndIndex", ["0x1", "0x1"]) == .null)
        #expect(try await f.call("eth_getBlockReceipts", ["0x1"])[0] == receipt)
        #expect(try await f.call("eth_getBlockByNumber", ["0x2", false]) == .null, "a future block is null")
        // Balances now and at genesis (history).
        #expect(try await f.call("eth_getBalance", [.address(to)]) == "0x3e8")
        #expect(try await f.call("eth_getBalance", [.address(to), "0x0"]) == "0x0")
        #expect(try await f.call("eth_getBalance", [.address(to), "earliest"]) == "0x0")
        let price = try #require(receipt["effectiveGasPrice"]?.quantity)
        let before = UInt256(1000) &* UInt256(1_000_000_000_000_000_000 as UInt64)
        let after = before &- UInt256(1000) &- UInt256(21_000) &* UInt256(price)
        #expect(try await f.call("eth_getBalance", [.address(f.sender), "latest"]) == .quantity(after))
        #expect(await f.error("eth_getBalance", [.address(to), "0x9"])?.message == "header not found")
    }

    @Test func callsSeeStateRevertReasonsAndOverrides() async throws {
        let f = try APIFixture()
        let contract = JSON.address(APIFixture.contract)
        let word = UInt256(42).bigEndianBytes
        #expect(try await f.call("eth_call", [["to": contract, "input": .data(word)], "latest"]) == .data(word))
        let reverted = try #require(await f.error("eth_call", [["to": contract]]))
        #expect(reverted.code == 3 && reverted.message == "execution reverted: nope")
        #expect(reverted.data?.stringValue?.hasPrefix("0x08c379a0") == true)
        #expect(await f.error("eth_estimateGas", [["to": contract]])?.message == "execution reverted: nope")
        // Storage before and after, and an override that replaces it.
        #expect(try await f.call("eth_getStorageAt", [contract, "0x0", "latest"]) == .hash(UInt256(5).bytes32))
        _ = try await f.send(f.signed(nonce: 0, to: APIFixture.contract, data: word))
        try f.seal(5)
        #expect(try await f.call("eth_getStorageAt", [contract, "0x0"]) == .hash(UInt256(42).bytes32))
        #expect(try await f.call("eth_getStorageAt", [contract, "0x0", "0x0"]) == .hash(UInt256(5).bytes32))
        // Overrides: code on an empty account, a slot, and a balance; the chain is untouched.
        let other = Address(word: UInt256(0xca11))
        let key = JSON.address(other).stringValue!
        #expect(try await f.call("eth_call", [["to": .address(other), "input": .data(word)], "latest",
                                              [key: ["code": .data(APIFixture.code)]]]) == .data(word))
        let sloadZero: [UInt8] = [0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]
        #expect(try await f.call("eth_call", [["to": .address(other)], "latest",
                                              [key: ["code": .data(sloadZero), "stateDiff": ["0x0": .hash(UInt256(9).bytes32)]]]])
                == .hash(UInt256(9).bytes32))
        #expect(await f.error("eth_call", [["from": .address(other), "to": .address(f.sender), "value": "0x5"]])?.message
                == "insufficient funds for gas * price + value: have 0 want 5")
        #expect(try await f.call("eth_call", [["from": .address(other), "to": .address(f.sender), "value": "0x5"], "latest",
                                              [key: ["balance": "0x5"]]]) == .data([]))
        #expect(try await f.call("eth_getCode", [.address(other)]) == .data([]))
        #expect(await f.error("eth_call", [["to": .address(other)], "latest", [key: ["state": [:], "stateDiff": [:]]]])?.message
                == "account has both 'state' and 'stateDiff'")
    }

    @Test func gasEstimatesAreTheLeastThatSucceeds() async throws {
        let f = try APIFixture()
        let args: JSON = ["from": .address(f.sender), "to": .address(APIFixture.contract), "input": .data(UInt256(7).bigEndianBytes)]
        let estimate = try #require(try await f.call("eth_estimateGas", [args]).quantity)
        var enough = args.objectValue!, short = args.objectValue!
        enough["gas"] = .quantity(estimate)
        short["gas"] = .quantity(estimate * 985 / 1000 - 1)
        #expect(try await f.call("eth_call", [.object(enough)]) == .data(UInt256(7).bigEndianBytes))
        #expect(await f.error("eth_call", [.object(short)]) != nil, "1.5 % less gas fails")
        #expect(try await f.call("eth_estimateGas", [["from": .address(f.sender), "to": .address(f.sender)]]) == "0x5208")
        let poor = Address(word: UInt256(0xdead))
        #expect(await f.error("eth_estimateGas", [["from": .address(poor), "to": .address(f.sender), "value": "0x1"]])?.message
            == "insufficient funds for gas * price + value: have 0 want 1")
    }
}
