#!/usr/bin/env python3
"""Chaos benchmark on real processes (`scripts/bench.sh chaos [--minutes N] [--seed S]`): four
`kramaa node` validators under load from several senders, one killed -9 every few seconds (half
of the kills right after it acknowledged a transaction) and restarted, for minutes; then every
acknowledged transaction must be included on every node, with no fork and one state root.
The same code as the short test in tests/python/test_pool_journal.py (tests/python/chaos_support.py)."""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from chaos_support import run_chaos  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the kills go on (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the victims and timings (default random)")
    parser.add_argument("--senders", type=int, default=6, help="senders of the load (default 6)")
    parser.add_argument("--rate", type=float, default=150.0, help="transactions per second the load aims at (default 150)")
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "kramaa"), help="the kramaa binary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kramaa-chaos-") as directory:
        try:
            summary = run_chaos(args.binary, pathlib.Path(directory) / "net", seconds=args.minutes * 60, senders=args.senders,
                                rate=args.rate, seed=args.seed, log=lambda line: print(line, flush=True))
        except AssertionError as e:
            print(f"chaos: FAILED: {e}", file=sys.stderr)
            return 1
    print(f"chaos: passed: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
