/// Gas constants of the Cancun fork (Yellow Paper Appendix G with EIP-2929, 3529, 3860, 1153, 5656).
enum Gas {
    static let zero: Int64 = 0
    static let base: Int64 = 2
    static let veryLow: Int64 = 3
    static let low: Int64 = 5
    static let mid: Int64 = 8
    static let high: Int64 = 10
    static let jumpdest: Int64 = 1
    static let exp: Int64 = 10
    static let expByte: Int64 = 50
    static let keccak: Int64 = 30
    static let keccakWord: Int64 = 6
    static let copyWord: Int64 = 3
    static let blockhash: Int64 = 20
    static let warmAccess: Int64 = 100
    static let coldAccountAccess: Int64 = 2600
    static let coldSload: Int64 = 2100
    static let sstoreSet: Int64 = 20_000
    static let sstoreReset: Int64 = 2_900
    static let sstoreClearsRefund: Int64 = 4_800
    static let sstoreSentry: Int64 = 2_300
    static let log: Int64 = 375
    static let logTopic: Int64 = 375
    static let logByte: Int64 = 8
    static let create: Int64 = 32_000
    static let initCodeWord: Int64 = 2
    static let codeDeposit: Int64 = 200
    static let callValue: Int64 = 9_000
    static let callStipend: Int64 = 2_300
    static let newAccount: Int64 = 25_000
    static let selfDestruct: Int64 = 5_000
    static let memoryWord: Int64 = 3
    static let quadraticDivisor: Int64 = 512

    /// Total cost of `words` 32-byte words of memory: 3·w + w²/512.
    @inline(__always)
    static func memoryCost(words: Int64) -> Int64 { memoryWord * words + words * words / quadraticDivisor }

    /// Words needed for `bytes` bytes, rounded up.
    @inline(__always)
    static func words(_ bytes: Int64) -> Int64 { (bytes + 31) / 32 }

    static let maxCodeSize = 24_576
    static let maxInitCodeSize = 49_152
    static let maxDepth = 1024
    static let stackLimit = 1024
}
