"""Hand-written message cases, one or more per opcode family; each returns or stores what it computed.

Every case calls contract A; B is a second contract in the pre-state for calls. `all_cases()`
lists them all with unique ids.
"""
from .asm import asm, store_in_memory

CALLER = "0x00000000000000000000000000000000000ca11e"
A = "0x000000000000000000000000000000000000aaaa"
B = "0x000000000000000000000000000000000000bbbb"
EMPTY = "0x000000000000000000000000000000000000e0e0"
MISSING = "0x000000000000000000000000000000000000dead"
COINBASE = "0x00000000000000000000000000000000c014ba5e"
MAX = 2**256 - 1
VALUES = [0, 1, 2, 3, 31, 32, 255, 256, 2**64 - 1, 2**128, 2**255 - 1, 2**255, MAX - 1, MAX]


def case(name, code, *, gas=1_000_000, data="0x", value=0, static=False, storage=None, accounts=None,
         env=None, tx=None, balance=10**6, to=A):
    """A case calling `to` (contract A by default, running `code`)."""
    pre = {
        CALLER: {"balance": hex(10**18), "nonce": "0x1"},
        A: {"balance": hex(balance), "nonce": "0x1", "code": code,
            "storage": {hex(k): hex(v) for k, v in (storage or {}).items()}},
        EMPTY: {},
        COINBASE: {"balance": "0x1"},
    }
    pre.update(accounts or {})
    message = {"caller": CALLER, "value": hex(value), "data": data, "gas": gas, "static": static}
    if to is not None:
        message["to"] = to
    out = {"id": name, "pre": pre, "message": message}
    if env:
        out["env"] = env
    if tx:
        out["tx"] = tx
    return out


def contract(code, storage=None, balance=0, nonce=1):
    return {"code": code, "balance": hex(balance), "nonce": hex(nonce),
            "storage": {hex(k): hex(v) for k, v in (storage or {}).items()}}


def results(ops: list) -> str:
    """Assembly storing each op group's single result at consecutive words, then returning them."""
    body = " ".join(f"{group} {32 * i} MSTORE" for i, group in enumerate(ops))
    return asm(f"{body} {32 * len(ops)} 0 RETURN")


def arithmetic_cases():
    binary = ["ADD", "MUL", "SUB", "DIV", "SDIV", "MOD", "SMOD", "SIGNEXTEND", "LT", "GT", "SLT", "SGT", "EQ",
              "AND", "OR", "XOR", "BYTE", "SHL", "SHR", "SAR"]
    for op in binary:
        yield case(f"arith-{op}", results([f"{b} {a} {op}" for a in VALUES for b in VALUES]), gas=5_000_000)
    small = [0, 1, 7, 2**255, MAX - 1, MAX]
    for op in ["ADDMOD", "MULMOD"]:
        yield case(f"arith-{op}", results([f"{n} {b} {a} {op}" for a in small for b in small for n in small]),
                   gas=5_000_000)
    yield case("arith-EXP", results([f"{e} {b} EXP" for b in VALUES for e in VALUES]), gas=5_000_000)
    for op in ["ISZERO", "NOT"]:
        yield case(f"arith-{op}", results([f"{a} {op}" for a in VALUES]))
    yield case("arith-shift-past-256", results([f"{v} {s} {op}" for op in ["SHL", "SHR", "SAR"]
                                                for s in [255, 256, 257, 2**64, MAX] for v in [1, 2**255, MAX]]))
    yield case("arith-signextend-positions", results([f"{v} {b} SIGNEXTEND" for b in [0, 1, 15, 30, 31, 32, MAX]
                                                      for v in [0x7F, 0x80, 0xFF80, 2**255 - 1]]))


