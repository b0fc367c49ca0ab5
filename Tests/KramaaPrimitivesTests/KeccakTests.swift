import Testing
import KramaaPrimitives
import KramaaTestSupport

@Suite struct KeccakTests {
    @Test func emptyInputHashesToTheWellKnownValue() {
        #expect(Keccak256.hash([UInt8]()).description == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(Keccak256.hash([0xc0]).description == "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
    }

    @Test func sha3PaddingGivesFIPS202() {
        #expect(Keccak256.sha3([UInt8]()).description == "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
        #expect(Keccak256.sha3(Array("abc".utf8)).description == "0x3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
    }
}
