"""Hand-written cases for calls, creation, self-destruct, precompiles and exceptional halts."""
import hashlib

from eth._utils.address import generate_contract_address
from eth_keys import keys

from .asm import asm, assemble, returning, store_in_memory
from .cases import A, B, EMPTY, MAX, MISSING, case, contract, results

# B reports what its frame sees: caller, value, address, self balance, gas, call data size.
REPORTER = contract(asm("CALLER 0 MSTORE CALLVALUE 32 MSTORE ADDRESS 64 MSTORE SELFBALANCE 96 MSTORE "
                        "GAS 128 MSTORE CALLDATASIZE 160 MSTORE 1 0 SSTORE 192 0 RETURN"), balance=10)


def call_and_report(op: str, gas, target=B, value=None) -> str:
    """`op` to `target` with 4 bytes of input, then return success, the callee's output, A's storage slot 0."""
    value_arg = "" if value is None else f" {value}"
    return asm(f"0xaabbccdd 0 MSTORE 192 32 4 28{value_arg} {target} {gas} {op} 0 MSTORE "
               "0 SLOAD 224 MSTORE RETURNDATASIZE 256 MSTORE 288 0 RETURN")


def call_cases():
    for op, value in [("CALL", 0), ("CALL", 5), ("CALLCODE", 5), ("CALLCODE", 0), ("DELEGATECALL", None),
                      ("STATICCALL", None)]:
        for gas in [0, 100, 30_000, MAX]:
            yield case(f"{op.lower()}-v{value}-g{gas:x}", call_and_report(op, gas, value=value),
                       accounts={B: REPORTER}, value=7)
    yield case("call-value-missing-account", call_and_report("CALL", 0, MISSING, 1), accounts={B: REPORTER})
    yield case("call-value-empty-account", call_and_report("CALL", 0, EMPTY, 1), accounts={B: REPORTER})
    yield case("call-value-over-balance", call_and_report("CALL", 30_000, B, 10**7), accounts={B: REPORTER})
    yield case("call-no-code", call_and_report("CALL", 30_000, MISSING, 0))
    yield case("call-self", call_and_report("CALL", 30_000, A, 0), storage={0: 3})
    # 63/64: A calls itself until the gas runs out, recording the depth each frame reached.
    recurse = asm("0 CALLDATALOAD 1 ADD DUP1 0 MSTORE 0 0 32 0 0 ADDRESS GAS CALL SWAP1 SSTORE")
    for gas in [100_000, 1_000_000]:
        yield case(f"call-depth-63-64-{gas}", recurse, gas=gas)
    writer = contract(asm("1 0 SSTORE"))
    static_b = {
        "sstore": "1 0 SSTORE", "log": "0 0 LOG0", "create": "0 0 0 CREATE", "create2": "0 0 0 0 CREATE2",
        "selfdestruct": f"{B} SELFDESTRUCT", "call-value": f"0 0 0 0 1 {A} 0 CALL", "tstore": "1 1 TSTORE",
        "call-no-value": f"0 0 0 0 0 {A} 1000 CALL 0 MSTORE 32 0 RETURN", "sload": "1 SLOAD 0 MSTORE 32 0 RETURN",
        "callcode-value": f"0 0 0 0 1 {A} 0 CALLCODE",
    }
    for name, code in static_b.items():
        yield case(f"static-{name}", call_and_report("STATICCALL", 100_000), accounts={B: contract(asm(code), balance=5)})
    yield case("static-top-level-sstore", asm("1 0 SSTORE"), static=True)
    yield case("static-top-level-delegate-write", call_and_report("DELEGATECALL", 100_000), static=True,
               accounts={B: writer})


