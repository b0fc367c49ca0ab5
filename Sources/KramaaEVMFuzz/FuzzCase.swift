import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives

/// Builds one random message case from a seed, as the JSON `kramaa evm batch` reads: a rich
/// caller, contract A (called) and contract B (A's favourite callee) with random programs and
/// a few storage slots, an empty account and a missing one; random call data, value and gas.
enum FuzzCase {
    static let caller = try! Address(hex: "0x00000000000000000000000000000000000ca11e")
    static let contractA = try! Address(hex: "0x000000000000000000000000000000000000aaaa")
    static let contractB = try! Address(hex: "0x000000000000000000000000000000000000bbbb")
    static let emptyAccount = try! Address(hex: "0x000000000000000000000000000000000000e0e0")
    static let missingAccount = try! Address(hex: "0x000000000000000000000000000000000000dead")
    static let coinbase = try! Address(hex: "0x00000000000000000000000000000000c014ba5e")

    static func make(seed: UInt64) -> [String: Any] {
        var gen = ProgramGenerator(seed: seed, targets: [contractA, contractB, contractB, caller, emptyAccount, missingAccount, coinbase])
        let codeA = gen.program(length: 4 + gen.below(60))
        let codeB = gen.program(length: 2 + gen.below(40))
        func storage() -> [String: String] {
            var slots: [String: String] = [:]
            for slot in 0..<5 where gen.chance(40) { slots[UInt256(UInt64(slot)).hexQuantity] = UInt256(UInt64(1 + gen.below(3))).hexQuantity }
            return slots
        }
        let pre: [String: Any] = [
            caller.lowercased: ["balance": "0xde0b6b3a7640000", "nonce": "0x1"],
            contractA.lowercased: ["balance": UInt256(UInt64(gen.below(3) * 1000)).hexQuantity, "nonce": "0x1",
                                   "code": Hex.encode(codeA), "storage": storage()],
            contractB.lowercased: ["balance": "0x10", "code": Hex.encode(codeB), "storage": storage()],
            emptyAccount.lowercased: [String: Any](),
            coinbase.lowercased: ["balance": "0x1"],
        ]
        var data: [UInt8] = []
        for _ in 0..<gen.below(70) { data.append(UInt8(truncatingIfNeeded: gen.rng.next())) }
        let isStatic = gen.chance(8)
        let message: [String: Any] = [
            "caller": caller.lowercased, "to": contractA.lowercased,
            "value": UInt256(UInt64(isStatic || gen.chance(80) ? 0 : gen.below(5))).hexQuantity,
            "data": Hex.encode(data),
            "gas": gen.pick([21_000, 50_000, 100_000, 300_000, 1_000_000]),
            "static": isStatic,
        ]
        return [
            "id": "seed-\(seed)", "pre": pre, "message": message,
            "env": ["currentCoinbase": coinbase.lowercased, "currentNumber": "0x10"],
            "tx": ["gasPrice": "0xa"],
        ]
    }
}
