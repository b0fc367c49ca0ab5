"""A tiny EVM assembler for readable hand-written cases.

`asm("0x20 0 MSTORE :loop JUMPDEST @loop JUMP")`: numbers become the shortest PUSH (PUSH0 for
zero), names are opcodes, `:name` marks the next byte's offset, `@name` pushes it with PUSH2,
`raw:HEX` inserts bytes as they are.
"""

OPCODES = {
    "STOP": 0x00, "ADD": 0x01, "MUL": 0x02, "SUB": 0x03, "DIV": 0x04, "SDIV": 0x05, "MOD": 0x06, "SMOD": 0x07,
    "ADDMOD": 0x08, "MULMOD": 0x09, "EXP": 0x0A, "SIGNEXTEND": 0x0B, "LT": 0x10, "GT": 0x11, "SLT": 0x12,
    "SGT": 0x13, "EQ": 0x14, "ISZERO": 0x15, "AND": 0x16, "OR": 0x17, "XOR": 0x18, "NOT": 0x19, "BYTE": 0x1A,
    "SHL": 0x1B, "SHR": 0x1C, "SAR": 0x1D, "KECCAK256": 0x20, "ADDRESS": 0x30, "BALANCE": 0x31, "ORIGIN": 0x32,
    "CALLER": 0x33, "CALLVALUE": 0x34, "CALLDATALOAD": 0x35, "CALLDATASIZE": 0x36, "CALLDATACOPY": 0x37,
    "CODESIZE": 0x38, "CODECOPY": 0x39, "GASPRICE": 0x3A, "EXTCODESIZE": 0x3B, "EXTCODECOPY": 0x3C,
    "RETURNDATASIZE": 0x3D, "RETURNDATACOPY": 0x3E, "EXTCODEHASH": 0x3F, "BLOCKHASH": 0x40, "COINBASE": 0x41,
    "TIMESTAMP": 0x42, "NUMBER": 0x43, "PREVRANDAO": 0x44, "GASLIMIT": 0x45, "CHAINID": 0x46,
    "SELFBALANCE": 0x47, "BASEFEE": 0x48, "BLOBHASH": 0x49, "BLOBBASEFEE": 0x4A, "POP": 0x50, "MLOAD": 0x51,
    "MSTORE": 0x52, "MSTORE8": 0x53, "SLOAD": 0x54, "SSTORE": 0x55, "JUMP": 0x56, "JUMPI": 0x57, "PC": 0x58,
    "MSIZE": 0x59, "GAS": 0x5A, "JUMPDEST": 0x5B, "TLOAD": 0x5C, "TSTORE": 0x5D, "MCOPY": 0x5E, "PUSH0": 0x5F,
    "LOG0": 0xA0, "LOG1": 0xA1, "LOG2": 0xA2, "LOG3": 0xA3, "LOG4": 0xA4, "CREATE": 0xF0, "CALL": 0xF1,
    "CALLCODE": 0xF2, "RETURN": 0xF3, "DELEGATECALL": 0xF4, "CREATE2": 0xF5, "STATICCALL": 0xFA,
    "REVERT": 0xFD, "INVALID": 0xFE, "SELFDESTRUCT": 0xFF,
}
OPCODES.update({f"DUP{n}": 0x7F + n for n in range(1, 17)})
OPCODES.update({f"SWAP{n}": 0x8F + n for n in range(1, 17)})


def push(value: int) -> bytes:
    """The shortest PUSH of `value` (PUSH0 for zero)."""
    if value == 0:
        return b"\x5f"
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([0x5F + len(raw)]) + raw


def assemble(source: str) -> bytes:
    tokens = source.split()
    labels, out, fixups = {}, bytearray(), []
    for token in tokens:
        if token.startswith(":"):
            labels[token[1:]] = len(out)
        elif token.startswith("@"):
            fixups.append((len(out) + 1, token[1:]))
            out += b"\x61\x00\x00"
        elif token.startswith("raw:"):
            out += bytes.fromhex(token[4:])
        elif token.upper() in OPCODES:
            out.append(OPCODES[token.upper()])
        else:
            out += push(int(token, 0))
    for at, name in fixups:
        out[at:at + 2] = labels[name].to_bytes(2, "big")
    return bytes(out)


def asm(source: str) -> str:
    """`assemble` as 0x hex."""
    return "0x" + assemble(source).hex()


def returning(code: bytes) -> bytes:
    """Init code that deploys `code`: copies it from its own tail and returns it."""
    for prefix_len in range(1, 64):
        prefix = assemble(f"{len(code)} {prefix_len} 0 CODECOPY {len(code)} 0 RETURN")
        if len(prefix) == prefix_len:
            return prefix + code
    raise ValueError("no fixed point for the init code prefix")


def store_in_memory(blob: bytes, offset: int = 0) -> str:
    """Assembly that writes `blob` to memory at `offset`, 32 bytes at a time (zero-padded)."""
    parts = []
    for i in range(0, len(blob), 32):
        word = blob[i:i + 32].ljust(32, b"\x00")
        parts.append(f"raw:7f{word.hex()} {offset + i} MSTORE")
    return " ".join(parts)