def create_cases():
    runtime = assemble("42 0 MSTORE 32 0 RETURN")
    init = returning(runtime)
    put = store_in_memory(init)
    call_created = "0 0 32 0 0 DUP6 100000 CALL POP 0 MLOAD 32 MSTORE"
    yield case("create-and-call", asm(f"{put} {len(init)} 0 0 CREATE DUP1 0 MSTORE {call_created} 64 0 RETURN"))
    yield case("create2-and-call", asm(f"{put} 5 {len(init)} 0 0 CREATE2 DUP1 0 MSTORE {call_created} 64 0 RETURN"))
    yield case("create2-collision", asm(f"{put} 5 {len(init)} 0 0 CREATE2 0 MSTORE 5 {len(init)} 0 0 CREATE2 "
                                        "32 MSTORE RETURNDATASIZE 64 MSTORE 96 0 RETURN"))
    occupied = "0x" + generate_contract_address(bytes.fromhex(A[2:]), 1).hex()
    for name, account in {"nonce": {"nonce": "0x1"}, "code": {"code": "0x00"}}.items():
        yield case(f"create-collision-{name}", asm(f"{put} {len(init)} 0 0 CREATE 0 MSTORE 32 0 RETURN"),
                   accounts={occupied: account})
    yield case("create-with-value", asm(f"{put} {len(init)} 0 3 CREATE BALANCE 0 MSTORE SELFBALANCE 32 MSTORE 64 0 RETURN"),
               balance=10)
    yield case("create-value-over-balance", asm(f"{put} {len(init)} 0 100 CREATE 0 MSTORE 32 0 RETURN"), balance=10)
    for size in [49_152, 49_153]:
        yield case(f"create-initcode-{size}", asm(f"{size} 0 0 CREATE 0 MSTORE 32 0 RETURN"), gas=5_000_000)
        yield case(f"create2-initcode-{size}", asm(f"0 {size} 0 0 CREATE2 0 MSTORE 32 0 RETURN"), gas=5_000_000)
    for name, code_size, first in [("ef-prefix", 1, 0xEF), ("max-size", 24_576, 0), ("too-big", 24_577, 0)]:
        init_code = assemble(f"{first} 0 MSTORE8 {code_size} 0 RETURN")
        yield case(f"create-deploy-{name}", asm(f"{store_in_memory(init_code)} {len(init_code)} 0 0 CREATE 0 MSTORE 32 0 RETURN"),
                   gas=10_000_000)
    reverting = assemble(f"{store_in_memory(b'nope')} 4 0 REVERT")
    yield case("create-init-reverts", asm(f"{store_in_memory(reverting)} {len(reverting)} 0 0 CREATE 0 MSTORE "
                                          "RETURNDATASIZE 32 MSTORE 4 0 64 RETURNDATACOPY 96 0 RETURN"))
    big = returning(bytes(1000))
    for gas in [60_000, 150_000, 300_000]:
        yield case(f"create-deposit-gas-{gas}", asm(f"{store_in_memory(big)} {len(big)} 0 0 CREATE 0 MSTORE 32 0 RETURN"),
                   gas=gas)
    yield case("create-top-level", "0x", data="0x" + init.hex(), to=None)
    yield case("create-top-level-deposit-oog", "0x", data="0x" + big.hex(), to=None, gas=100_000)


def revert_and_selfdestruct_cases():
    reason = bytes.fromhex("08c379a0") + (32).to_bytes(32, "big") + (4).to_bytes(32, "big") + b"boom".ljust(32, b"\0")
    revert = assemble(f"{store_in_memory(reason)} {len(reason)} 0 REVERT")
    yield case("revert-reason", "0x" + revert.hex(), storage={})
    yield case("revert-reason-from-child", asm(f"1 0 SSTORE 0 0 0 0 0 {B} 100000 CALL POP RETURNDATASIZE 0 0 "
                                               "RETURNDATACOPY RETURNDATASIZE 0 RETURN"),
               accounts={B: contract("0x" + revert.hex())})
    yield case("revert-undoes-storage-and-logs", asm("1 0 SSTORE 0 0 LOG0 0 0 REVERT"), storage={0: 5})
    yield case("selfdestruct-existing", asm(f"{B} SELFDESTRUCT"), balance=1000, accounts={B: REPORTER})
    yield case("selfdestruct-to-self", asm("ADDRESS SELFDESTRUCT"), balance=1000)
    yield case("selfdestruct-to-missing", asm(f"{MISSING} SELFDESTRUCT"), balance=1000)
    yield case("selfdestruct-to-missing-no-balance", asm(f"{MISSING} SELFDESTRUCT"), balance=0)
    dies = assemble(f"{B} SELFDESTRUCT")
    yield case("selfdestruct-in-initcode", asm(f"{store_in_memory(dies)} {len(dies)} 0 5 CREATE 0 MSTORE 32 0 RETURN"),
               balance=100, accounts={B: REPORTER})
    killable = returning(dies)
    yield case("selfdestruct-created-then-called", asm(
        f"{store_in_memory(killable)} {len(killable)} 0 5 CREATE DUP1 0 MSTORE 0 0 0 0 0 DUP6 100000 CALL "
        "32 MSTORE EXTCODESIZE 64 MSTORE 96 0 RETURN"), balance=100, accounts={B: REPORTER})
    # B calls C, which self-destructs to A, then B reverts: C keeps its balance.
    c = "0x000000000000000000000000000000000000cccc"
    yield case("selfdestruct-then-revert", asm(f"0 0 0 0 0 {B} 100000 CALL 0 MSTORE 32 0 RETURN"),
               accounts={B: contract(asm(f"0 0 0 0 0 {c} 50000 CALL 0 0 REVERT")),
                         c: contract(asm(f"{A} SELFDESTRUCT"), balance=9)})


