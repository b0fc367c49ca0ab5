import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives

/// Random EVM programs that run long enough to matter: operands are mostly small (offsets,
/// sizes and slots that stay in cheap memory and a handful of storage slots) with some
/// boundary values, jumps go to real JUMPDESTs (counted loops included), calls go to a second
/// contract, back to the first, to precompiles 0x01-0x09 or to empty accounts, and creations
/// run small random init code. A few raw bytes make invalid opcodes and stack errors.
struct ProgramGenerator {
    var rng: SplitMix64
    /// Accounts calls and balance queries aim at.
    let targets: [Address]

    /// Boundary values for arithmetic operands.
    static let interesting: [UInt256] = [
        .zero, .one, 2, 31, 32, 255, 256, UInt256(UInt64.max), .max, .max &- .one,
        UInt256.one << 255, (UInt256.one << 255) &- .one, UInt256.one << 128,
    ]

    init(seed: UInt64, targets: [Address]) {
        rng = SplitMix64(seed: seed)
        self.targets = targets
    }

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// PUSH of `value` in as few bytes as possible (PUSH0 for zero).
    static func push(_ value: UInt256) -> [UInt8] {
        if value.isZero { return [0x5f] }
        let bytes = value.minimalBigEndianBytes
        return [UInt8(0x5f + bytes.count)] + bytes
    }

    /// A small operand (an offset, a size, a slot), sometimes a boundary value.
    mutating func operand() -> [UInt8] {
        switch below(20) {
        case 0: return Self.push(pick(Self.interesting))
        case 1: return Self.push(UInt256(UInt64(below(1 << 16))))
        default: return Self.push(UInt256(UInt64(below(70))))
        }
    }

    mutating func operands(_ n: Int) -> [UInt8] { (0..<n).reduce(into: []) { out, _ in out += operand() } }

    mutating func addressOperand() -> [UInt8] {
        if chance(10) { return [0x30] }  // ADDRESS
        return Self.push(UInt256(pick(targets)))
    }

    /// A program of about `length` instruction groups. `depth` > 0 builds init code (no creates).
    mutating func program(length: Int, depth: Int = 0) -> [UInt8] {
        // A few values below everything else, so most DUPs, SWAPs and pops find a stack.
        var code: [UInt8] = operands(2 + below(6))
        var jumpdests: [Int] = []
        var forwardJumps: [Int] = []  // offsets of PUSH2 placeholders to patch
        for _ in 0..<length {
            switch below(100) {
            case 0..<22: code += arithmetic()
            case 22..<32: code += memoryOp()
            case 32..<40: code += storageOp()
            case 40..<46: code += copyOp()
            case 46..<54: code += environmentOp()
            case 54..<58: code += logOp()
            case 58..<66 where depth < 2: code += callOp()
            case 66..<69 where depth < 1: code += createOp(depth: depth)
            case 69..<75: code += stackOp()
            case 75..<79:
                jumpdests.append(code.count)
                code.append(0x5b)
            case 79..<85:
                // A counted loop: n iterations of nothing but the counter, or a jump.
                if chance(50) {
                    code += Self.push(UInt256(UInt64(1 + below(12))))
                    let top = code.count
                    jumpdests.append(top)
                    code += [0x5b, 0x60, 0x01, 0x90, 0x03, 0x80, 0x61, UInt8(truncatingIfNeeded: top >> 8), UInt8(truncatingIfNeeded: top), 0x57, 0x50]
                } else {
                    if !jumpdests.isEmpty && chance(40) {
                        let target = pick(jumpdests)
                        code += [0x61, UInt8(truncatingIfNeeded: target >> 8), UInt8(truncatingIfNeeded: target)]
                    } else {
                        forwardJumps.append(code.count + 1)
                        code += [0x61, 0, 0]
                    }
                    if chance(60) { code += operand() + [0x90, 0x57] } else { code.append(0x56) }
                }
            case 85..<88: code += terminator()
            case 88..<92: code.append(UInt8(truncatingIfNeeded: rng.next()))
            default: code += arithmetic()
            }
        }
        for at in forwardJumps {
            let later = jumpdests.filter { $0 > at }
            let target = later.isEmpty ? (jumpdests.isEmpty ? below(code.count) : pick(jumpdests)) : pick(later)
            code[at] = UInt8(truncatingIfNeeded: target >> 8)
            code[at + 1] = UInt8(truncatingIfNeeded: target)
        }
        return code + terminator()
    }

