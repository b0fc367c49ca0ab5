#!/usr/bin/env python3
"""MQTT benchmark (scripts/bench.sh messaging): QoS 1 throughput and latency between two
clients through mosquitto 2 (Debian's, started here) and through Kramaa's MQTT server (one
node; two validators of a 4-validator devnet), with the same load generator in the same run;
then Kramaa with every message a device envelope signed by its P-256 key and verified by the
node on the recipient's inbox; then idle connections on one node (RSS per connection).

The load generator speaks MQTT 5 over raw sockets (no client library in the way): a publisher
process keeps a window of QoS 1 PUBLISHes in flight, a subscriber process acknowledges what
it receives; latency is the subscriber's arrival time minus the publisher's send time of the
same message (CLOCK_MONOTONIC, shared by processes on one machine). Writes its section of
BENCHMARKS.md (or of --out)."""
import argparse
import multiprocessing as mp
import os
import pathlib
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks_md import write_section  # noqa: E402


# -- MQTT 5 over a socket ----------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string(b):
    b = b.encode() if isinstance(b, str) else b
    return len(b).to_bytes(2, "big") + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect_packet(client_id, user=None, password=None):
    flags = 0x02 | (0x80 if user else 0) | (0x40 if password else 0)
    body = string("MQTT") + b"\x05" + bytes([flags]) + (60).to_bytes(2, "big") + b"\x00" + string(client_id)
    if user:
        body += string(user)
    if password:
        body += string(password)
    return packet(0x10, body)


