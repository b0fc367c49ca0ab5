#!/usr/bin/env python3
"""Files benchmark (scripts/bench.sh files): on one file of --size MiB (1,024 by default),
import throughput (`kramaa file add --only-hash`, and `kramaa file add` into a devnet) against
`sha256sum` of the same file, gateway download throughput against reading the file from disk,
CAR export throughput, and the importer's peak memory (/usr/bin/time -v). Writes the "Files"
section of BENCHMARKS.md (or of --out)."""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "python"))
from conftest import NodeProcess  # noqa: E402

TITLE = "## Files (content addressing, gateway)"


def timed(args, **kw):
    start = time.monotonic()
    out = subprocess.run(args, capture_output=True, text=True, check=True, **kw)
    return time.monotonic() - start, out


def peak_kib(args, env=None):
    out = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, check=True, env=env)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))


def download(url, chunk=1 << 20):
    start, total = time.monotonic(), 0
    with urllib.request.urlopen(url, timeout=600) as r:
        while True:
            b = r.read(chunk)
            if not b:
                break
            total += len(b)
    return time.monotonic() - start, total


def write_section(out, text):
    path = pathlib.Path(out)
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    if TITLE in doc:
        start = doc.index(TITLE)
        rest = doc[start + len(TITLE):]
        m = re.search(r"\n## ", rest)
        end = start + len(TITLE) + (m.start() + 1 if m else len(rest))
        doc = doc[:start] + text + ("\n" if m else "") + doc[end:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--size", type=int, default=1024, help="MiB")
    parser.add_argument("--quick", action="store_true", help="64 MiB")
    parser.add_argument("--out", default="BENCHMARKS.md")
    args = parser.parse_args()
    size = 64 if args.quick else args.size
    work = pathlib.Path(tempfile.mkdtemp(prefix="kramaa-files-bench-"))
    try:
        data = work / "data.bin"
        with open(data, "wb") as f:
            for _ in range(size):
                f.write(os.urandom(1 << 20))
        mib = size
        subprocess.run(["cat", str(data)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        t_sha, _ = timed(["sha256sum", str(data)])
        t_cat, _ = timed(["dd", f"if={data}", "of=/dev/null", "bs=1M"])
        t_hash, out = timed([args.binary, "file", "add", "--only-hash", str(data)])
        cid = out.stdout.split()[-1]
        rss_hash = peak_kib([args.binary, "file", "add", "--only-hash", str(data)])
        node = NodeProcess(args.binary, "devnet", work / "chain", ["--no-mqtt", "--files-quota", str(4 * size << 20)], log_dir=work)
        node.start()
        try:
            env = dict(os.environ, KRAMAA_RPC=node.url)
            start = time.monotonic()
            rss_add = peak_kib([args.binary, "file", "add", str(data)], env=env)
            t_add = time.monotonic() - start
            base = node.url.rstrip("/")
            t_get, n = download(f"{base}/ipfs/{cid}")
            assert n == size << 20
            t_car, n_car = download(f"{base}/ipfs/{cid}?format=car")
        finally:
            node.stop()
        rate = lambda t: mib / t
        rows = [
            ("sha256sum (reference)", f"{rate(t_sha):.0f} MiB/s", ""),
            ("import, CID only (`kramaa file add --only-hash`)", f"{rate(t_hash):.0f} MiB/s", f"{t_sha / t_hash:.2f}× sha256sum; peak RSS {rss_hash / 1024:.0f} MiB"),
            ("import into a node (`kramaa file add`: upload, verify, fsync, pin)", f"{rate(t_add):.0f} MiB/s", f"{t_sha / t_add:.2f}× sha256sum; CLI peak RSS {rss_add / 1024:.0f} MiB"),
            ("read from disk (dd, page cache warm)", f"{rate(t_cat):.0f} MiB/s", ""),
            ("gateway download `GET /ipfs/{cid}`", f"{rate(t_get):.0f} MiB/s", f"{t_cat / t_get:.2f}× disk read"),
            ("CAR export `?format=car`", f"{n_car / (1 << 20) / t_car:.0f} MiB/s", f"{n_car} bytes"),
        ]
        table = ["| measurement | throughput | note |", "|---|---:|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
        text = "\n".join([TITLE, "", f"Command: `scripts/bench.sh files`" + (" (--quick)" if args.quick else "") +
                          f"; one {size} MiB random file, default profile (CIDv1, raw leaves, 256 KiB chunks, 174 links).", "",
                          *table, ""]) + "\n"
        print(text)
        write_section(args.out, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