def precompile_inputs():
    key = keys.PrivateKey(bytes(range(1, 33)))
    digest = bytes(range(100, 132))
    sig = key.sign_msg_hash(digest)
    ecrecover = digest + (27 + sig.v).to_bytes(32, "big") + sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big")
    g1 = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    modexp = b"".join(n.to_bytes(32, "big") for n in (1, 1, 1)) + bytes([3, 5, 7])
    modexp_big = b"".join(n.to_bytes(32, "big") for n in (1, 32, 1)) + bytes([3]) + b"\xff" * 32 + bytes([9])
    infinity = b"\xc0" + bytes(47)
    point_zero = b"\x01" + hashlib.sha256(infinity).digest()[1:] + (5).to_bytes(32, "big") + bytes(32) + infinity + infinity
    blake = (12).to_bytes(4, "big") + bytes(range(64)) + bytes(range(128)) + bytes(16) + b"\x01"
    return {
        1: [ecrecover, ecrecover[:64] + bytes(64), b""],
        2: [b"abc", bytes(100)], 3: [b"abc", bytes(100)], 4: [bytes(range(100)), b""],
        5: [modexp, modexp_big, bytes(96)],
        6: [g1 + g1, g1 + bytes(64), g1 + (1).to_bytes(32, "big") + (3).to_bytes(32, "big")],
        7: [g1 + (3).to_bytes(32, "big"), g1 + bytes(32)],
        8: [b"", bytes(192), bytes(100)],
        9: [blake, blake[:-1] + b"\x02", blake[:100]],
        # The zero polynomial: its commitment and proof are the point at infinity, whatever the setup.
        10: [point_zero, point_zero[:32] + (1).to_bytes(32, "big") + (1).to_bytes(32, "big") + point_zero[96:], bytes(192), point_zero[:191]],
    }


def precompile_cases():
    for n, inputs in precompile_inputs().items():
        for i, data in enumerate(inputs):
            for gas in [MAX, 10, 700]:
                code = asm(f"{store_in_memory(data)} 256 0x400 {len(data)} 0 0x{n:02x} {gas} STATICCALL 0 MSTORE "
                           "RETURNDATASIZE 32 MSTORE GAS 64 MSTORE 256 0x400 96 MCOPY 352 0 RETURN")
                yield case(f"precompile-{n}-input{i}-gas{gas:x}", code)

    # 0x0a (point evaluation) is a precompile: warm from the start, with no code.
    yield case("point-evaluation-address", results(["GAS 0x0a BALANCE POP GAS SWAP1 SUB", "0x0a EXTCODEHASH"]))


def halt_cases():
    for op in [0x0C, 0x0F, 0x1E, 0x21, 0x4B, 0xA5, 0xB0, 0xEF, 0xF6, 0xFB, 0xFE]:
        yield case(f"invalid-opcode-{op:02x}", asm(f"1 0 SSTORE raw:{op:02x}"))
    yield case("stack-underflow-add", asm("1 ADD"))
    yield case("stack-underflow-pop", asm("POP"))
    yield case("stack-underflow-dup16", asm(" ".join(["PUSH0"] * 15) + " DUP16"))
    yield case("stack-underflow-swap16", asm(" ".join(["PUSH0"] * 16) + " SWAP16"))
    yield case("stack-1024-ok", asm(" ".join(["PUSH0"] * 1024) + " STOP"))
    yield case("stack-overflow", asm(":top JUMPDEST PUSH0 @top JUMP"))
    yield case("jump-not-jumpdest", asm("3 JUMP JUMPDEST STOP"))
    yield case("jump-into-push-data", asm("4 JUMP raw:605b STOP"))
    yield case("jump-past-end", asm("100 JUMP"))
    yield case("jumpi-bad-dest-false", asm("0 100 JUMPI 1 0 MSTORE 32 0 RETURN"))
    yield case("jumpi-bad-dest-true", asm("1 100 JUMPI"))
    yield case("jump-huge", asm(f"{MAX} JUMP"))
    yield case("loop-counted", asm("200 :top JUMPDEST 1 SWAP1 SUB DUP1 @top JUMPI GAS 0 MSTORE 32 0 RETURN"))


def all_cases() -> list:
    """Every hand-written case, ids unique."""
    from . import cases
    out = []
    for family in (cases.arithmetic_cases, cases.memory_cases, cases.copy_cases, cases.storage_cases,
                   cases.environment_cases, cases.oog_sweep_cases, call_cases, create_cases,
                   revert_and_selfdestruct_cases, precompile_cases, halt_cases):
        out.extend(family())
    ids = [c["id"] for c in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out