class Connection:
    def __init__(self, port, client_id, user=None, password=None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.sock.sendall(connect_packet(client_id, user, password))
        kind, body = self.read()
        assert kind >> 4 == 2 and body[1] == 0, f"CONNACK {body.hex()}"

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        self.buffer += chunk

    def packets(self):
        """Every whole packet in the buffer (reading once if there is none)."""
        out = []
        while not out:
            at = 0
            while True:
                if at + 2 > len(self.buffer):
                    break
                length, shift, i = 0, 0, at + 1
                while True:
                    if i >= len(self.buffer):
                        length = None
                        break
                    b = self.buffer[i]
                    length |= (b & 0x7F) << shift
                    shift += 7
                    i += 1
                    if not b & 0x80:
                        break
                if length is None or i + length > len(self.buffer):
                    break
                out.append((self.buffer[at], bytes(self.buffer[i:i + length])))
                at = i + length
            del self.buffer[:at]
            if not out:
                self.fill()
        return out

    def read(self):
        while True:
            got = self.packets()
            first = got[0]
            self.buffer[:0] = b"".join(bytes([k]) + varint(len(b)) + b for k, b in got[1:])
            return first

    def subscribe(self, topic):
        self.sock.sendall(packet(0x82, (1).to_bytes(2, "big") + b"\x00" + string(topic) + b"\x01"))
        kind, body = self.read()
        assert kind >> 4 == 9 and body[-1] == 1, f"SUBACK {body.hex()}"


def publisher(port, client_id, user, password, topic, payloads, window, rate, sends, start):
    """Publishes payloads[i] (QoS 1, packet id i % 65535 + 1), at most `window` unacknowledged,
    paced to `rate` messages/s when given; records each send time in `sends`."""
    c = Connection(port, client_id, user, password)
    head = string(topic)
    start.wait()
    outstanding, i, n, refused = 0, 0, len(payloads), 0
    t0 = time.perf_counter()
    while i < n or outstanding:
        batch = bytearray()
        now = time.perf_counter() - t0
        while i < n and outstanding < window and (not rate or i / rate <= now):
            pid = i % 65535 + 1
            sends[i] = time.perf_counter_ns()
            batch += packet(0x32, head + pid.to_bytes(2, "big") + b"\x00" + payloads[i])
            outstanding += 1
            i += 1
        if batch:
            c.sock.sendall(batch)
        # Wait for acknowledgements, or (paced) until the next message is due.
        timeout = None if not rate or i >= n else max(0.0, i / rate - (time.perf_counter() - t0))
        if outstanding and (c.buffer or select.select([c.sock], [], [], timeout)[0]):
            for kind, body in c.packets():
                if kind >> 4 == 4:
                    outstanding -= 1
                    refused += len(body) > 2 and body[2] >= 0x80
        elif not outstanding and timeout:
            time.sleep(timeout)
    assert refused == 0, f"{refused} publications refused"


def subscriber(port, client_id, user, password, topic, n, arrivals, ready):
    c = Connection(port, client_id, user, password)
    c.subscribe(topic)
    ready.set()
    got = 0
    while got < n:
        acks = bytearray()
        for kind, body in c.packets():
            if kind >> 4 != 3:
                continue
            arrivals[got] = time.perf_counter_ns()
            got += 1
            tlen = int.from_bytes(body[:2], "big")
            acks += b"\x40\x02" + body[2 + tlen:4 + tlen]
        if acks:
            c.sock.sendall(acks)


def run_load(pub_port, sub_port, payloads, rate=None, window=256, pub_auth=(None, None), sub_auth=(None, None), topic="bench/load",
             sub_topic=None):
    """(messages/s, p50 ms, p99 ms) of one run."""
    n = len(payloads)
    sends, arrivals = mp.Array("q", n, lock=False), mp.Array("q", n, lock=False)
    ready, start = mp.Event(), mp.Event()
    tag = f"{os.getpid()}-{time.time_ns()}"
    sub = mp.Process(target=subscriber, args=(sub_port, f"bench-sub-{tag}", *sub_auth, sub_topic or topic, n, arrivals, ready))
    sub.start()
    assert ready.wait(20), "the subscriber did not subscribe"
    pub = mp.Process(target=publisher, args=(pub_port, f"bench-pub-{tag}", *pub_auth, topic, payloads, window, rate, sends, start))
    pub.start()
    time.sleep(0.3)
    start.set()
    pub.join(300)
    sub.join(60)
    assert pub.exitcode == 0 and sub.exitcode == 0, f"load generator failed: publisher {pub.exitcode}, subscriber {sub.exitcode}"
    latencies = sorted((arrivals[i] - sends[i]) / 1e6 for i in range(n))
    elapsed = (max(arrivals[:]) - min(sends[:])) / 1e9
    return n / elapsed, statistics.median(latencies), latencies[int(0.99 * (n - 1))]


# -- the brokers --------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_mosquitto(tmp):
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n")
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    version = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[0]
    return proc, port, version


def start_devnet(binary, tmp, validators):
    base = free_port()
    while any(not port_free(p) for p in range(base, base + 4 * validators)):
        base = free_port()
    args = [binary, "devnet", "--datadir", str(tmp / f"net{validators}"), "--fresh", "--validators", str(validators),
            "--rpc-port", str(base), "--p2p-port", str(base + validators), "--mqtt-port", str(base + 2 * validators),
            "--mqtt-ws-port", str(base + 3 * validators), "--mqtt-allow-anonymous", "--accounts", "3", "--quiet"]
    out = open(tmp / f"devnet{validators}.out", "wb")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.time() + 90
    while "==== kramaa devnet ready" not in (tmp / f"devnet{validators}.out").read_text(errors="replace"):
        assert proc.poll() is None and time.time() < deadline, (tmp / f"devnet{validators}.out").read_text()[-2000:]
        time.sleep(0.2)
    time.sleep(1.5)
    return proc, base, base + 2 * validators


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_kib(pid):
    return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0])


def node_pid(datadir):
    out = subprocess.check_output(["pgrep", "-f", f"datadir {datadir}"]).split()
    return int(out[0])


