"""Runs cases through `kramaa evm batch` and py-evm, and compares the results field by field."""
import json
import subprocess

from . import pyevm_runner

# Fields compared exactly. `reason` is not: the two name their errors differently.
FIELDS = ("status", "gasUsed", "refund", "output", "logs", "createdAddress")


def run_kramaa(kramaa_bin: str, cases: list, timeout: float = 600) -> list:
    """One `kramaa evm batch --precompiles ethereum` process for all cases; one result each."""
    text = "".join(json.dumps(c, separators=(",", ":")) + "\n" for c in cases)
    proc = subprocess.run([kramaa_bin, "evm", "batch", "--precompiles", "ethereum"], input=text,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"kramaa evm batch exited {proc.returncode}: {proc.stderr[-2000:]}")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(results) != len(cases):
        raise RuntimeError(f"kramaa evm batch gave {len(results)} results for {len(cases)} cases")
    return results


def run_pyevm(case: dict, kramaa_result: dict) -> dict:
    """py-evm's result, with post-state for the accounts and slots Kramaa reported."""
    post = kramaa_result.get("post", {})
    slots = {a: list((acct or {}).get("storage", {})) for a, acct in post.items()}
    return pyevm_runner.run_case(case, post_addresses=list(post), post_slots=slots)


def differences(ours: dict, theirs: dict) -> list:
    """Human-readable differences between a Kramaa result and a py-evm result (empty when equal)."""
    if "error" in ours:
        return [f"kramaa refused the case: {ours['error']}"]
    out = []
    for field in FIELDS:
        if ours.get(field) != theirs.get(field):
            out.append(f"{field}: kramaa {ours.get(field)!r} py-evm {theirs.get(field)!r}")
    # Kramaa lists the accounts the message read or wrote; any other change shows in the state root.
    for key in sorted(ours.get("post", {})):
        a, b = ours.get("post", {}).get(key), theirs.get("post", {}).get(key)
        if a != b:
            out.append(f"post[{key}]: kramaa {a!r} py-evm {b!r}")
    if ours.get("stateRoot") != theirs.get("stateRoot"):
        out.append(f"stateRoot: kramaa {ours.get('stateRoot')} py-evm {theirs.get('stateRoot')}")
    return out


def compare_all(kramaa_bin: str, cases: list):
    """Yields (case, kramaa result, py-evm result, differences) for every case."""
    for case, ours in zip(cases, run_kramaa(kramaa_bin, cases)):
        theirs = run_pyevm(case, ours)
        yield case, ours, theirs, differences(ours, theirs)


def emit_random_cases(fuzz_bin: str, count: int, seed: int) -> list:
    """`count` random cases from kramaa-evmfuzz's generator (program i uses seed + i)."""
    proc = subprocess.run([fuzz_bin, "--emit", str(count), "--seed", str(seed)], capture_output=True, text=True,
                          timeout=600, check=True)
    return [json.loads(line) for line in proc.stdout.splitlines()]
