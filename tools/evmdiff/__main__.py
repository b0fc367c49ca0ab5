"""`python -m evmdiff --cases N --seed S`: random cases from kramaa-evmfuzz's generator, run by
`kramaa evm batch` and by py-evm; prints the seed, counts, and both results of every mismatch.
Case i of a run uses program seed S+i, so `--cases 1 --seed S+i` replays it alone."""
import argparse
import json
import pathlib
import sys
import time

from . import compare
from .cases_calls import all_cases

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(prog="evm-diff", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="random cases to run")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 1_000_000, help="first program seed")
    parser.add_argument("--hand", action="store_true", help="also run the hand-written cases")
    parser.add_argument("--kramaa", default=str(ROOT / ".build/release/kramaa"))
    parser.add_argument("--fuzz", default=str(ROOT / ".build/release/kramaa-evmfuzz"))
    parser.add_argument("--chunk", type=int, default=2_000, help="cases per kramaa process")
    args = parser.parse_args()
    print(f"evm-diff: seed {args.seed}, {args.cases} random cases (case i = program seed {args.seed}+i)", flush=True)
    start, total, mismatches = time.time(), 0, 0
    batches = [all_cases()] if args.hand else []
    for first in range(0, args.cases, args.chunk):
        batches.append(compare.emit_random_cases(args.fuzz, min(args.chunk, args.cases - first), args.seed + first))
    for batch in batches:
        for case, ours, theirs, diff in compare.compare_all(args.kramaa, batch):
            total += 1
            if diff:
                mismatches += 1
                print(f"MISMATCH {case['id']}:\n  " + "\n  ".join(diff))
                print(f"  case:   {json.dumps(case, separators=(',', ':'))}")
                print(f"  kramaa: {json.dumps(ours, separators=(',', ':'))}")
                print(f"  py-evm: {json.dumps(theirs, separators=(',', ':'))}", flush=True)
    elapsed = time.time() - start
    print(f"seed {args.seed}: {total} cases in {elapsed:.1f} s, {mismatches} mismatches")
    print(f"{total - mismatches} passed, {mismatches} failed")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