def memory_cases():
    yield case("mem-expansion", asm("1 0x3ff MSTORE 2 0 MSTORE8 MSIZE 0 MSTORE 0x400 0 RETURN"))
    yield case("mem-mload-past-end", asm("0x40 MLOAD 0 MSTORE MSIZE 0x20 MSTORE 0x40 0 RETURN"))
    pattern = store_in_memory(bytes(range(1, 65)))
    for name, (dst, src, size) in {"forward": (2, 0, 40), "backward": (0, 5, 40), "same": (3, 3, 30),
                                   "expand": (100, 0, 32), "zero-size-huge-offset": (MAX, MAX, 0),
                                   "src-past-end": (0, 60, 64)}.items():
        yield case(f"mem-mcopy-{name}", asm(f"{pattern} {size} {src} {dst} MCOPY MSIZE 0 RETURN"))
    yield case("mem-mcopy-huge-size", asm(f"{2**32} 0 0 MCOPY"))
    for offset in [2**32 - 32, 2**32, 2**64, MAX - 31]:
        yield case(f"mem-huge-offset-{offset:x}", asm(f"1 {offset} MSTORE"), gas=30_000_000)
    yield case("mem-quadratic-1MiB", asm("1 0xfffe0 MSTORE MSIZE 0 MSTORE 32 0 RETURN"), gas=30_000_000)
    for size in [0, 1, 32, 100]:
        yield case(f"keccak-{size}", asm(f"{store_in_memory(bytes(range(7, 107)))} {size} 0 KECCAK256 0 MSTORE 32 0 RETURN"))
    yield case("keccak-zero-size-huge-offset", asm(f"0 {MAX} KECCAK256 0 MSTORE 32 0 RETURN"))
    yield case("keccak-huge-size", asm(f"{2**40} 0 KECCAK256"))


def copy_cases():
    data = "0x" + bytes(range(1, 41)).hex()
    yield case("calldataload", results([f"{o} CALLDATALOAD" for o in [0, 5, 39, 40, 41, 2**64, MAX]]), data=data)
    yield case("calldatacopy-past-end", asm(f"64 30 0 CALLDATACOPY 32 {MAX} 64 CALLDATACOPY 96 0 RETURN"), data=data)
    yield case("calldatacopy-zero-size-huge-dest", asm(f"0 0 {MAX} CALLDATACOPY MSIZE 0 MSTORE 32 0 RETURN"), data=data)
    yield case("codecopy-past-end", asm("64 0 0 CODECOPY 40 10 64 CODECOPY CODESIZE 128 MSTORE 160 0 RETURN"))
    b_returns = contract(asm(f"{store_in_memory(bytes(range(50, 82)))} 32 0 RETURN"))
    call_b = f"0 0 0 0 0 {B} 100000 CALL POP"
    for name, (offset, size, ok) in {"in-bounds": (0, 32, True), "tail": (16, 16, True), "past-end": (1, 32, False),
                                     "zero-at-end": (32, 0, True), "zero-past-end": (33, 0, False),
                                     "huge-offset": (MAX, 1, False)}.items():
        yield case(f"returndatacopy-{name}", asm(f"{call_b} {size} {offset} 0 RETURNDATACOPY RETURNDATASIZE 64 MSTORE 96 0 RETURN"),
                   accounts={B: b_returns})
    yield case("returndatasize-before-call", results(["RETURNDATASIZE"]))
    for target in [B, MISSING, EMPTY, "0x0000000000000000000000000000000000000004", A]:
        yield case(f"extcode-{target[-4:]}", results([f"{target} EXTCODESIZE", f"{target} EXTCODEHASH",
                                                      f"{target} BALANCE", f"{target} BALANCE"]),
                   accounts={B: b_returns})
        yield case(f"extcodecopy-{target[-4:]}", asm(f"50 3 0 {target} EXTCODECOPY 64 0 RETURN"), accounts={B: b_returns})


