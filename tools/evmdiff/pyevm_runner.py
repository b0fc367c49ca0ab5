"""Runs a `kramaa evm batch` case in py-evm's Cancun VM and reports the result in the same shape.

The VM is py-evm's Cancun with its precompiles (0x01-0x0a, point evaluation through c-kzg).

The case's message is applied directly with the Cancun computation's apply_message (or
apply_create_message without `to`), under the same rules as Kramaa's MessageRunner: the caller,
the called account, the coinbase and the precompiles start warm; no gas is bought and no nonce
bumped for a call; afterwards the transaction ends as py-evm ends one (self-destructed accounts
and touched empty accounts deleted) and the state root is taken.
"""
import time

from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI
from eth.constants import BLANK_ROOT_HASH, CREATE_CONTRACT_ADDRESS
from eth.db.atomic import AtomicDB
from eth.exceptions import InsufficientFunds, Revert, StackDepthLimit
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.cancun.computation import CANCUN_PRECOMPILES, CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth.vm.forks.cancun.transaction_context import CancunTransactionContext
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from eth.vm.message import Message
from eth_hash.auto import keccak

class EthereumSetComputation(CancunComputation):
    """Cancun with the precompiles of `kramaa evm batch --precompiles ethereum`: 0x01-0x0a."""

    _precompiles = dict(CANCUN_PRECOMPILES)


class EthereumSetState(CancunState):
    computation_class = EthereumSetComputation


DEFAULT_ENV = {
    "currentCoinbase": "0x00000000000000000000000000000000c014ba5e",
    "currentNumber": "0x1", "currentTimestamp": "0x3e8", "currentGasLimit": "0x1c9c380",
    "currentBaseFee": "0x7", "currentRandom": "0x0", "currentExcessBlobGas": "0x0",
}

# Shanghai's EIP-3860: 2 gas a word of init code. For a creating *transaction* Kramaa charges it as
# intrinsic gas (outside the message) and py-evm inside the top-level computation; the runner
# moves py-evm's charge out so both report the message's own gas.
INITCODE_WORD_GAS = 2


def quantity(value) -> int:
    """A JSON number or a 0x hex / decimal string."""
    if isinstance(value, int):
        return value
    return int(value, 16) if value.startswith(("0x", "0X")) else int(value)


def data(value) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def address(value) -> bytes:
    return data(value.lower())


def hex_quantity(n: int) -> str:
    return hex(n)


def build_state(case: dict):
    """A fresh CancunState holding the case's pre-state, committed (original storage = pre)."""
    env = {**DEFAULT_ENV, **case.get("env", {})}
    number = quantity(env["currentNumber"])
    # BLOCKHASH(n) = keccak256(decimal n) for the 256 blocks below, as Kramaa's runner answers.
    prev_hashes = [keccak(str(n).encode()) for n in range(number - 1, max(-1, number - 257), -1)]
    context = ExecutionContext(
        coinbase=address(env["currentCoinbase"]),
        timestamp=quantity(env["currentTimestamp"]),
        block_number=number,
        difficulty=0,
        mix_hash=quantity(env.get("currentRandom", "0x0")).to_bytes(32, "big"),
        gas_limit=quantity(env["currentGasLimit"]),
        prev_hashes=prev_hashes,
        chain_id=quantity(env.get("chainId", 1)),
        base_fee_per_gas=quantity(env.get("currentBaseFee", "0x0")),
        excess_blob_gas=quantity(env.get("currentExcessBlobGas", "0x0")),
    )
    state = EthereumSetState(AtomicDB(), context, BLANK_ROOT_HASH)
    for key, account in case.get("pre", {}).items():
        a = address(key)
        state.touch_account(a)
        state.set_balance(a, quantity(account.get("balance", 0)))
        state.set_nonce(a, quantity(account.get("nonce", 0)))
        state.set_code(a, data(account.get("code", "0x")))
        for slot, value in account.get("storage", {}).items():
            state.set_storage(a, quantity(slot), quantity(value))
    state.lock_changes()
    state.make_state_root()
    return state


