/// Static facts of each opcode: whether it exists at Cancun, its constant gas, and its stack
/// inputs and outputs. Dynamic costs (memory, cold access, copies) are charged by the handlers.
struct OpcodeInfo {
    var defined = false
    var gas: Int64 = 0
    var inputs = 0
    var outputs = 0
}

enum OpcodeTable {
    static let entries: [OpcodeInfo] = {
        var t = [OpcodeInfo](repeating: OpcodeInfo(), count: 256)
        func set(_ op: Int, _ gas: Int64, _ inputs: Int, _ outputs: Int) {
            t[op] = OpcodeInfo(defined: true, gas: gas, inputs: inputs, outputs: outputs)
        }
        set(0x00, 0, 0, 0)
        for op in [0x01, 0x03] { set(op, Gas.veryLow, 2, 1) }
        for op in [0x02, 0x04, 0x05, 0x06, 0x07] { set(op, Gas.low, 2, 1) }
        set(0x08, Gas.mid, 3, 1); set(0x09, Gas.mid, 3, 1)
        set(0x0a, Gas.exp, 2, 1); set(0x0b, Gas.low, 2, 1)
        for op in 0x10...0x14 { set(op, Gas.veryLow, 2, 1) }
        set(0x15, Gas.veryLow, 1, 1)
        for op in 0x16...0x18 { set(op, Gas.veryLow, 2, 1) }
        set(0x19, Gas.veryLow, 1, 1)
        for op in 0x1a...0x1d { set(op, Gas.veryLow, 2, 1) }
        set(0x20, Gas.keccak, 2, 1)
        set(0x30, Gas.base, 0, 1); set(0x31, Gas.warmAccess, 1, 1)
        for op in [0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d] { set(op, Gas.base, 0, 1) }
        set(0x35, Gas.veryLow, 1, 1)
        set(0x37, Gas.veryLow, 3, 0); set(0x39, Gas.veryLow, 3, 0); set(0x3e, Gas.veryLow, 3, 0)
        set(0x3b, Gas.warmAccess, 1, 1); set(0x3c, Gas.warmAccess, 4, 0); set(0x3f, Gas.warmAccess, 1, 1)
        set(0x40, Gas.blockhash, 1, 1)
        for op in [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4a] { set(op, Gas.base, 0, 1) }
        set(0x47, Gas.low, 0, 1)
        set(0x49, Gas.veryLow, 1, 1)
        set(0x50, Gas.base, 1, 0)
        set(0x51, Gas.veryLow, 1, 1); set(0x52, Gas.veryLow, 2, 0); set(0x53, Gas.veryLow, 2, 0)
        set(0x54, 0, 1, 1); set(0x55, 0, 2, 0)
        set(0x56, Gas.mid, 1, 0); set(0x57, Gas.high, 2, 0)
        set(0x58, Gas.base, 0, 1); set(0x59, Gas.base, 0, 1); set(0x5a, Gas.base, 0, 1)
        set(0x5b, Gas.jumpdest, 0, 0)
        set(0x5c, Gas.warmAccess, 1, 1); set(0x5d, Gas.warmAccess, 2, 0)
        set(0x5e, Gas.veryLow, 3, 0)
        set(0x5f, Gas.base, 0, 1)
        for op in 0x60...0x7f { set(op, Gas.veryLow, 0, 1) }
        for n in 1...16 { set(0x7f + n, Gas.veryLow, n, n + 1) }
        for n in 1...16 { set(0x8f + n, Gas.veryLow, n + 1, n + 1) }
        for n in 0...4 { set(0xa0 + n, Gas.log, 2 + n, 0) }
        set(0xf0, Gas.create, 3, 1); set(0xf5, Gas.create, 4, 1)
        set(0xf1, Gas.warmAccess, 7, 1); set(0xf2, Gas.warmAccess, 7, 1)
        set(0xf4, Gas.warmAccess, 6, 1); set(0xfa, Gas.warmAccess, 6, 1)
        set(0xf3, 0, 2, 0); set(0xfd, 0, 2, 0)
        set(0xfe, 0, 0, 0)
        set(0xff, Gas.selfDestruct, 1, 0)
        return t
    }()
}
