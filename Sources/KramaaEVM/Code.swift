import KramaaPrimitives

/// What entering a basic block costs: the constant gas of all its instructions and the stack
/// height it needs and reaches, so the interpreter checks these once per block, not per
/// instruction.
struct BlockCost {
    /// Sum of the constant gas of the block's instructions.
    var gas: Int32
    /// Stack items the block needs on entry (clamped to stack limit + 1).
    var required: Int16
    /// The most the stack grows above its entry height within the block (clamped likewise).
    var growth: Int16
    /// Instructions in the block (code is at most 49,152 bytes, so this fits).
    var instructions: UInt16
}

/// Contract code prepared for execution once per code hash: padded so PUSH never reads past
/// either end, a bitmap of valid JUMPDEST positions (not inside PUSH data), and the cost of
/// every basic block.
///
/// A basic block starts at offset 0, at every JUMPDEST and after every instruction that ends
/// one: a jump or halt, and the instructions that observe the remaining gas (GAS, SSTORE and
/// the CALL and CREATE families), so that charging a block's constant gas on entry never
/// changes a value the program can see. An exceptional halt consumes all gas and reverts the
/// frame, so failing at the block's entry instead of at its n-th instruction is equivalent.
public final class AnalyzedCode: @unchecked Sendable {
    /// The original bytes.
    public let bytes: [UInt8]
    public let hash: Bytes32
    /// `bytes.count`, stored: the array's getter is a call where the interpreter loop does not inline it.
    let size: Int
    /// 32 zero bytes, `bytes`, then 33 zero bytes (a STOP, and room for a PUSH32 at the end).
    let storage: UnsafeMutableRawPointer
    /// Bit i set when byte i is a JUMPDEST instruction.
    let jumpdests: UnsafeMutablePointer<UInt64>
    /// `blocks[i]` is the cost of the block starting at offset i (meaningful at block starts).
    let blocks: UnsafeMutablePointer<BlockCost>

    static let frontPadding = 32

    /// The first code byte (offset 0); bytes before and after it are readable zeros.
    @inline(__always) var start: UnsafePointer<UInt8> {
        UnsafePointer(storage.assumingMemoryBound(to: UInt8.self) + AnalyzedCode.frontPadding)
    }

    public init(_ bytes: [UInt8], hash: Bytes32? = nil) {
        self.bytes = bytes
        self.hash = hash ?? Keccak256.hash(bytes)
        let count = bytes.count
        size = count
        let storage = UnsafeMutableRawPointer.allocate(byteCount: AnalyzedCode.frontPadding + count + 33, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: AnalyzedCode.frontPadding + count + 33)
        bytes.withUnsafeBytes { (storage + AnalyzedCode.frontPadding).copyMemory(from: $0.baseAddress!, byteCount: count) }
        self.storage = storage
        let words = count / 64 + 1
        jumpdests = .allocate(capacity: words)
        jumpdests.initialize(repeating: 0, count: words)
        blocks = .allocate(capacity: count + 1)
        blocks.initialize(repeating: BlockCost(gas: 0, required: 0, growth: 0, instructions: 0), count: count + 1)
        analyze()
    }

    deinit {
        storage.deallocate()
        jumpdests.deallocate()
        blocks.deallocate()
    }

    /// Marks JUMPDESTs and computes the cost of every block, in one pass over the code.
    private func analyze() {
        let code = start
        let count = bytes.count
        let table = OpcodeTable.entries
        var blockStart = 0
        var gas = 0, height = 0, required = 0, growth = 0, instructions = 0
        func close() {
            let limit = Gas.stackLimit + 1
            blocks[blockStart] = BlockCost(gas: Int32(gas), required: Int16(min(required, limit)), growth: Int16(min(growth, limit)),
                                           instructions: UInt16(instructions))
            gas = 0; height = 0; required = 0; growth = 0; instructions = 0
        }
        var i = 0, open = false
        while i <= count {
            let op = code[i]  // offset `count` is the padding's STOP
            if op == 0x5b {
                jumpdests[i >> 6] |= 1 << UInt64(i & 63)
                if open { close() }
                blockStart = i
            } else if !open {
                blockStart = i
            }
            open = true
            let info = table[Int(op)]
            instructions += 1
            gas += Int(info.gas)
            required = max(required, info.inputs - height)
            height += info.outputs - info.inputs
            growth = max(growth, height)
            i += op >= 0x60 && op <= 0x7f ? Int(op - 0x5e) : 1
            if !info.defined || AnalyzedCode.endsBlock(op) {
                close()
                open = false
            }
        }
        if open { close() }
    }

    /// Jumps, halts, and the instructions whose effect depends on the gas left.
    @inline(__always)
    static func endsBlock(_ op: UInt8) -> Bool {
        switch op {
        case 0x00, 0x56, 0x57, 0xf3, 0xfd, 0xfe, 0xff: return true  // STOP JUMP JUMPI RETURN REVERT INVALID SELFDESTRUCT
        case 0x5a, 0x55, 0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa: return true  // GAS SSTORE CREATE CALL CALLCODE DELEGATECALL CREATE2 STATICCALL
        default: return false
        }
    }

    /// True when `target` is a JUMPDEST instruction.
    @inline(__always)
    func isJumpdest(_ target: UInt256) -> Bool {
        guard target.fitsInUInt64, target.low64 < UInt64(size) else { return false }
        let i = Int(target.low64)
        return jumpdests[i >> 6] >> UInt64(i & 63) & 1 == 1
    }

    /// The immediate of the PUSH1...PUSH8 (`count` bytes) at `instruction` (in `start`'s
    /// buffer): the eight bytes ending at its last one, big-endian, masked to `count` bytes
    /// (the front padding covers reads before offset 0).
    @inline(__always)
    static func limbImmediate(_ instruction: UnsafePointer<UInt8>, count: Int) -> UInt256 {
        let raw = UnsafeRawPointer(instruction + count - 7)
        let word = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
        return UInt256(limbs: (word & (UInt64.max &>> UInt64(64 - 8 * count)), 0, 0, 0))
    }

    public static let empty = AnalyzedCode([])
}