def storage_cases():
    patterns = {  # slot 1 starts at 1, slot 0 at 0
        "set": [(0, 1)], "set-clear": [(0, 1), (0, 0)], "set-change": [(0, 1), (0, 2)], "reset": [(1, 2)],
        "clear": [(1, 0)], "clear-restore": [(1, 0), (1, 1)], "change-restore": [(1, 2), (1, 1)],
        "clear-set": [(1, 0), (1, 2)], "noop": [(1, 1)], "change-clear": [(1, 2), (1, 0)],
        "noop-zero": [(0, 0)], "clear-restore-clear": [(1, 0), (1, 1), (1, 0)],
    }
    for name, writes in patterns.items():
        body = " ".join(f"{v} {s} SSTORE" for s, v in writes)
        yield case(f"sstore-{name}", asm(f"{body} 1 SLOAD 0 SLOAD"), storage={1: 1})
    measure = "GAS 5 SLOAD POP GAS SWAP1 SUB GAS 5 SLOAD POP GAS SWAP1 SUB"
    yield case("sload-cold-warm", asm(f"{measure} 0 MSTORE 32 MSTORE 64 0 RETURN"), storage={5: 9})
    sstore_b = contract(asm("1 7 SSTORE"))
    for gas in [2300, 2301, 5000]:
        yield case(f"sstore-sentry-{gas}", asm(f"0 0 0 0 0 {B} {gas} CALL 0 MSTORE 32 0 RETURN"), accounts={B: sstore_b})
    yield case("sstore-sentry-stipend", asm(f"0 0 0 0 1 {B} 0 CALL 0 MSTORE 32 0 RETURN"), accounts={B: sstore_b})
    yield case("tstore-tload", asm("42 1 TSTORE 1 TLOAD 2 TLOAD 0 MSTORE 32 MSTORE 64 0 RETURN"))
    yield case("tstore-child-revert", asm(f"7 1 TSTORE 0 0 0 0 0 {B} 50000 CALL POP 1 TLOAD 0 MSTORE 32 0 RETURN"),
               accounts={B: contract(asm("9 1 TSTORE 0 0 REVERT"))})
    yield case("tstore-delegate-shares", asm(f"7 1 TSTORE 0 0 0 0 {B} 50000 DELEGATECALL POP 1 TLOAD 0 MSTORE 32 0 RETURN"),
               accounts={B: contract(asm("1 TLOAD 1 ADD 1 TSTORE"))})
    for topics in range(5):
        yield case(f"log{topics}", asm(f"{store_in_memory(b'hello log data')} "
                                       + " ".join(str(0x100 + t) for t in range(topics)) + f" 14 0 LOG{topics}"))
    yield case("log-child-revert", asm(f"0 0 LOG0 0 0 0 0 0 {B} 50000 CALL 0 MSTORE 32 0 RETURN"),
               accounts={B: contract(asm("1 2 0 0 LOG2 0 0 REVERT"))})
    yield case("log-huge-size", asm(f"{2**33} 0 LOG0"))


def environment_cases():
    env = {"currentNumber": "0x200", "currentRandom": "0x1234", "currentExcessBlobGas": "0x4000000",
           "currentBaseFee": "0x3b9aca00", "chainId": "0x539", "currentTimestamp": "0x65f00000"}
    tx = {"origin": EMPTY, "gasPrice": "0x3b9aca07", "blobHashes": ["0x01" + "ab" * 31, "0x01" + "cd" * 31]}
    ops = ["ADDRESS", "ORIGIN", "CALLER", "CALLVALUE", "CALLDATASIZE", "CODESIZE", "GASPRICE", "COINBASE",
           "TIMESTAMP", "NUMBER", "PREVRANDAO", "GASLIMIT", "CHAINID", "SELFBALANCE", "BASEFEE", "BLOBBASEFEE",
           "PC", "MSIZE", "GAS", f"{CALLER} BALANCE", "0 BLOBHASH", "1 BLOBHASH", "2 BLOBHASH", f"{MAX} BLOBHASH"]
    ops += [f"{n} BLOCKHASH" for n in [0, 1, 0x100, 0x101, 0x1ff, 0x200, 0x201, MAX]]
    yield case("environment", results(ops), env=env, tx=tx, value=3, data="0x0102")


def oog_sweep_cases():
    programs = {
        "sstore": asm("1 0 SSTORE 2 1 SSTORE"),
        "memory": asm("1 0x2000 MSTORE"),
        "exp": asm(f"{MAX} 3 EXP"),
        "keccak": asm("0x400 0 KECCAK256"),
        "copy": asm("0x400 0 0 CODECOPY"),
        "log": asm("1 2 3 4 0x100 0 LOG4"),
        "cold-balance": asm(f"{MISSING} BALANCE {B} EXTCODESIZE"),
        "call-value-new-account": asm(f"0 0 0 0 1 {MISSING} 0 CALL"),
        "create": asm("0 0 0 CREATE"),
        "create2": asm("0x40 0 0 0 CREATE2"),
        "selfdestruct-cold": asm(f"{MISSING} SELFDESTRUCT"),
        "sload": asm("1 SLOAD 2 SLOAD"),
    }
    for name, code in programs.items():
        for gas in [1, 21, 100, 2_299, 2_301, 2_700, 5_000, 20_000, 22_200, 25_000, 27_700, 32_010, 34_000, 60_000]:
            yield case(f"oog-{name}-{gas}", code, gas=gas, balance=5)
