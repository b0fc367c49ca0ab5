import Foundation
import KramaaChain
import KramaaContracts
import KramaaDashboard
import KramaaEPCISIndex
import KramaaEVM
import KramaaPrimitives
import Testing

/// Calls and logs of a contract whose ABI the node knows (the platform's compiled ERC-20,
/// deployed by a user) are shown decoded on the transaction page.
@Suite struct ContractABITests {
    @Test func anERC20TransferIsShownWithItsFunctionArgumentsAndEvent() async throws {
        let fixture = try DashboardEscapingTests.Fixture()
        let key = DashboardEscapingTests.key
        let deploy = Transaction(type: .dynamicFee, chainId: 99, nonce: 0, maxPriorityFeePerGas: UInt256(2), maxFeePerGas: UInt256(10_000_000_000),
                                 gasLimit: 5_000_000, to: nil,
                                 data: CompiledContract.erc20.deployment([.string("Pallet credits"), .string("PAL"), .uint(UInt256(1_000_000))])).signed(with: key)
        _ = try fixture.node.accept(raw: deploy.encoded)
        let deployed = try #require(try fixture.node.produceBlock(timestamp: 1_000, allowEmpty: true))
        let token = try #require(deployed.outcomes.last?.createdAddress)
        fixture.nonce = 1
        let recipient = Address(word: UInt256(0xbeef))
        #expect(try fixture.send(token, ABI.selector("transfer(address,uint256)") + ABI.encode([.address(recipient), .uint(UInt256(2_500))])))
        let hash = try #require(try fixture.node.block(number: fixture.node.latest.number)?.transactions.last?.hash)
        let page = await fixture.page("/dashboard/tx/\(hash)")
        #expect(page.status == 200)
        #expect(page.body.contains("transfer(address,uint256) (ABI of ERC20)"))
        #expect(page.body.contains(recipient.checksummed) && page.body.contains(">2500<"), "the arguments decoded")
        #expect(page.body.contains("<b>Transfer</b> (ABI of ERC20)"), "the log named")
        #expect(page.body.contains("address indexed</span> receiver = <span class=\"mono\">\(recipient.checksummed)</span>")
                || page.body.contains("address indexed</span> to = <span class=\"mono\">\(recipient.checksummed)</span>"), "indexed arguments from the topics")
        #expect(page.body.contains("uint256</span> value = <span class=\"mono\">2500</span>"), "data arguments from the data")
        // An unknown selector stays a selector.
        #expect(try !fixture.send(token, [0xde, 0xad, 0xbe, 0xef]))
        let unknown = try #require(try fixture.node.block(number: fixture.node.latest.number)?.transactions.last?.hash)
        let other = await fixture.page("/dashboard/tx/\(unknown)")
        #expect(other.body.contains("deadbeef") && !other.body.contains("ABI of"))
    }
}
