@testable import KramaaPrimitives
import Testing

/// The permutation (unrolled, with complemented lanes) and the sponge around it agree with a
/// textbook Keccak-f[1600] written from FIPS 202 §3.2 (loops over x and y, round constants
/// from the LFSR of §3.2.5), on random states and on every message length across three blocks.
@Suite struct KeccakPermutationTests {
    /// Keccak-f[1600] as FIPS 202 writes it; lane (x, y) at index x + 5y.
    static func textbookPermute(_ a: inout [UInt64]) {
        let offsets = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14]
        func rotl(_ v: UInt64, _ n: Int) -> UInt64 { n == 0 ? v : (v << UInt64(n)) | (v >> UInt64(64 - n)) }
        for round in 0..<24 {
            var c = [UInt64](repeating: 0, count: 5)
            for x in 0..<5 { for y in 0..<5 { c[x] ^= a[x + 5 * y] } }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1)
                for y in 0..<5 { a[x + 5 * y] ^= d }
            }
            var b = [UInt64](repeating: 0, count: 25)
            for x in 0..<5 {
                for y in 0..<5 {
                    let target: Int = y + 5 * ((2 * x + 3 * y) % 5)
                    b[target] = rotl(a[x + 5 * y], offsets[x + 5 * y])
                }
            }
            for x in 0..<5 {
                for y in 0..<5 {
                    let next: UInt64 = b[(x + 1) % 5 + 5 * y], afterNext: UInt64 = b[(x + 2) % 5 + 5 * y]
                    a[x + 5 * y] = b[x + 5 * y] ^ (~next & afterNext)
                }
            }
            a[0] ^= roundConstant(round)
        }
    }

    /// ι's constant of round `round`, from the degree-8 LFSR (FIPS 202 Algorithm 5 and 6).
    static func roundConstant(_ round: Int) -> UInt64 {
        func bit(_ t: Int) -> UInt64 {
            var r = 1  // bit i holds R[i]; R = 10000000
            for _ in 0..<(t % 255) {
                r <<= 1
                if r & 0x100 != 0 { r ^= 0x171 }  // R[0], R[4], R[5], R[6] ^= R[8]; R[8] dropped
            }
            return UInt64(r & 1)
        }
        var constant: UInt64 = 0
        for j in 0...6 { constant |= bit(j + 7 * round) << UInt64((1 << j) - 1) }
        return constant
    }

    /// Keccak-256 as the original submission pads it (0x01 … 0x80), rate 136 bytes.
    static func textbookKeccak256(_ message: [UInt8]) -> [UInt8] {
        var padded = message + [0x01] + [UInt8](repeating: 0, count: 135 - message.count % 136)
        padded[padded.count - 1] |= 0x80
        var state = [UInt64](repeating: 0, count: 25)
        for block in stride(from: 0, to: padded.count, by: 136) {
            for i in 0..<17 {
                for k in 0..<8 { state[i] ^= UInt64(padded[block + 8 * i + k]) << UInt64(8 * k) }
            }
            textbookPermute(&state)
        }
        return (0..<32).map { UInt8(truncatingIfNeeded: state[$0 / 8] >> UInt64(8 * ($0 % 8))) }
    }

    @Test func thePermutationAgreesWithTheTextbookOneOnRandomStates() {
        var random = SplitMix64(seed: 21)
        for _ in 0..<500 {
            var lanes = (0..<25).map { _ in random.next() }
            var tuple: KeccakLanes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &tuple) { raw in
                lanes.withUnsafeBytes { raw.copyMemory(from: $0) }
            }
            Keccak256.permute(&tuple)
            Self.textbookPermute(&lanes)
            let permuted = withUnsafeBytes(of: &tuple) { Array($0.bindMemory(to: UInt64.self)) }
            guard permuted == lanes else {
                Issue.record("the permutation differs from the textbook one on \(lanes)")
                return
            }
        }
    }

    @Test func everyMessageLengthAcrossThreeBlocksHashesAsTheTextbookSponge() {
        var random = SplitMix64(seed: 7)
        for length in 0...(3 * 136 + 1) {
            let message = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            guard Keccak256.hash(message).bytes == Self.textbookKeccak256(message) else {
                Issue.record("a message of \(length) bytes hashes differently from the textbook sponge")
                return
            }
        }
    }
}
