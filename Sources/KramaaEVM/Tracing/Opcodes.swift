import KramaaPrimitives

/// Opcode names and error texts as geth prints them (`core/vm/opcodes.go`, `core/vm/errors.go`),
/// so traces read the same as geth's.
public enum Opcodes {
    /// geth's name of an opcode: "PUSH1", "KECCAK256", "DIFFICULTY" (0x44, geth's name for
    /// PREVRANDAO); an undefined one is "opcode 0xc not defined".
    public static func name(_ opcode: UInt8) -> String {
        names[Int(opcode)] ?? "opcode 0x\(String(opcode, radix: 16)) not defined"
    }

    static let names: [String?] = {
        var t = [String?](repeating: nil, count: 256)
        let fixed: [(Int, String)] = [
            (0x00, "STOP"), (0x01, "ADD"), (0x02, "MUL"), (0x03, "SUB"), (0x04, "DIV"), (0x05, "SDIV"), (0x06, "MOD"),
            (0x07, "SMOD"), (0x08, "ADDMOD"), (0x09, "MULMOD"), (0x0a, "EXP"), (0x0b, "SIGNEXTEND"),
            (0x10, "LT"), (0x11, "GT"), (0x12, "SLT"), (0x13, "SGT"), (0x14, "EQ"), (0x15, "ISZERO"), (0x16, "AND"),
            (0x17, "OR"), (0x18, "XOR"), (0x19, "NOT"), (0x1a, "BYTE"), (0x1b, "SHL"), (0x1c, "SHR"), (0x1d, "SAR"),
            (0x20, "KECCAK256"),
            (0x30, "ADDRESS"), (0x31, "BALANCE"), (0x32, "ORIGIN"), (0x33, "CALLER"), (0x34, "CALLVALUE"),
            (0x35, "CALLDATALOAD"), (0x36, "CALLDATASIZE"), (0x37, "CALLDATACOPY"), (0x38, "CODESIZE"), (0x39, "CODECOPY"),
            (0x3a, "GASPRICE"), (0x3b, "EXTCODESIZE"), (0x3c, "EXTCODECOPY"), (0x3d, "RETURNDATASIZE"),
            (0x3e, "RETURNDATACOPY"), (0x3f, "EXTCODEHASH"),
            (0x40, "BLOCKHASH"), (0x41, "COINBASE"), (0x42, "TIMESTAMP"), (0x43, "NUMBER"), (0x44, "DIFFICULTY"),
            (0x45, "GASLIMIT"), (0x46, "CHAINID"), (0x47, "SELFBALANCE"), (0x48, "BASEFEE"), (0x49, "BLOBHASH"),
            (0x4a, "BLOBBASEFEE"),
            (0x50, "POP"), (0x51, "MLOAD"), (0x52, "MSTORE"), (0x53, "MSTORE8"), (0x54, "SLOAD"), (0x55, "SSTORE"),
            (0x56, "JUMP"), (0x57, "JUMPI"), (0x58, "PC"), (0x59, "MSIZE"), (0x5a, "GAS"), (0x5b, "JUMPDEST"),
            (0x5c, "TLOAD"), (0x5d, "TSTORE"), (0x5e, "MCOPY"), (0x5f, "PUSH0"),
            (0xf0, "CREATE"), (0xf1, "CALL"), (0xf2, "CALLCODE"), (0xf3, "RETURN"), (0xf4, "DELEGATECALL"),
            (0xf5, "CREATE2"), (0xfa, "STATICCALL"), (0xfd, "REVERT"), (0xfe, "INVALID"), (0xff, "SELFDESTRUCT"),
        ]
        for (op, name) in fixed { t[op] = name }
        for n in 1...32 { t[0x5f + n] = "PUSH\(n)" }
        for n in 1...16 {
            t[0x7f + n] = "DUP\(n)"
            t[0x8f + n] = "SWAP\(n)"
        }
        for n in 0...4 { t[0xa0 + n] = "LOG\(n)" }
        return t
    }()

    /// geth's call-frame type: "CALL", "DELEGATECALL", "CREATE2"...
    public static func name(_ kind: CallKind) -> String {
        switch kind {
        case .call: "CALL"
        case .callCode: "CALLCODE"
        case .delegateCall: "DELEGATECALL"
        case .staticCall: "STATICCALL"
        case .create: "CREATE"
        case .create2: "CREATE2"
        }
    }

    /// The reason in revert data, as geth's `abi.UnpackRevert` reads it: the text of
    /// `Error(string)`, or the meaning of a Solidity `Panic(uint256)` code; nil otherwise.
    public static func revertReason(_ output: [UInt8]) -> String? {
        guard output.count >= 4 else { return nil }
        let selector = Array(output[0..<4])
        let body = Array(output[4...])
        func word(_ at: Int) -> UInt256? {
            guard at >= 0, at + 32 <= body.count else { return nil }
            return try? UInt256(bigEndianBytes: body[at..<at + 32])
        }
        switch selector {
        case [0x08, 0xc3, 0x79, 0xa0]:  // Error(string)
            guard let offset = word(0)?.uint64Value, offset <= UInt64(body.count),
                  let length = word(Int(offset))?.uint64Value else { return nil }
            let start = Int(offset) + 32
            guard length <= UInt64(body.count - min(start, body.count)), start <= body.count else { return nil }
            return String(decoding: body[start..<start + Int(length)], as: UTF8.self)
        case [0x4e, 0x48, 0x7b, 0x71]:  // Panic(uint256)
            guard let code = word(0) else { return nil }
            if let known = code.uint64Value.flatMap({ panicReasons[$0] }) { return known }
            return "unknown panic code: \(code.hexQuantity)"
        default:
            return nil
        }
    }

    static let panicReasons: [UInt64: String] = [
        0x00: "generic panic",
        0x01: "assert(false)",
        0x11: "arithmetic underflow or overflow",
        0x12: "division or modulo by zero",
        0x21: "enum overflow",
        0x22: "invalid encoded storage byte array accessed",
        0x31: "out-of-bounds array access; popping on an empty array",
        0x32: "out-of-bounds access of an array or bytesN",
        0x41: "out of memory",
        0x51: "uninitialized function",
    ]
}

extension EVMError {
    /// geth's text for this error (`core/vm/errors.go`). Stack errors lack the sizes geth
    /// adds; `TraceStep.errorMessage` and `TraceFrameEnd.error` carry them.
    public var gethMessage: String {
        switch self {
        case .outOfGas: "out of gas"
        case .stackUnderflow: "stack underflow"
        case .stackOverflow: "stack limit reached"
        case .invalidJump: "invalid jump destination"
        case .invalidOpcode(let op): "invalid opcode: \(Opcodes.name(op))"
        case .writeInStaticContext: "write protection"
        case .returnDataOutOfBounds: "return data out of bounds"
        case .callDepthExceeded: "max call depth exceeded"
        case .insufficientBalance: "insufficient balance for transfer"
        case .contractAddressCollision: "contract address collision"
        case .codeSizeExceeded: "max code size exceeded"
        case .initCodeSizeExceeded: "max initcode size exceeded"
        case .invalidCodePrefix: "invalid code: must not begin with 0xef"
        case .nonceOverflow: "nonce uint64 overflow"
        case .precompileFailure: "precompile failed"
        }
    }
}