def build_message(case: dict, state):
    """The py-evm Message and transaction context for the case (bumps the nonce for a create)."""
    msg = case["message"]
    caller = address(msg.get("caller", "0x" + "00" * 20))
    value = quantity(msg.get("value", 0))
    payload = data(msg.get("data", "0x"))
    gas = quantity(msg["gas"])
    tx = case.get("tx", {})
    context = CancunTransactionContext(
        gas_price=quantity(tx.get("gasPrice", "0x7")),
        origin=address(tx["origin"]) if "origin" in tx else caller,
        blob_versioned_hashes=[data(h) for h in tx.get("blobHashes", [])],
    )
    state.mark_address_warm(caller)
    if msg.get("to"):
        to = address(msg["to"])
        state.mark_address_warm(to)
        message = Message(gas=gas, to=to, sender=caller, value=value, data=payload, code=state.get_code(to),
                          code_address=to, is_static=bool(msg.get("static", False)))
        return message, context, 0
    nonce = state.get_nonce(caller)
    state.increment_nonce(caller)
    created = generate_contract_address(caller, nonce)
    state.mark_address_warm(created)
    extra = INITCODE_WORD_GAS * ((len(payload) + 31) // 32)
    message = Message(gas=gas + extra, to=CREATE_CONTRACT_ADDRESS, sender=caller, value=value, data=b"",
                      code=payload, create_address=created)
    return message, context, extra


def execute(case: dict):
    """Runs the case; returns (state, computation or the exception raised before it, gas moved out)."""
    state = build_state(case)
    message, context, extra = build_message(case, state)
    try:
        if message.is_create:
            if state.has_code_or_nonce(message.storage_address):
                return state, "contractAddressCollision", extra
            computation = EthereumSetComputation.apply_create_message(state, message, context)
        else:
            computation = EthereumSetComputation.apply_message(state, message, context)
    except (InsufficientFunds, StackDepthLimit) as error:
        return state, type(error).__name__, extra
    return state, computation, extra


def finish(state, computation: ComputationAPI) -> None:
    """End of transaction as py-evm's executor does it (without fees)."""
    for account in computation.get_accounts_for_deletion():
        state.delete_account(account)
    for account in collect_touched_accounts(computation):
        if state.account_exists(account) and state.account_is_empty(account):
            state.delete_account(account)
    state.lock_changes()


def run_case(case: dict, post_addresses=(), post_slots=None) -> dict:
    """The result of `case` in py-evm: status, reason, gasUsed, refund, output, logs, stateRoot, post.

    `post` covers `post_addresses` (plus the pre-state's accounts) and, per address, the slots in
    `post_slots` and in the pre-state: py-evm cannot list an account's storage.
    """
    state, computation, extra = execute(case)
    gas = quantity(case["message"]["gas"])
    if isinstance(computation, str):
        # Refused before any code ran: nothing consumed, nothing changed but a create's nonce.
        result = {"status": "failure", "reason": computation,
                  "gasUsed": gas if computation == "contractAddressCollision" else 0,
                  "refund": 0, "output": "0x", "logs": []}
        state.lock_changes()
    else:
        finish(state, computation)
        if computation.is_success:
            status, reason = "success", None
        elif isinstance(computation.error, Revert):
            status, reason = "revert", None
        else:
            status, reason = "failure", type(computation.error).__name__
        result = {
            "status": status, "reason": reason,
            "gasUsed": gas - computation.get_gas_remaining(),  # py-evm also charged `extra` from its gas + extra
            "refund": computation.get_gas_refund(),
            "output": "0x" + computation.output.hex(),
            "logs": [{"address": "0x" + a.hex(), "topics": ["0x" + t.to_bytes(32, "big").hex() for t in topics],
                      "data": "0x" + d.hex()} for a, topics, d in computation.get_log_entries()],
        }
        if computation.is_success and computation.msg.is_create:
            result["createdAddress"] = "0x" + computation.msg.storage_address.hex()
            # py-evm leaves the deployed code in a successful create's output; Kramaa reports the
            # return data a creator sees, which is empty after a successful create. The code
            # itself is compared in `post`.
            result["output"] = "0x"
    result["stateRoot"] = "0x" + state.make_state_root().hex()
    result["post"] = post_state(state, case, post_addresses, post_slots or {})
    return result


def post_state(state, case, addresses, slots) -> dict:
    pre = {k.lower(): v for k, v in case.get("pre", {}).items()}
    post = {}
    for key in sorted(set(a.lower() for a in addresses) | set(pre)):
        a = address(key)
        if not state.account_exists(a):
            post[key] = None
            continue
        keys = {quantity(s) for s in pre.get(key, {}).get("storage", {})} | {quantity(s) for s in slots.get(key, ())}
        storage = {hex_quantity(s): hex_quantity(v) for s in sorted(keys) if (v := state.get_storage(a, s))}
        post[key] = {"balance": hex_quantity(state.get_balance(a)), "nonce": hex_quantity(state.get_nonce(a)),
                     "code": "0x" + state.get_code(a).hex(), "storage": storage}
    return post


def timed_run(case: dict, seconds: float):
    """Runs `case` again and again for about `seconds`: (runs, gas used per run, elapsed seconds)."""
    runs, start, gas_used = 0, time.perf_counter(), 0
    while True:
        state, computation, extra = execute(case)
        if isinstance(computation, str):
            raise RuntimeError(f"py-evm refused the message: {computation}")
        if computation.is_error and not isinstance(computation.error, Revert):
            raise RuntimeError(f"py-evm: the message failed: {computation.error!r}")
        gas_used = quantity(case["message"]["gas"]) - computation.get_gas_remaining()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return runs, gas_used, elapsed
