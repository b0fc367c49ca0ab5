import Foundation
import KramaaAPI
import KramaaChain
import KramaaJSON
import KramaaPrimitives
import KramaaRPC
import Testing

/// eth_sendRawTransaction in a JSON-RPC batch: the senders are recovered for the whole batch
/// before its calls run (``Node/prepare(raws:)``); the answers are the ones the calls would
/// get one by one, refusals included.
@Suite struct BatchSubmissionTests {
    static func body(_ raws: [[UInt8]]) -> String {
        "[" + raws.enumerated().map { i, raw in
            #"{"jsonrpc":"2.0","id":\#(i),"method":"eth_sendRawTransaction","params":["\#(RPCHex.encodeData(raw))"]}"#
        }.joined(separator: ",") + "]"
    }

    @Test func aBatchIsAnsweredAsItsCallsOneByOneWouldBe() async throws {
        let f = try APIFixture()
        var wrongChain = f.signed(nonce: 2, to: f.sender)
        wrongChain.chainId = 5
        wrongChain.sign(with: APIFixture.key)
        let first = f.signed(nonce: 0, to: f.sender), second = f.signed(nonce: 1, to: f.sender, value: 1)
        let raws: [[UInt8]] = [first.encoded, second.encoded, first.encoded, wrongChain.encoded, [0x02],
                               f.signed(nonce: 3, to: f.sender, gas: 20_000).encoded]
        let text = try #require(await RPCDispatcher(handler: f.router).respond(to: Self.body(raws)))
        let answers = try #require(try JSON.parse(text).arrayValue)
        #expect(answers.count == raws.count)
        #expect(answers[0]["result"]?.stringValue == first.hash.description)
        #expect(answers[1]["result"]?.stringValue == second.hash.description)
        let messages = answers.map { $0["error"]?["message"]?.stringValue }
        #expect(messages[2] == "already known")
        #expect(messages[3] == "invalid chain id for signer: have 5 want 99")
        #expect(messages[4]?.hasPrefix("rlp: ") == true, "a body that is not a transaction")
        #expect(messages[5] == "intrinsic gas too low: gas 20000, minimum needed 21000")
        #expect(f.node.poolCounts == (2, 0), "the two good ones are pooled, nothing else")
        // The same refusals one by one, with nothing prepared.
        for (i, raw) in raws.enumerated().dropFirst(2) {
            #expect(await f.error("eth_sendRawTransaction", [.data(raw)])?.message == messages[i], "call \(i)")
        }
        let sealed = try #require(try f.seal(1))
        #expect(sealed.block.transactions.map(\.hash) == [first.hash, second.hash])
    }
}
