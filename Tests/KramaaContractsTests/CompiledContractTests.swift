import KramaaContracts
import KramaaJSON
import KramaaPrimitives
import Testing

/// The generated contracts: each one's init code decodes and its ABI is a JSON list of entries
/// (that they are what contracts/*.vy compile to is tests/python/test_contracts_compiled.py's part).
@Suite struct CompiledContractTests {
    @Test(arguments: CompiledContract.allCases)
    func initCodeAndABIDecode(_ contract: CompiledContract) throws {
        #expect(contract.initCode.count > 32, "\(contract)")
        let abi = try JSON.parse(contract.abiJSON)
        let entries = try #require(abi.arrayValue)
        #expect(!entries.isEmpty && entries.allSatisfy { $0["type"]?.stringValue != nil })
    }

    @Test func aDeploymentAppendsTheConstructorArguments() {
        let data = CompiledContract.erc20.deployment([.string("T"), .string("T"), .uint(UInt256(5))])
        #expect(Array(data.prefix(CompiledContract.erc20.initCode.count)) == CompiledContract.erc20.initCode)
        #expect(data.count == CompiledContract.erc20.initCode.count + 32 * 7)
    }
}