def idle_connections(port, pid, count):
    before = rss_kib(pid)
    t0 = time.perf_counter()
    socks = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(connect_packet(f"idle-{i}"))
        socks.append(s)
    for s in socks:
        assert s.recv(64)[0] == 0x20
    elapsed = time.perf_counter() - t0
    after = rss_kib(pid)
    for s in socks:
        s.close()
    return elapsed, before, after


# -- device envelopes ---------------------------------------------------------------------------

def register_devices(binary, rpc, tmp):
    """Two P-256 devices of one organisation; their key files, addresses and MQTT tokens."""
    def kramaa(*args):
        return subprocess.run([binary, *args, "--rpc", rpc], capture_output=True, text=True, check=True).stdout

    subprocess.run([binary, "keys", "new", "--type", "p256", "--out", str(tmp / "sender.json")], check=True, capture_output=True)
    subprocess.run([binary, "keys", "new", "--type", "p256", "--out", str(tmp / "receiver.json")], check=True, capture_output=True)
    kramaa("org", "create", "--name", f"Bench {time.time_ns()}", "--from", "dev0")
    import json
    devices = []
    for name in ("sender", "receiver"):
        record = json.loads(kramaa("device", "register", "--org", "1", "--key", str(tmp / f"{name}.json"), "--model", "bench", "--from", "dev0"))
        token = kramaa("device", "mqtt-token", "--key", str(tmp / f"{name}.json"), "--ttl", "3600").strip().splitlines()[-1]
        devices.append((tmp / f"{name}.json", record["device"].lower(), token))
    return devices


def envelopes(key_file, recipient, n, first_sequence):
    from envelope_support import Signer, signed_envelope
    signer = Signer.from_key_file(key_file)
    to = bytes.fromhex(recipient[2:])
    now = int(time.time() * 1000)
    return [signed_envelope(signer, to, first_sequence + i, now, "application/octet-stream", b"x" * 32) for i in range(n)]


