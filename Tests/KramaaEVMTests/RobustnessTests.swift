import KramaaPrimitives
import Testing
@testable import KramaaEVM

/// Random and hostile inputs: every precompile either fails cleanly (nil) or charges no
/// more than the gas it was given. A trap here would take down the node.
@Suite struct PrecompileRobustnessTests {
    static func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    @Test func randomInputsNeverTrap() {
        var rng = SplitMix64(seed: 99)
        let entries = Precompiles.cancun.sorted { $0.key < $1.key }
        for _ in 0..<40 {
            for (address, precompile) in entries {
                let length = [0, 1, 31, 64, 96, 128, 159, 160, 192, 213, 384][Int(rng.next() % 11)]
                let gas = Int64(rng.next() % 200_000)
                if let result = precompile(Self.randomBytes(length, &rng), gas) {
                    #expect(result.gasUsed <= gas && result.gasUsed >= 0, "\(address)")
                }
            }
        }
    }

    @Test func modexpHostileHeaders() {
        var rng = SplitMix64(seed: 100)
        let lengths: [UInt256] = [0, 1, 2, 31, 32, 33, 64, 1024, UInt256(1) << 32, UInt256(UInt64.max),
                                  UInt256(1) << 64, UInt256(1) << 255, .max]
        for _ in 0..<300 {
            var input = [UInt8]()
            for _ in 0..<3 { input += lengths[Int(rng.next() % UInt64(lengths.count))].bigEndianBytes }
            input += Self.randomBytes(Int(rng.next() % 100), &rng)
            // Block-sized gas at most: with unbounded gas a long exponent is (correctly) a
            // very long computation.
            let gas = [Int64(199), 200, 10_000, 30_000_000][Int(rng.next() % 4)]
            let price = Precompiles.modexpGas(input)
            if let result = Precompiles.modexp(input, gas) {
                #expect(UInt64(result.gasUsed) == price)
                #expect(result.gasUsed <= gas)
            } else {
                #expect(price > UInt64(gas), "refused an affordable input")
            }
        }
    }

    @Test func concurrentCallsAgree() async {
        // The lazily built constants and per-call scratch memory are safe to share.
        let pairing = BN254Vectors.gethPairing[0]
        let results = await withTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<8 {
                group.addTask { Precompiles.bn254Pairing(bytes(pairing.input), 1_000_000)?.output }
            }
            var all = [[UInt8]?]()
            for await r in group { all.append(r) }
            return all
        }
        #expect(results.allSatisfy { $0.map(hex) == pairing.expected })
    }
}
