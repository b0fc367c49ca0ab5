#!/usr/bin/env python3
"""py-evm's execution speed on an evm-benchmarks fixture, as a reference for Kramaa's benchmarks.

    tools/bench/pyevm_gas_rate.py FIXTURE.json --data-index I [--seconds S]

Runs the fixture's transaction calldata variant I as a message from the sender to the contract in
`pre` (gas limit and value from the fixture; Cancun rules, see tools/evmdiff/pyevm_runner.py),
repeatedly for at least S seconds (at least once), and prints one JSON line:
{"gasUsed": gas of one run, "seconds": time per run, "gasPerSecond": ..., "runs": ...}.
"""
import argparse
import json
import pathlib
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from evmdiff import pyevm_runner  # noqa: E402


def message_case(fixture: dict, data_index: int) -> dict:
    """The fixture's single test as a `kramaa evm batch` case (also what pyevm_runner runs)."""
    if len(fixture) != 1:
        raise SystemExit(f"error: expected one test in the fixture, found {len(fixture)}")
    (name, test), = fixture.items()
    tx = test["transaction"]
    if not 0 <= data_index < len(tx["data"]):
        raise SystemExit(f"error: --data-index {data_index} out of range: {name} has {len(tx['data'])} data variants")
    env = {k: v for k, v in test["env"].items() if k.startswith("current")}
    return {
        "id": f"{name}[{data_index}]",
        "pre": test["pre"],
        "env": env,
        "tx": {"gasPrice": tx.get("gasPrice", "0x0"), "origin": tx["sender"]},
        "message": {"caller": tx["sender"], "to": tx["to"], "data": tx["data"][data_index],
                    "gas": tx["gasLimit"][0], "value": tx["value"][0]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixture", type=pathlib.Path)
    parser.add_argument("--data-index", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5.0, help="minimum time to run (default 5)")
    args = parser.parse_args()
    try:
        fixture = json.loads(args.fixture.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: cannot read fixture {args.fixture}: {error}")
    case = message_case(fixture, args.data_index)
    warnings.simplefilter("ignore", DeprecationWarning)
    runs, gas_used, elapsed = pyevm_runner.timed_run(case, args.seconds)
    per_run = elapsed / runs
    print(json.dumps({"gasUsed": gas_used, "seconds": round(per_run, 6),
                      "gasPerSecond": round(gas_used / per_run), "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
