/// What the interpreter's loop runs for an opcode: one case per handler of its switch.
///
/// The loop switches over `Handler`, read from `Handler.table` by opcode byte, rather than
/// over the byte itself: a switch over an enum compiles to a single jump table, while the
/// same cases over a `UInt8` compile to a chain of comparisons and several tables (on
/// snailtracer about 13 more machine instructions per EVM instruction).
enum Handler: UInt8 {
    case stop, add, mul, sub, div, sdiv, mod, smod, addmod, mulmod, exp, signextend
    case lt, gt, slt, sgt, eq, iszero, and, or, xor, not, byte, shl, shr, sar, keccak256
    case address, balance, origin, caller, callvalue, calldataload, calldatasize, codesize, gasprice
    case extcodesize, extcodecopy, returndatasize, extcodehash
    /// CALLDATACOPY, CODECOPY and RETURNDATACOPY.
    case copy
    case blockhash, coinbase, timestamp, number, prevrandao, gaslimit, chainid, selfbalance, basefee
    case blobhash, blobbasefee
    case pop, mload, mstore, mstore8, sload, sstore, jump, jumpi, pc, msize, gas, jumpdest
    case tload, tstore, mcopy, push0
    /// PUSH1...PUSH8, whose immediate fits one limb (most pushes: one load, no branches).
    case pushLimb
    /// PUSH9...PUSH32.
    case push
    case dup, swap, log
    /// CREATE and CREATE2.
    case create
    /// CALL, CALLCODE, DELEGATECALL and STATICCALL.
    case call
    /// RETURN and REVERT.
    case returnOrRevert
    case selfdestruct
    /// INVALID (0xfe) and every undefined opcode.
    case invalid

    /// `table[op]` is the handler of opcode `op` (256 entries, never freed nor written after
    /// initialisation, hence safe to share).
    nonisolated(unsafe) static let table: UnsafePointer<Handler> = {
        let t = UnsafeMutablePointer<Handler>.allocate(capacity: 256)
        for op in 0...255 { t[op] = Handler(opcode: UInt8(op)) }
        return UnsafePointer(t)
    }()

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    init(opcode op: UInt8) {
        switch op {
        case 0x00: self = .stop
        case 0x01: self = .add
        case 0x02: self = .mul
        case 0x03: self = .sub
        case 0x04: self = .div
        case 0x05: self = .sdiv
        case 0x06: self = .mod
        case 0x07: self = .smod
        case 0x08: self = .addmod
        case 0x09: self = .mulmod
        case 0x0a: self = .exp
        case 0x0b: self = .signextend
        case 0x10: self = .lt
        case 0x11: self = .gt
        case 0x12: self = .slt
        case 0x13: self = .sgt
        case 0x14: self = .eq
        case 0x15: self = .iszero
        case 0x16: self = .and
        case 0x17: self = .or
        case 0x18: self = .xor
        case 0x19: self = .not
        case 0x1a: self = .byte
        case 0x1b: self = .shl
        case 0x1c: self = .shr
        case 0x1d: self = .sar
        case 0x20: self = .keccak256
        case 0x30: self = .address
        case 0x31: self = .balance
        case 0x32: self = .origin
        case 0x33: self = .caller
        case 0x34: self = .callvalue
        case 0x35: self = .calldataload
        case 0x36: self = .calldatasize
        case 0x37, 0x39, 0x3e: self = .copy
        case 0x38: self = .codesize
        case 0x3a: self = .gasprice
        case 0x3b: self = .extcodesize
        case 0x3c: self = .extcodecopy
        case 0x3d: self = .returndatasize
        case 0x3f: self = .extcodehash
        case 0x40: self = .blockhash
        case 0x41: self = .coinbase
        case 0x42: self = .timestamp
        case 0x43: self = .number
        case 0x44: self = .prevrandao
        case 0x45: self = .gaslimit
        case 0x46: self = .chainid
        case 0x47: self = .selfbalance
        case 0x48: self = .basefee
        case 0x49: self = .blobhash
        case 0x4a: self = .blobbasefee
        case 0x50: self = .pop
        case 0x51: self = .mload
        case 0x52: self = .mstore
        case 0x53: self = .mstore8
        case 0x54: self = .sload
        case 0x55: self = .sstore
        case 0x56: self = .jump
        case 0x57: self = .jumpi
        case 0x58: self = .pc
        case 0x59: self = .msize
        case 0x5a: self = .gas
        case 0x5b: self = .jumpdest
        case 0x5c: self = .tload
        case 0x5d: self = .tstore
        case 0x5e: self = .mcopy
        case 0x5f: self = .push0
        case 0x60...0x67: self = .pushLimb
        case 0x68...0x7f: self = .push
        case 0x80...0x8f: self = .dup
        case 0x90...0x9f: self = .swap
        case 0xa0...0xa4: self = .log
        case 0xf0, 0xf5: self = .create
        case 0xf1, 0xf2, 0xf4, 0xfa: self = .call
        case 0xf3, 0xfd: self = .returnOrRevert
        case 0xff: self = .selfdestruct
        default: self = .invalid
        }
    }
}