# -- report -------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="small counts (the smoke run)")
    parser.add_argument("--messages", type=int, help="messages per load run (default 50,000; --quick 2,000)")
    parser.add_argument("--idle", type=int, help="idle connections (default 10,000; --quick 500)")
    args = parser.parse_args()
    n = args.messages or (2_000 if args.quick else 50_000)
    idle = args.idle or (500 if args.quick else 10_000)
    # Idle connections need descriptors here and in the node (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = idle + 1_000
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(f"--idle {idle} needs {want} open files; the hard limit is {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kramaa-mqtt-bench-"))
    plain = [b"p" * 64] * n
    rows, notes = [], []
    mosq, mport, mversion = start_mosquitto(tmp)
    single = net = None
    try:
        ref_rate, ref_p50, ref_p99 = run_load(mport, mport, plain)
        ref_half = run_load(mport, mport, plain[: n // 2], rate=ref_rate / 2)
        single, _, kport = start_devnet(args.binary, tmp, 1)
        rate, p50, p99 = run_load(kport, kport, plain)
        rows.append((f"QoS 1, two clients on one node ({n} messages of 64 B)", f"{rate / 1e3:.1f} k msg/s",
                     f"{mversion}: {ref_rate / 1e3:.1f} k msg/s", rate / ref_rate, "≥ 1.0"))
        half = run_load(kport, kport, plain[: n // 2], rate=ref_rate / 2)
        rows.append((f"latency p50 / p99 at half of mosquitto's rate ({ref_rate / 2e3:.1f} k msg/s), one node",
                     f"{half[1]:.2f} / {half[2]:.2f} ms", f"mosquitto: {ref_half[1]:.2f} / {ref_half[2]:.2f} ms",
                     ref_half[2] / half[2] if half[2] else 0, "p99 < 50 ms"))
        rpc = f"http://127.0.0.1:{open_rpc_port(tmp, 1)}"
        (skey, saddr, stoken), (_, raddr, rtoken) = register_devices(args.binary, rpc, tmp)
        signed = envelopes(skey, raddr, n, 1)
        erate, ep50, ep99 = run_load(kport, kport, signed, pub_auth=(saddr, stoken), sub_auth=(raddr, rtoken),
                                     topic=f"devices/{raddr}/inbox")
        rows.append((f"QoS 1 device envelopes, P-256 signed, verified by the node on the inbox ({n}, one node)",
                     f"{erate / 1e3:.1f} k msg/s", f"{mversion}, plain: {ref_rate / 1e3:.1f} k msg/s", erate / ref_rate, ""))
        elapsed, before, after = idle_connections(kport, node_pid(tmp / "net1"), idle)
        rows.append((f"{idle} idle MQTT 5 connections on one node", f"{(after - before) / idle:.1f} KiB RSS each",
                     f"connected in {elapsed:.1f} s; RSS {before / 1024:.0f} → {after / 1024:.0f} MiB", 0, "bounded"))
        stop(single)
        single = None
        net, base, mqtt_base = start_devnet(args.binary, tmp, 4)
        frate, fp50, fp99 = run_load(mqtt_base + 1, mqtt_base, plain)
        rows.append((f"QoS 1 across validators: publisher on validator 1, subscriber on validator 0 ({n})",
                     f"{frate / 1e3:.1f} k msg/s", f"mosquitto, one broker: {ref_rate / 1e3:.1f} k msg/s", frate / ref_rate, "≥ 0.5"))
        fhalf = run_load(mqtt_base + 1, mqtt_base, plain[: n // 2], rate=ref_rate / 2)
        rows.append((f"latency p50 / p99 across validators at half of mosquitto's rate",
                     f"{fhalf[1]:.2f} / {fhalf[2]:.2f} ms", f"mosquitto: {ref_half[1]:.2f} / {ref_half[2]:.2f} ms",
                     ref_half[2] / fhalf[2] if fhalf[2] else 0, "p99 < 50 ms"))
    finally:
        for p in (mosq, single, net):
            if p is not None:
                stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    table = ["| benchmark | ours | reference (same run) | ratio | goal |", "|---|---|---|---|---|"]
    for name, ours, ref, ratio, goal in rows:
        table.append(f"| {name} | {ours} | {ref} | {ratio:.2f} | {goal} |" if ratio else f"| {name} | {ours} | {ref} | n/a | {goal} |")
    cpu = subprocess.run(["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo"], capture_output=True, text=True).stdout.split("\n")
    text = "\n".join([
        "## Messaging (MQTT)", "", "Command: `scripts/bench.sh messaging`" + (" (--quick)" if args.quick else ""), "", *table, "",
        "- One load generator for both brokers (tools/bench/mqtt_bench.py): MQTT 5 over raw sockets, a publisher process keeping 256 QoS 1 "
        "PUBLISHes in flight and a subscriber process acknowledging each; latency = arrival − send of the same message (CLOCK_MONOTONIC). "
        "Broker and both clients share the machine's cores. mosquitto runs without persistence; Kramaa's anonymous clients are clean sessions "
        "(nothing journaled), the device run authenticates both devices with tokens and checks every envelope (P-256 signature, sender key from "
        "the registry, replay guard).",
        "- Across validators: each message is relayed once over the validators' TLS peer connection from the publisher's node to the "
        "subscriber's (the subscriber's filter announced by federation).",
        f"- Ratio for latency rows: mosquitto's p99 / ours (above 1: ours lower).", "",
        f"Measured on {cpu[0]} × {cpu[1].split(':')[-1].strip()}, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}.", ""])
    write_section(args.out, "## Messaging (MQTT)", text)
    print(text)


def open_rpc_port(tmp, validators):
    text = (tmp / f"devnet{validators}.out").read_text(errors="replace")
    return int(re.search(r"JSON-RPC http://127\.0\.0\.1:(\d+)", text).group(1))


if __name__ == "__main__":
    main()
