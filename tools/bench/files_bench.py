#!/usr/bin/env python3
"""Files benchmark (scripts/bench.sh files): on one file of --size MiB (1,024 by default),
import throughput (`kramaa file add --only-hash`, and `kramaa file add` into a devnet) against
`sha256sum` of the same file, gateway download throughput against reading the file from disk,
CAR export throughput, and the importer's peak memory (/usr/bin/time -v). Writes the "Files"
section of BENCHMARKS.md (or of --out)."""
import argparse
import json
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
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks_md import write_section  # noqa: E402
from conftest import NodeProcess  # noqa: E402
from validators_support import Cluster, wait_until  # noqa: E402

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


def rest(port, method, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=None if body is None else json.dumps(body).encode(),
                                     method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def replication(binary, work, size):
    """Seconds to replicate a `size` MiB file from one validator to the 3 others of a 4-validator
    network on loopback (pin, then every holder fetched, stored durably and reported it), and
    seconds for `cp` + `sync` of the same file three times."""
    data = work / "replicate.bin"
    with open(data, "wb") as f:
        for _ in range(size):
            f.write(os.urandom(1 << 20))
    start = time.monotonic()
    for i in range(3):
        shutil.copyfile(data, work / f"copy-{i}.bin")
        subprocess.run(["sync", str(work / f"copy-{i}.bin")], check=True)
    t_copy = time.monotonic() - start
    cluster = Cluster(binary, work / "net", count=4, accounts=2).create()
    for v in cluster:
        v.extra_args = ["--files-heartbeat-interval", "1", "--files-quota", str(4 * size << 20)]
    cluster.start_all()
    try:
        port = cluster[0].rpc_port
        admin = cluster[0].rpc("eth_accounts")[0]
        rest(port, "POST", "/api/v1/organizations", {"from": admin, "name": "Bench"})
        for i in (1, 2, 3):
            rest(port, "POST", "/api/v1/storage-nodes", {"from": admin, "organization": 1, "node": cluster.addresses[i], "capacity": 8 * size << 20})
        wait_until(lambda: all(rest(port, "GET", f"/api/v1/storage-nodes/{cluster.addresses[i]}")["live"] for i in (1, 2, 3)), 60,
                   message="storage nodes live")
        out = subprocess.run([binary, "file", "add", str(data), "--rpc", f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
        cid = out.stdout.split()[-1]
        status = rest(port, "GET", f"/api/v1/store/status/{cid}")
        start = time.monotonic()
        rest(port, "POST", "/api/v1/files", {"from": admin, "cid": cid, "size": status["bytes"], "owner": {"organization": 1},
                                              "minReplicas": 3, "maxReplicas": 3})
        wait_until(lambda: sum(h["held"] for h in rest(port, "GET", f"/api/v1/files/{cid}")["holders"]) == 3, 900, interval=0.2,
                   message="three holders")
        t_replicate = time.monotonic() - start
    finally:
        cluster.kill_all()
    return t_replicate, t_copy


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--size", type=int, default=1024, help="MiB")
    parser.add_argument("--quick", action="store_true", help="64 MiB")
    parser.add_argument("--out", default="BENCHMARKS.md")
    parser.add_argument("--replicate-size", type=int, default=256, help="MiB replicated to 3 validators (--quick: 32)")
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
        replicated = 32 if args.quick else args.replicate_size
        t_replicate, t_copy = replication(args.binary, work, replicated)
        rate = lambda t: mib / t
        rows = [
            ("sha256sum (reference)", f"{rate(t_sha):.0f} MiB/s", ""),
            ("import, CID only (`kramaa file add --only-hash`)", f"{rate(t_hash):.0f} MiB/s", f"{t_sha / t_hash:.2f}× sha256sum; peak RSS {rss_hash / 1024:.0f} MiB"),
            ("import into a node (`kramaa file add`: upload, verify, fsync, pin)", f"{rate(t_add):.0f} MiB/s", f"{t_sha / t_add:.2f}× sha256sum; CLI peak RSS {rss_add / 1024:.0f} MiB"),
            ("read from disk (dd, page cache warm)", f"{rate(t_cat):.0f} MiB/s", ""),
            ("gateway download `GET /ipfs/{cid}`", f"{rate(t_get):.0f} MiB/s", f"{t_cat / t_get:.2f}× disk read"),
            ("CAR export `?format=car`", f"{n_car / (1 << 20) / t_car:.0f} MiB/s", f"{n_car} bytes"),
            (f"replicate {replicated} MiB to 3 other validators (pin → all three held, fsynced, reported)", f"{t_replicate:.1f} s",
             f"{t_replicate / t_copy:.2f}× `cp` + `sync` three times ({t_copy:.1f} s); goal ≤ 3×"),
        ]
        table = ["| measurement | throughput | note |", "|---|---:|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
        text = "\n".join([TITLE, "", f"Command: `scripts/bench.sh files`" + (" (--quick)" if args.quick else "") +
                          f"; one {size} MiB random file, default profile (CIDv1, raw leaves, 256 KiB chunks, 174 links).", "",
                          *table, ""]) + "\n"
        print(text)
        write_section(args.out, TITLE, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
