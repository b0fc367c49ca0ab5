#!/usr/bin/env python3
"""Files benchmark (scripts/bench.sh files): on one file of --size MiB (1,024 by default),
import throughput (`kramaa file add --only-hash`, and `kramaa file add` into a devnet) against
`sha256sum` of the same file (with a durable `dd` write as the disk's reference), gateway
download throughput (curl and a Python reader) against reading the file from disk (page cache
bypassed and warm) and against a sendfile(2) server (the loopback TCP ceiling), CAR export
throughput, and the importer's peak memory (/usr/bin/time -v). Writes the "Files"
section of BENCHMARKS.md (or of --out)."""
import argparse
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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


def random_file(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    return path


def curl_download(url, expected):
    """Seconds for curl to fetch `url` into /dev/null (a native reader, as users run)."""
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url], capture_output=True, text=True, check=True)
    size, seconds = out.stdout.split()
    assert int(size) == expected, out.stdout
    return float(seconds)


def sendfile_ceiling(path):
    """Seconds for curl to fetch the file from a minimal HTTP server that hands it to the
    kernel with sendfile(2): what loopback TCP carries on this machine, with no server work."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    size = os.path.getsize(path)

    def serve():
        connection, _ = listener.accept()
        with connection, open(path, "rb") as f:
            connection.recv(65536)
            connection.sendall(f"HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n".encode())
            connection.sendfile(f)

    server = threading.Thread(target=serve)
    server.start()
    try:
        return curl_download(f"http://127.0.0.1:{listener.getsockname()[1]}/", size)
    finally:
        server.join()
        listener.close()


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
        data = random_file(work / "data.bin", size)
        mib = size
        subprocess.run(["cat", str(data)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        t_sha, _ = timed(["sha256sum", str(data)])
        t_cat, _ = timed(["dd", f"if={data}", "of=/dev/null", "bs=1M"])
        t_direct, _ = timed(["dd", f"if={data}", "of=/dev/null", "bs=1M", "iflag=direct"])
        t_durable, _ = timed(["dd", f"if={data}", f"of={work / 'durable-copy.bin'}", "bs=1M", "conv=fsync"])
        (work / "durable-copy.bin").unlink()
        t_tcp = sendfile_ceiling(data)
        t_hash, out = timed([args.binary, "file", "add", "--only-hash", str(data)])
        cid = out.stdout.split()[-1]
        rss_hash = peak_kib([args.binary, "file", "add", "--only-hash", str(data)])
        # Three imports of three different files of the same size: the shared disk's sync times
        # swing from run to run, so the median is reported with the range.
        others = [data] + [random_file(work / f"data-{i}.bin", size) for i in (2, 3)]
        node = NodeProcess(args.binary, "devnet", work / "chain", ["--no-mqtt", "--files-quota", str(8 * size << 20)], log_dir=work)
        node.start()
        try:
            env = dict(os.environ, KRAMAA_RPC=node.url)
            t_adds, rss_add = [], 0
            for path in others:
                subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
                start = time.monotonic()
                rss_add = max(rss_add, peak_kib([args.binary, "file", "add", str(path)], env=env))
                t_adds.append(time.monotonic() - start)
            t_add = sorted(t_adds)[1]
            base = node.url.rstrip("/")
            t_get, n = download(f"{base}/ipfs/{cid}")
            assert n == size << 20
            t_curl = curl_download(f"{base}/ipfs/{cid}", size << 20)
            t_car, n_car = download(f"{base}/ipfs/{cid}?format=car")
        finally:
            node.stop()
        replicated = 32 if args.quick else args.replicate_size
        t_replicate, t_copy = replication(args.binary, work, replicated)
        rate = lambda t: mib / t
        import_goal = t_sha / t_add >= 0.5
        gateway_goal = t_direct / t_curl >= 0.5
        rows = [
            ("sha256sum (reference)", f"{rate(t_sha):.0f} MiB/s", ""),
            ("import, CID only (`kramaa file add --only-hash`)", f"{rate(t_hash):.0f} MiB/s", f"{t_sha / t_hash:.2f}× sha256sum; peak RSS {rss_hash / 1024:.0f} MiB"),
            ("import into a node (`kramaa file add`: upload, verify, fsync, pin), median of 3", f"{rate(t_add):.0f} MiB/s",
             f"{t_sha / t_add:.2f}× sha256sum (runs {', '.join(f'{rate(t):.0f}' for t in t_adds)} MiB/s); CLI peak RSS {rss_add / 1024:.0f} MiB; goal ≥ 0.5×"),
            ("durable write of the same file (`dd conv=fsync`, reference)", f"{rate(t_durable):.0f} MiB/s", "what this run's disk allows for data that must be on disk"),
            ("read from disk, page cache bypassed (`dd iflag=direct`)", f"{rate(t_direct):.0f} MiB/s", ""),
            ("read from disk, page cache warm (`dd`)", f"{rate(t_cat):.0f} MiB/s", "a memory copy"),
            ("loopback TCP ceiling: the file sent with sendfile(2) to `curl`", f"{rate(t_tcp):.0f} MiB/s", "no HTTP server work at all"),
            ("gateway download `GET /ipfs/{cid}` to `curl`", f"{rate(t_curl):.0f} MiB/s",
             f"{t_direct / t_curl:.2f}× the direct disk read (goal ≥ 0.5×); {t_tcp / t_curl:.2f}× the TCP ceiling; {t_cat / t_curl:.2f}× a page-cache read"),
            ("gateway download to a Python reader (urllib, 1 MiB reads)", f"{rate(t_get):.0f} MiB/s", f"{t_cat / t_get:.2f}× a page-cache read"),
            ("CAR export `?format=car`", f"{n_car / (1 << 20) / t_car:.0f} MiB/s", f"{n_car} bytes"),
            (f"replicate {replicated} MiB to 3 other validators (pin → all three held, fsynced, reported)", f"{t_replicate:.1f} s",
             f"{t_replicate / t_copy:.2f}× `cp` + `sync` three times ({t_copy:.1f} s); goal ≤ 3×"),
        ]
        notes = [
            f"- Goals in this run: import ≥ 0.5× sha256sum {'met' if import_goal else 'not met'} ({t_sha / t_add:.2f}×); "
            f"gateway ≥ 0.5× reading the file from disk {'met' if gateway_goal else 'not met'} ({t_direct / t_curl:.2f}× `dd iflag=direct`), "
            f"at {t_tcp / t_curl:.2f}× of what loopback TCP carries here" +
            (f" (half a page-cache read, {rate(t_cat) / 2:.0f} MiB/s, is beyond what loopback TCP carries on this machine); " if rate(t_tcp) < rate(t_cat) / 2 else "; ") +
            f"replication ≤ 3× {'met' if t_replicate / t_copy <= 3 else 'not met'}; importer memory < 64 MiB {'met' if max(rss_hash, rss_add) < 64 << 10 else 'not met'}.",
            "- Import into a node: every block is checked against its CID and appended to the upload's pack file (O_DIRECT), each upload batch of about 2 MiB made durable with one fdatasync before it is acknowledged (docs/DATA.md); the durable-write row is the disk's own rate in the same run.",
            f"- Measured on {os.cpu_count()} cores, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.",
        ]
        table = ["| measurement | throughput | note |", "|---|---:|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
        text = "\n".join([TITLE, "", f"Command: `scripts/bench.sh files`" + (" (--quick)" if args.quick else "") +
                          f"; one {size} MiB random file, default profile (CIDv1, raw leaves, 256 KiB chunks, 174 links).", "",
                          *table, "", *notes, ""]) + "\n"
        print(text)
        write_section(args.out, TITLE, text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