    mutating func arithmetic() -> [UInt8] {
        let op = pick([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13,
                       0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d] as [UInt8])
        let arity = op == 0x15 || op == 0x19 ? 1 : (op == 0x08 || op == 0x09 ? 3 : 2)
        var out: [UInt8] = []
        for _ in 0..<arity { out += chance(60) ? Self.push(pick(Self.interesting)) : operand() }
        return out + [op]
    }

    mutating func memoryOp() -> [UInt8] {
        switch below(5) {
        case 0: return operand() + operand() + [0x52]  // MSTORE value offset
        case 1: return operand() + [0x51]
        case 2: return operand() + operand() + [0x53]
        case 3: return operands(3) + [0x5e]  // MCOPY
        default: return operands(2) + [0x20]  // KECCAK256
        }
    }

    mutating func storageOp() -> [UInt8] {
        let slot = Self.push(UInt256(UInt64(below(5))))
        let value = Self.push(UInt256(UInt64(below(4))))
        switch below(4) {
        case 0: return slot + [0x54]
        case 1: return slot + [0x5c]  // TLOAD
        case 2: return value + slot + [0x5d]
        default: return value + slot + [0x55]
        }
    }

    mutating func copyOp() -> [UInt8] {
        switch below(6) {
        case 0: return operands(3) + [0x37]
        case 1: return operands(3) + [0x39]
        case 2: return (chance(70) ? [0x3d, 0x5f] : operands(2)) + operand() + [0x3e]  // mostly in bounds
        case 3: return operands(3) + addressOperand() + [0x3c]
        case 4: return operand() + [0x35]
        default: return [0x3d]
        }
    }

    mutating func environmentOp() -> [UInt8] {
        let plain: [UInt8] = [0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                              0x48, 0x4a, 0x58, 0x59, 0x5a]
        switch below(4) {
        case 0: return addressOperand() + [pick([0x31, 0x3b, 0x3f] as [UInt8])]
        case 1: return Self.push(UInt256(UInt64(below(3)))) + [pick([0x40, 0x49] as [UInt8])]
        default: return [pick(plain)]
        }
    }

    mutating func logOp() -> [UInt8] {
        let topics = below(5)
        return operands(topics) + operands(2) + [UInt8(0xa0 + topics)]
    }

    mutating func callOp() -> [UInt8] {
        let op = pick([0xf1, 0xf2, 0xf4, 0xfa] as [UInt8])
        var out = operands(4)  // out size, out offset, in size, in offset
        if op == 0xf1 || op == 0xf2 { out += Self.push(UInt256(UInt64(chance(70) ? 0 : below(3)))) }
        let precompile = Precompiles.address(UInt16(1 + below(9)))
        out += chance(25) ? Self.push(UInt256(precompile)) : addressOperand()
        let gas: UInt256 = chance(15) ? .max : UInt256(UInt64(pick([0, 100, 2_300, 5_000, 30_000, 200_000])))
        return out + Self.push(gas) + [op]
    }

    /// Init code written to memory 32 bytes at a time, then CREATE or CREATE2.
    mutating func createOp(depth: Int) -> [UInt8] {
        var initCode = program(length: 1 + below(6), depth: depth + 1)
        if chance(30) { initCode = Self.push(UInt256(UInt64(below(40)))) + Self.push(.zero) + [0xf3] }
        var out: [UInt8] = []
        let base = below(64)
        for chunk in stride(from: 0, to: initCode.count, by: 32) {
            var word = Array(initCode[chunk..<min(chunk + 32, initCode.count)])
            word += [UInt8](repeating: 0, count: 32 - word.count)
            out += [0x7f] + word + Self.push(UInt256(UInt64(base + chunk))) + [0x52]
        }
        let size = Self.push(UInt256(UInt64(initCode.count)))
        let value = Self.push(UInt256(UInt64(chance(70) ? 0 : below(3))))
        if chance(50) { return size + Self.push(UInt256(UInt64(base))) + value + [0xf0] }
        return Self.push(UInt256(UInt64(below(3)))) + size + Self.push(UInt256(UInt64(base))) + value + [0xf5]
    }

    mutating func stackOp() -> [UInt8] {
        switch below(3) {
        case 0: return [UInt8(0x80 + (chance(90) ? below(4) : below(16)))]
        case 1: return [UInt8(0x90 + (chance(90) ? below(4) : below(16)))]
        default: return [0x50]
        }
    }

    mutating func terminator() -> [UInt8] {
        switch below(7) {
        case 0: return [0x00]
        case 1, 2: return operands(2) + [0xf3]
        case 3: return operands(2) + [0xfd]
        case 4: return [0xfe]
        case 5: return addressOperand() + [0xff]
        default: return []
        }
    }
}
